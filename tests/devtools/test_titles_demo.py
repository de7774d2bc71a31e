"""`generate_demo` also fills titles: last year decided, this year registered and evaluated."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from devtools.titles_demo import titles_demo_generate
from registry.models import Entity, Kind
from titles.models import (
    Certificate,
    Decision,
    Override,
    Registration,
    RegistrationEvent,
    RegistrationWindow,
    Rollup,
    State,
)
from titles.selectors import recognised_list
from titles.services.rollups import rollup_verify

PROVINCE = "12"  # Lai Châu: few wards, quick to generate


def generate(seed: int = 1) -> str:
    out = StringIO()
    call_command(
        "generate_demo",
        "--province",
        PROVINCE,
        "--households",
        "300",
        "--seed",
        str(seed),
        stdout=out,
    )
    return out.getvalue()


def snapshot() -> list[tuple]:
    return sorted(
        Registration.objects.values_list(
            "entity__ward__code",
            "entity__code",
            "kind",
            "year",
            "state",
            "outstanding",
            "points",
            "decision__number",
        )
    )


def evidence() -> list[tuple]:
    rows = Registration.objects.values_list(
        "entity__ward__code", "entity__code", "year", "evidence"
    )
    return sorted((ward, code, year, sorted(ev.items())) for ward, code, year, ev in rows)


def demo_ward_code() -> str:
    return Decision.objects.order_by("ward__code").values_list("ward__code", flat=True).first()


def _numbers_by_ward_year() -> dict[tuple[int, int], list[int]]:
    by_key: dict[tuple[int, int], list[int]] = {}
    for ward, year, number in Certificate.objects.values_list("ward_id", "year", "number"):
        by_key.setdefault((ward, year), []).append(number)
    return by_key


def delete_titles_data() -> None:
    for model in (Certificate, RegistrationEvent, Override, Registration, Decision, Rollup):
        model.objects.all().delete()


@pytest.mark.django_db
def test_demo_registrations_for_two_years():
    generate()
    year = timezone.localdate().year
    families = Entity.objects.filter(province__code=PROVINCE, kind=Kind.FAMILY).count()
    last = Registration.objects.filter(year=year - 1, kind=Kind.FAMILY)
    recognised = last.filter(state=State.RECOGNIZED)
    assert 0.7 * families < last.count() <= families
    assert recognised.count() > 0.8 * last.count()
    assert not recognised.filter(decision__isnull=True).exists()
    assert Decision.objects.filter(year=year - 1).exists()
    assert last.exclude(state__in=[State.RECOGNIZED, State.REJECTED]).count() == 0
    # Their certificates are numbered as the decisions are made, 1, 2, 3 … per ward and year in
    # each decision's order: printing only reads them.
    recognised_all = Registration.objects.filter(state=State.RECOGNIZED)
    assert not recognised_all.filter(certificate__isnull=True).exists()
    for decision in Decision.objects.filter(ward__code=demo_ward_code()):
        in_order = list(recognised_list(decision=decision).values_list("pk", flat=True))
        numbers = dict(
            Certificate.objects.filter(registration__decision=decision).values_list(
                "registration_id", "number"
            )
        )
        assert [numbers[pk] for pk in in_order] == sorted(numbers.values())
    for (_ward, _year), numbers in _numbers_by_ward_year().items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    current = Registration.objects.filter(year=year)
    assert current.filter(state=State.EVALUATED).count() > 0.5 * current.count()
    assert current.filter(state=State.EVALUATED, passed=True).exists()
    assert RegistrationWindow.objects.filter(year=year, province__code=PROVINCE).exists()
    # Every registration has its history, and repeats its entity's place in a Vietnamese list.
    assert not Registration.objects.filter(events__isnull=True).exists()
    assert not Registration.objects.exclude(sort_key=F("entity__sort_key")).exists()
    assert not Registration.objects.filter(sort_key="").exists()
    assert RegistrationEvent.objects.filter(action=RegistrationEvent.Action.EVALUATE).exists()
    # The summaries (entity counts and roll-ups) are exact.
    province = Entity.objects.values_list("province_id", flat=True).first()
    assert rollup_verify(province_id=province) == []


@pytest.mark.django_db
def test_demo_titles_are_idempotent():
    generate()
    before = snapshot()
    generate()
    assert snapshot() == before
    assert Registration.objects.count() == len(before)


@pytest.mark.django_db
def test_same_seed_same_registrations_and_evidence_another_seed_others():
    generate()
    year = timezone.localdate().year
    before, before_evidence = snapshot(), evidence()
    # Evidence is written as JSON text assembled piece by piece: it reads back as the criteria
    # codes of the title with values as entered.
    entered = [ev for *_key, ev in before_evidence if ev]
    assert entered and all(isinstance(v, str) and v.isdigit() for ev in entered for _c, v in ev)
    delete_titles_data()
    titles_demo_generate(province_code=PROVINCE, seed=1, year=year)
    assert snapshot() == before
    assert evidence() == before_evidence
    delete_titles_data()
    titles_demo_generate(province_code=PROVINCE, seed=2, year=year)
    assert snapshot() != before
