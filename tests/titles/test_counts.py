"""A ward's registrations counted by state (`titles.services.counts`): the sums the database
keeps equal the registrations counted one by one, whatever statement wrote them; a ward-year's
rows fold without changing a sum; `rollup --verify` names a count that drifted; the pages
show them."""

from __future__ import annotations

import datetime
import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from registry.models import Kind
from tests.factories import make_community, make_family
from tests.titles.factories import FAMILY_DOC, load, registration
from titles.models import Decision, Registration, RegistrationCount, State
from titles.services import counts
from titles.services.counts import counts_verify, ward_counts
from titles.services.rollups import rollups_rebuild

YEAR = timezone.localdate().year
FRESH = (Kind.FAMILY, State.REGISTERED, None, False, None, False)  # a new registration's group


def _summed(ward, year: int = YEAR) -> Counter:
    """The ward-year's counts as the pages read them: group -> registrations."""
    found: Counter = Counter()
    for row in ward_counts(ward_id=ward.pk, year=year).values_list(*counts.GROUP, "n"):
        found[row[:-1]] += row[-1]
    return +found  # groups that sum to nothing are no group


def _counted(ward, year: int = YEAR) -> Counter:
    """The same, counted from the registrations themselves."""
    return Counter(
        (r.kind, r.state, r.passed, bool(r.evidence), r.decision_id, r.outstanding)
        for r in Registration.objects.filter(ward=ward, year=year)
    )


@pytest.fixture
def families(ward_a):
    area = make_community(ward_a, code="TDP1")
    return [make_family(ward_a, code=f"H{n:02d}", community=area).entity for n in range(12)]


def test_every_kind_of_statement_moves_the_counts(ward_a, families):
    first = registration(families[0], year=YEAR)  # one INSERT
    Registration.objects.bulk_create(  # one multi-row INSERT
        Registration(
            entity=e, year=YEAR, kind=e.kind, ward=ward_a, province=ward_a.parent,
            state=State.SUBMITTED, evidence={"F1": "1"},
        )
        for e in families[1:8]
    )  # fmt: skip
    registration(families[8], year=YEAR - 1, state=State.RECOGNIZED)
    assert (
        _summed(ward_a)
        == _counted(ward_a)
        == Counter(
            {
                (Kind.FAMILY, State.REGISTERED, None, False, None, False): 1,
                (Kind.FAMILY, State.SUBMITTED, None, True, None, False): 7,
            }
        )
    )
    [last_year] = Registration.objects.filter(year=YEAR - 1)
    assert _summed(ward_a, YEAR - 1) == Counter(
        {(Kind.FAMILY, State.RECOGNIZED, None, False, last_year.decision_id, False): 1}
    )

    # A queryset update (as the admin or a migration might), a model save, a raw statement.
    Registration.objects.filter(state=State.SUBMITTED, entity__in=families[1:4]).update(
        state=State.EVALUATED, passed=True
    )
    first.evidence = {"F1": "2"}
    first.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE titles_registration SET state = %s, passed = %s WHERE entity_id = %s",
            [State.EVALUATED, False, families[4].pk],
        )
    # An update that moves nothing counted adds nothing.
    rows = RegistrationCount.objects.count()
    Registration.objects.filter(ward=ward_a).update(sort_key="x")
    assert RegistrationCount.objects.count() == rows

    assert (
        _summed(ward_a)
        == _counted(ward_a)
        == Counter(
            {
                (Kind.FAMILY, State.REGISTERED, None, True, None, False): 1,
                (Kind.FAMILY, State.SUBMITTED, None, True, None, False): 3,
                (Kind.FAMILY, State.EVALUATED, True, True, None, False): 3,
                (Kind.FAMILY, State.EVALUATED, False, True, None, False): 1,
            }
        )
    )
    assert counts_verify(ward_ids=[ward_a.pk]) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps no delete trigger")
def test_deleted_registrations_leave_the_counts(ward_a, families):
    for entity in families[:3]:
        registration(entity, year=YEAR)
    Registration.objects.filter(entity=families[0]).delete()
    assert _summed(ward_a) == Counter({FRESH: 2})


def test_a_ward_year_with_many_rows_is_folded_and_keeps_its_sums(
    ward_a, ward_b, families, monkeypatch
):
    monkeypatch.setattr(counts, "FOLD_AFTER", 10)
    regs = [registration(entity, year=YEAR) for entity in families]
    registration(make_family(ward_b, code="B1").entity, year=YEAR)
    for reg in regs[:6]:  # two rows each, one statement at a time
        Registration.objects.filter(pk=reg.pk).update(state=State.SUBMITTED)
    Registration.objects.filter(pk=regs[0].pk).update(state=State.REGISTERED)
    expected = _counted(ward_a)
    assert RegistrationCount.objects.filter(ward=ward_a, year=YEAR).count() > 10

    assert _summed(ward_a) == expected
    # One row per group now: two groups.
    assert RegistrationCount.objects.filter(ward=ward_a, year=YEAR).count() == 2
    assert _summed(ward_a) == expected
    # Another ward's rows are not touched.
    assert _summed(ward_b) == Counter({FRESH: 1})
    assert RegistrationCount.objects.filter(ward=ward_b).count() == 1


