"""A database loaded from the old list (vietnam-provinces 2025.10.1) upgraded by `load_divisions`.

`data/hanoi_2025_10_1.json` holds Hanoi as release 2025.10.1 listed it (captured from that
release): Phường Tương Mai was 00313 there, 00322 in the official list. The database is built
from it, filled with demo data, given a grant, a target and a sign-off in Tương Mai, then
upgraded: everything stays attached to the same unit, now 00322, and the summaries still agree
with the detail rows.
"""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from audit.models import AuditEntry
from registry.models import (
    TWO_TIER_START,
    AdministrativeUnit,
    Association,
    Entity,
    Grant,
    Role,
)
from registry.services.divisions import associations_ensure
from registry.services.grants import grant_role
from titles.models import Decision, Registration, Rollup, RollupSnapshot, Target, WardSignOff
from titles.services.signoff import ward_sign_off

Level = AdministrativeUnit.Level
OLD_LIST = json.loads((Path(__file__).parent / "data" / "hanoi_2025_10_1.json").read_text())


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def load_old_list() -> None:
    """What `load_divisions --province 01` wrote with release 2025.10.1."""
    province = AdministrativeUnit.objects.create(
        level=Level.PROVINCE, valid_from=TWO_TIER_START, **OLD_LIST["province"]
    )
    wards = AdministrativeUnit.objects.bulk_create(
        AdministrativeUnit(level=Level.WARD, parent=province, valid_from=TWO_TIER_START, **ward)
        for ward in OLD_LIST["wards"]
    )
    associations_ensure(units=[province, *wards])


def attached(ward: AdministrativeUnit) -> dict:
    """Everything that hangs on a ward, by what it is (never by the ward's code)."""
    return {
        "entities": sorted(Entity.objects.filter(ward=ward).values_list("kind", "code", "name")),
        "registrations": sorted(
            Registration.objects.filter(ward=ward).values_list(
                "entity__code", "year", "kind", "state", "points", "decision__number"
            )
        ),
        "decisions": sorted(Decision.objects.filter(ward=ward).values_list("number", "year")),
        "rollups": sorted(
            Rollup.objects.filter(ward=ward).values_list(
                "level", "unit_id", "year", "kind", "registered", "recognized", "outstanding"
            )
        ),
        "grants": sorted(Grant.objects.filter(unit=ward).values_list("user__username", "role")),
        "targets": sorted(Target.objects.filter(unit=ward).values_list("kind", "year")),
        "signoffs": sorted(WardSignOff.objects.filter(ward=ward).values_list("year", "action")),
        "snapshots": sorted(
            RollupSnapshot.objects.filter(ward=ward).values_list("level", "year", "kind")
        ),
        "association": Association.objects.get(admin_unit=ward, level=Association.Level.WARD).name,
    }


@pytest.mark.django_db
def test_a_database_loaded_from_the_old_list_is_corrected_in_place():
    load_old_list()
    old_tuong_mai = AdministrativeUnit.objects.get(level=Level.WARD, code="00313")
    assert old_tuong_mai.name == "Phường Tương Mai"
    run("load_criteria", "--defaults")
    run("generate_demo", "--province", "01", "--households", "400", "--seed", "1")
    year = timezone.localdate().year
    grant_role(username="tm_staff", role=Role.STAFF, unit_code="00313")
    Target.objects.create(unit=old_tuong_mai, kind="family", year=year, min_rate=70, max_rate=80)
    official = grant_role(username="tm_official", role=Role.OFFICIAL, unit_code="00313").user
    # Signed off as the official does it: the row and the snapshot of the ward-year's figures.
    ward_sign_off(user=official, ward=old_tuong_mai, year=year - 1)
    before = attached(old_tuong_mai)
    assert before["entities"] and before["registrations"] and before["rollups"]
    assert before["association"] == "Hội Khuyến học phường Tương Mai"
    csv_before = run("rollup", "--year", str(year - 1), "--unit", "00313", "--format", "csv")
    hanoi_units = AdministrativeUnit.objects.filter(level=Level.WARD).count()

    dry = run("load_divisions", "--province", "01", "--dry-run")
    assert "Corrected to the official list: 00313 Phường Tương Mai → 00322 Phường Tương Mai" in dry
    assert AdministrativeUnit.objects.get(pk=old_tuong_mai.pk).code == "00313"

    out = run("load_divisions", "--province", "01")
    assert "00313 Phường Tương Mai → 00322 Phường Tương Mai" in out
    assert "Provinces: 0 created, 0 updated, 1 unchanged." in out  # Hà Nội keeps its name
    tuong_mai = AdministrativeUnit.objects.get(level=Level.WARD, code="00322")
    assert tuong_mai.pk == old_tuong_mai.pk
    assert attached(tuong_mai) == before
    assert AdministrativeUnit.objects.filter(level=Level.WARD).count() == hanoi_units == 126
    assert not AdministrativeUnit.objects.filter(level=Level.WARD, code="00313").exists()
    assert AdministrativeUnit.objects.get(level=Level.WARD_BEFORE_2025, code="00313")
    for code, name in [("00226", "Phường Văn Miếu - Quốc Tử Giám"), ("00229", "Phường Kim Liên")]:
        assert AdministrativeUnit.objects.get(level=Level.WARD, code=code).name == name

    # Exports name the corrected unit: the same rows, under 00322.
    csv_after = run("rollup", "--year", str(year - 1), "--unit", "00322", "--format", "csv")
    assert csv_after == csv_before.replace("00313", "00322")
    assert "No difference" in run("rollup", "--verify")
    entry = AuditEntry.objects.filter(detail__operation="divisions_load").get()
    assert {"from": "00313 Phường Tương Mai", "to": "00322 Phường Tương Mai"} in entry.detail[
        "corrections"
    ]

    # A rerun changes nothing.
    units = list(AdministrativeUnit.objects.order_by("pk").values())
    again = run("load_divisions", "--province", "01")
    assert "Communes/wards: 0 created, 0 updated, 126 unchanged." in again
    assert "Corrected" not in again
    assert list(AdministrativeUnit.objects.order_by("pk").values()) == units
