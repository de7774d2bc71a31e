"""`generate_demo`: realistic, proportional, deterministic and idempotent synthetic data.

Tỉnh Lai Châu (12) is the province with the fewest communes/wards (38), loaded from the package.
"""

import random
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone, translation

from devtools.bulk import foreign_keys_checked_at_end
from devtools.registry_demo import _ward_counts
from registry.models import (
    AdministrativeUnit,
    Association,
    AssociationMembership,
    Citizen,
    Clan,
    Community,
    Entity,
    Family,
    Kind,
    Unit,
)
from registry.services.divisions import divisions_load

PROVINCE = "12"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def lai_chau(db):
    divisions_load(province_codes=[PROVINCE])
    return AdministrativeUnit.objects.get(level="province", code=PROVINCE)


def generate(households: int = 300, seed: int = 1, province: str = PROVINCE) -> str:
    out = StringIO()
    call_command(
        "generate_demo",
        "--province",
        province,
        "--households",
        str(households),
        "--seed",
        str(seed),
        "--without-titles",  # the titles part has its own tests (test_titles_demo.py)
        stdout=out,
    )
    return out.getvalue()


def count(kind: str) -> int:
    return Entity.objects.filter(kind=kind).count()


def snapshot() -> set:
    """What a run produced, by ward and code (never by id)."""
    rows = set(Entity.objects.values_list("ward__code", "kind", "code", "name", "search_text"))
    rows |= set(
        Family.objects.values_list(
            "entity__ward__code", "entity__code", "members", "community__entity__code",
            "clan__entity__code",
        )
    )  # fmt: skip
    rows |= set(
        Citizen.objects.values_list(
            "entity__ward__code", "entity__code", "birth_year", "family__entity__code",
            "unit__entity__code",
        )
    )  # fmt: skip
    rows |= set(
        Unit.objects.values_list("entity__code", "entity__ward__code", "unit_type", "staff")
    )
    rows |= set(Clan.objects.values_list("entity__code", "entity__ward__code", "head_name"))
    rows |= set(Community.objects.values_list("entity__code", "entity__ward__code", "area_type"))
    rows |= set(AssociationMembership.objects.values_list("association__name", "year", "members"))
    return rows


def delete_demo_data() -> None:
    AssociationMembership.objects.all().delete()
    Association.objects.filter(level__in=["sub", "committee"]).delete()
    for model in (Citizen, Family, Clan, Community, Unit):
        model.objects.all().delete()
    Entity.objects.all().delete()


def test_every_kind_in_realistic_proportions(lai_chau):
    out = generate(households=3000)
    wards = AdministrativeUnit.objects.filter(parent=lai_chau)
    assert count(Kind.FAMILY) == 3000
    # Every ward has households, unevenly.
    per_ward = list(Entity.objects.filter(kind=Kind.FAMILY).values("ward").annotate(n=Count("pk")))
    assert len(per_ward) == wards.count() == 38
    sizes = sorted(r["n"] for r in per_ward)
    assert sizes[-1] > 2 * sizes[0]
    # Citizens: members aged 15 or more, about 2.7 per household.
    assert 2.4 <= count(Kind.CITIZEN) / 3000 <= 3.0
    assert 3.1 <= sum(Family.objects.values_list("members", flat=True)) / 3000 <= 3.8
    # A small demo still shows every kind in every ward.
    assert Entity.objects.filter(kind=Kind.COMMUNITY).values("ward").distinct().count() == 38
    assert Entity.objects.filter(kind=Kind.CLAN).values("ward").distinct().count() == 38
    assert Entity.objects.filter(kind=Kind.UNIT).values("ward").distinct().count() == 38
    # About 40% of the households belong to a clan, and clans span several areas.
    in_clan = Family.objects.filter(clan__isnull=False).count() / 3000
    assert 0.3 <= in_clan <= 0.45
    spans = (
        Family.objects.filter(clan__isnull=False)
        .values("clan")
        .annotate(areas=Count("community", distinct=True))
    )
    assert max(r["areas"] for r in spans) >= 2
    # Some staff are citizens of the ward, linked to their unit.
    assert Citizen.objects.filter(unit__isnull=False).exists()
    assert not Unit.objects.filter(staff__lte=0).exists()
    # A sub-association per area, committees in some units, this year's members.
    sub = Association.objects.filter(level="sub")
    assert sub.count() == count(Kind.COMMUNITY)
    assert Association.objects.filter(level="committee").exists()
    year = timezone.localdate().year
    members = AssociationMembership.objects.filter(year=year)
    assert members.filter(association__level="ward").count() == 38
    province_members = members.get(association__level="province").members
    assert province_members == sum(
        members.filter(association__level="ward").values_list("members", flat=True)
    )
    assert "Families: 3,000" in out