def test_verify_names_a_count_that_drifted(ward_a, families):
    registration(families[0], year=YEAR)
    rollups_rebuild(province_id=ward_a.parent_id)
    RegistrationCount.objects.create(
        ward=ward_a,
        year=YEAR,
        kind=Kind.FAMILY,
        state=State.APPROVED,
        has_evidence=True,
        outstanding=False,
        n=2,
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 difference"):
        call_command("rollup", "--verify", "--unit", "01", stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines() == [
        f"registration_count ward:{ward_a.pk} {YEAR} family approved None True None False "
        "stored (2) computed (0)"
    ]


def test_the_officials_pages_show_the_counts(client, bob, ward_a, families):
    load(FAMILY_DOC)
    passing = {"F1": "1", "F2": "2"}
    for entity in families[:5]:
        registration(entity, year=YEAR, state=State.EVALUATED, passed=True, evidence=passing)
    for entity in families[5:7]:
        registration(entity, year=YEAR, state=State.SUBMITTED, evidence=passing)
    for entity in families[7:10]:
        registration(entity, year=YEAR)  # no evidence: not submitted
    registration(families[10], year=YEAR, state=State.APPROVED, passed=True, evidence=passing)
    client.force_login(bob)

    queue = client.get(reverse("review_queue"), {"year": YEAR})
    figures = queue.context["counts"]
    assert (figures["total"], figures["approvable"]) == (11, 5)
    assert (figures[State.EVALUATED], figures[State.SUBMITTED]) == (5, 2)
    assert (figures[State.REGISTERED], figures[State.APPROVED]) == (3, 1)
    other_title = client.get(reverse("review_queue"), {"year": YEAR, "kind": Kind.CLAN})
    assert other_title.context["counts"]["total"] == 0
    confirm = client.post(
        reverse("review_approve_passed"), {"ward": ward_a.code, "year": YEAR, "scope": "all"}
    )
    assert "5 registrations that passed" in confirm.content.decode()

    evaluate = client.get(reverse("ward_evaluate"), {"ward": ward_a.code, "year": YEAR})
    text = evaluate.content.decode()
    # Submitted and evaluated are ready; the three without evidence stay registered.
    assert "7 registrations are ready" in text
    assert "3 registrations are not yet submitted" in text

    signoff = client.get(reverse("ward_signoff", args=[ward_a.code, YEAR]))
    [row] = signoff.context["undecided"]
    assert (row["kind"], row["unreviewed"], row["approved"]) == (Kind.FAMILY, 10, 1)

    # A residential area's counts are its own households'.
    elsewhere = make_family(ward_a, code="OTHER", community=make_community(ward_a, code="TDP2"))
    registration(elsewhere.entity, year=YEAR, state=State.EVALUATED, passed=True, evidence=passing)
    area = families[0].family.community_id
    one_area = client.get(reverse("review_queue"), {"year": YEAR, "area": area})
    figures = one_area.context["counts"]
    assert (figures["total"], figures["approvable"], figures[State.EVALUATED]) == (11, 5, 5)
    whole = client.get(reverse("review_queue"), {"year": YEAR}).context["counts"]
    assert (whole["total"], whole["approvable"]) == (12, 6)


def test_a_decisions_page_counts_its_own_registrations(client, bob, ward_a, families):
    def decision(number: str):
        return Decision.objects.create(
            ward=ward_a, province=ward_a.parent, year=YEAR, number=number,
            date=datetime.date(YEAR, 1, 5),
        )  # fmt: skip

    first, second = decision("1/QĐ"), decision("2/QĐ")
    for n, entity in enumerate(families[:5]):
        registration(entity, year=YEAR, state=State.RECOGNIZED, decision=first, outstanding=n < 2)
    for entity in families[5:7]:
        registration(entity, year=YEAR, state=State.RECOGNIZED, decision=second)
    client.force_login(bob)
    page = client.get(reverse("decision_detail", args=[first.pk]))
    assert (page.context["total"], page.context["outstanding"]) == (5, 2)
    assert page.context["by_kind"] == [("Learning Family", 5)]
    page = client.get(reverse("decision_detail", args=[second.pk]))
    assert (page.context["total"], page.context["outstanding"]) == (2, 0)
