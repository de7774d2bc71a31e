"""`generate_demo`'s programmes: a meals and a tablets programme at the registry demo's schools."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from devtools.programmes_demo import DEVICES, MEALS, _csv, programmes_demo_generate
from devtools.registry_demo import demo_generate, demo_ward
from programmes.models import Beneficiary, Delivery, Programme
from programmes.services.tallies import tallies_verify
from programmes.statement import programme_statement
from registry.models import AdministrativeUnit, Entity, Kind, Unit
from registry.services.imports import registry_import
from titles.services.rollups import rollup_verify

Action = AuditEntry.Action


@pytest.fixture
def demo(db):
    demo_generate(province_code="12", households=300, seed=1)
    return AdministrativeUnit.objects.get(level="province", code="12")


def test_two_programmes_with_records_at_the_demo_wards_schools(demo):
    report = programmes_demo_generate(province_code="12", seed=1)
    assert not report.skipped
    meals, devices = Programme.objects.get(code=MEALS), Programme.objects.get(code=DEVICES)
    ward = demo_ward(demo)
    assert set(Beneficiary.objects.values_list("ward", flat=True)) == {ward.pk}
    assert set(Beneficiary.objects.values_list("school__entity__ward", flat=True)) == {ward.pk}
    s = programme_statement(programme=meals)
    assert s.meal_days > 0 and s.raised_vnd > 0 and s.cost_per_meal_day_vnd == 6800
    d = programme_statement(programme=devices)
    assert d.items_received == {"Máy tính bảng": 40}
    assert d.items_delivered["Máy tính bảng"] > 0
    assert tallies_verify() == []
    assert programmes_demo_generate(province_code="12", seed=1).skipped  # idempotent


def test_a_demo_without_schools_gets_two_preschools_like_the_registry_demos_units(demo):
    ward = demo_ward(demo)
    assert not Unit.objects.filter(unit_type=Unit.UnitType.SCHOOL).exists()  # 300 households
    units_before = set(Entity.objects.filter(kind=Kind.UNIT).values_list("code", flat=True))
    programmes_demo_generate(province_code="12", seed=1)
    schools = Unit.objects.filter(unit_type=Unit.UnitType.SCHOOL).select_related("entity")
    assert [s.entity.ward_id for s in schools] == [ward.pk, ward.pk]
    for school in schools:
        assert re.fullmatch(r"DV\d{4}", school.entity.code)
        assert school.entity.code not in units_before
        assert school.entity.name.startswith("Trường Mầm non ")
    # Through the registry's import: one audited bulk entry, the summaries kept.
    entry = AuditEntry.objects.get(action=Action.BULK, detail__operation="registry_import")
    assert (entry.detail["kind"], entry.detail["created"]) == ("units", 2)
    assert not AuditEntry.objects.filter(content_type__model="entity").exclude(action=Action.BULK)
    assert rollup_verify(province_id=demo.pk) == []
    assert set(Beneficiary.objects.values_list("school", flat=True)) == {s.pk for s in schools}


def test_the_registry_demos_own_schools_are_used_where_there_are_some(demo):
    ward = (
        AdministrativeUnit.objects.filter(parent=demo)
        .exclude(pk=demo_ward(demo).pk)
        .order_by("code")
        .first()
    )
    rows = [["ward", "code", "name", "unit_type", "staff"]]
    rows += [[ward.code, "DV0101", "Trường Tiểu học Kim Đồng", "school", 40]]
    rows += [[ward.code, "DV0102", "Trường Mầm non Hoa Sen", "school", 30]]
    assert registry_import(file=_csv(rows), filename="u.csv", kind="units", dry_run=False).ok
    units = Entity.objects.filter(kind=Kind.UNIT).count()
    programmes_demo_generate(province_code="12", seed=1)
    assert Entity.objects.filter(kind=Kind.UNIT).count() == units  # none made
    meals = Beneficiary.objects.filter(programme__code=MEALS)
    assert set(meals.values_list("ward", flat=True)) == {ward.pk}
    assert set(meals.values_list("school__entity__code", flat=True)) == {"DV0101", "DV0102"}
    assert Delivery.objects.filter(ward=ward).exists()
    assert tallies_verify() == []


def test_a_registry_only_demo_has_no_programmes(db):
    call_command(
        "generate_demo", "--province", "12", "--households", "100", "--without-titles",
        stdout=StringIO(),
    )  # fmt: skip
    assert Entity.objects.exists()
    assert not Programme.objects.exists()
    assert not Unit.objects.filter(unit_type=Unit.UnitType.SCHOOL).exists()