def test_proportions_at_hanoi_scale():
    """A Hanoi ward (2.2 million households / 126 wards): ~170 per area, 80-100 per clan,
    150-400 per unit."""
    rng = random.Random(1)
    for _ in range(20):
        areas, clans, units = _ward_counts(rng, 17_500)
        assert 87 <= areas <= 126
        assert 175 <= clans <= 219
        assert 43 <= units <= 117


def test_every_reference_stays_in_its_ward(lai_chau):
    generate(households=1000)
    ward = F("entity__ward")
    assert not Family.objects.exclude(community__entity__ward=ward).exists()
    assert not Family.objects.filter(clan__isnull=False).exclude(clan__entity__ward=ward).exists()
    assert not Citizen.objects.exclude(family__entity__ward=ward).exists()
    assert not Citizen.objects.filter(unit__isnull=False).exclude(unit__entity__ward=ward).exists()
    assert not Entity.objects.exclude(province=lai_chau).exists()
    sub = Association.objects.filter(level__in=["sub", "committee"])
    assert not sub.exclude(admin_unit=F("parent__admin_unit")).exists()
    assert not sub.filter(level="sub").exclude(community__entity__ward=F("admin_unit")).exists()


def test_same_seed_same_data_and_another_seed_other_data(lai_chau):
    generate(households=300, seed=7)
    first = snapshot()
    delete_demo_data()
    generate(households=300, seed=7)
    assert snapshot() == first
    delete_demo_data()
    generate(households=300, seed=8)
    assert snapshot() != first


def test_rerun_changes_nothing(lai_chau):
    generate(households=300)
    before = snapshot()
    entities = Entity.objects.count()
    out = generate(households=500, seed=2)
    assert "already has data; nothing was changed" in out
    assert "Families: 300" in out
    assert Entity.objects.count() == entities
    assert snapshot() == before


def test_names_and_codes_look_real(lai_chau):
    generate(households=300)
    names = list(Entity.objects.filter(kind=Kind.CITIZEN).values_list("name", flat=True))
    assert all(len(n.split()) >= 3 for n in names)
    assert sum(1 for n in names if not n.isascii()) > 0.9 * len(names)
    assert all(
        n.startswith("Dòng họ ")
        for n in Entity.objects.filter(kind=Kind.CLAN).values_list("name", flat=True)
    )
    patterns = {
        Kind.FAMILY: r"HGD\d{6}",
        Kind.CITIZEN: r"CD\d{7}",
        Kind.CLAN: r"DH\d{4}",
        Kind.UNIT: r"DV\d{4}",
        Kind.COMMUNITY: r"(TDP|KP|THON|XOM|BAN|AP)\d{4}",
    }
    for kind, pattern in patterns.items():
        codes = Entity.objects.filter(kind=kind).values_list("code", flat=True)
        assert codes and all(re.fullmatch(pattern, c) for c in codes), kind
    # Search text is what the model itself would store.
    for entity in Entity.objects.order_by("?")[:50]:
        stored = entity.search_text
        extra = [entity.clan.head_name] if entity.kind == Kind.CLAN else []
        entity.refresh_search_text(*extra)
        assert entity.search_text == stored


def test_loads_the_province_first_when_missing(db):
    out = generate(households=100, province="12")
    assert "Loaded the communes/wards of Tỉnh Lai Châu" in out
    wards = AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.WARD)
    assert wards.filter(parent__code="12").count() == 38
    assert count(Kind.FAMILY) == 100


@pytest.mark.parametrize(
    "province, households, message",
    [
        ("99", 100, "Unknown province code"),
        ("ab", 100, "not a province code"),
        ("12", 0, "at least 1"),
    ],
)
def test_bad_input_writes_nothing(db, province, households, message):
    with pytest.raises(CommandError, match=message):
        generate(households=households, province=province)
    assert not AdministrativeUnit.objects.exists()
    assert not Entity.objects.exists()


def _foreign_keys() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE contype = 'f' AND connamespace = 'public'::regnamespace"""
        )
        return set(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL bulk-load path")
@pytest.mark.django_db
def test_the_foreign_keys_are_back_and_checked_after_the_bulk_load(lai_chau):
    before = _foreign_keys()
    call_command("generate_demo", "--province", PROVINCE, "--households", "200", stdout=StringIO())
    assert _foreign_keys() == before
    # A row whose reference dangles fails the load when the keys come back.
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        foreign_keys_checked_at_end(AssociationMembership),
    ):
        AssociationMembership.objects.bulk_create(
            [AssociationMembership(association_id=10**9, year=2026, members=5)]
        )
    assert _foreign_keys() == before
