"""The adults a year counts (the digital-literacy reach is measured against them) are read from
the registry's birth-year tallies, not counted over the citizens: the same figures as the live
count, kept through every registry write that adds citizens or changes a birth year — the
service and the import alike — at ward and province level."""

from __future__ import annotations

import io

import pytest
from django.db.models import Count

from community.selectors import ADULT_AGE, adults_count
from registry.models import Citizen, Entity, Kind, RollupLevel
from registry.services.entities import entity_update
from registry.services.imports import registry_import
from tests.factories import ProvinceFactory, WardFactory, make_citizen
from tests.registry.test_import import csv_bytes
from titles.services.rollups import rollup_verify

YEARS = (1990, 2010, 2024, 2025, 2026, 2040)


def live_adults(*, units, level: str, year: int) -> dict[int, int]:
    """The count over the citizens themselves, as the page used to compute it."""
    field = "province_id" if level == RollupLevel.PROVINCE else "ward_id"
    return dict(
        Entity.objects.filter(
            kind=Kind.CITIZEN,
            citizen__birth_year__lte=year - ADULT_AGE,
            **{f"{field}__in": [u.pk for u in units]},
        )
        .values_list(field)
        .annotate(n=Count("pk"))
        .order_by()
    )


@pytest.fixture
def other_province(db):
    province = ProvinceFactory(code="79", name="Thành phố Hồ Chí Minh")
    return province, WardFactory(code="26734", name="Phường Sài Gòn", parent=province)


def assert_same_as_live(wards, provinces) -> None:
    for year in YEARS:
        for level, units in ((RollupLevel.WARD, wards), (RollupLevel.PROVINCE, provinces)):
            stored = adults_count(units=units, level=level, year=year)
            assert stored == live_adults(units=units, level=level, year=year), (level, year)
    for province in provinces:
        assert rollup_verify(province_id=province.pk) == []


def test_adults_follow_the_service_and_the_import(province, ward_a, ward_b, other_province):
    hcm, saigon = other_province
    wards, provinces = [ward_a, ward_b, saigon], [province, hcm]
    assert adults_count(units=wards, level=RollupLevel.WARD, year=2025) == {}
    # Added through the service: adults and children, in three wards of two provinces.
    for i, birth_year in enumerate((1950, 1990, 2010, 2011, 2020)):
        make_citizen(ward_a, code=f"A{i}", birth_year=birth_year)
    make_citizen(ward_b, code="B1", birth_year=1975)
    make_citizen(saigon, code="S1", birth_year=2000)
    assert adults_count(units=wards, level=RollupLevel.WARD, year=2025) == {
        ward_a.pk: 3,
        ward_b.pk: 1,
        saigon.pk: 1,
    }
    assert adults_count(units=provinces, level=RollupLevel.PROVINCE, year=2025) == {
        province.pk: 4,
        hcm.pk: 1,
    }
    assert_same_as_live(wards, provinces)

    # A birth year corrected through the service: one adult fewer, and one child more.
    adult = Citizen.objects.get(entity__code="A1")
    entity_update(obj=adult, name=adult.entity.name, birth_year=2015)
    assert adults_count(units=[ward_a], level=RollupLevel.WARD, year=2025) == {ward_a.pk: 2}
    assert_same_as_live(wards, provinces)

    # The import: new citizens, and birth years changed both ways (A0 is no adult any more,
    # A3 becomes one).
    header = ["ward", "code", "full_name", "birth_year"]
    rows = [
        [ward_a.code, "A0", "Nguyễn Văn Một", 2018],
        [ward_a.code, "A3", "Nguyễn Văn Bốn", 1960],
        [ward_b.code, "B2", "Trần Thị Hai", 1940],
        [ward_b.code, "B3", "Trần Văn Ba", 2019],
    ]
    report = registry_import(
        file=io.BytesIO(csv_bytes([header, *rows])),
        filename="cong-dan.csv",
        kind="citizens",
        dry_run=False,
    )
    assert report.ok, report.errors
    assert adults_count(units=wards, level=RollupLevel.WARD, year=2025) == {
        ward_a.pk: 2,
        ward_b.pk: 2,
        saigon.pk: 1,
    }
    assert_same_as_live(wards, provinces)

    # A dry run, or a refused file, changes no figure.
    everyone_old = [[r[0], r[1], r[2], 1900] for r in rows]
    bad = [*everyone_old, [ward_b.code, "B4", "Lê Văn Tư", "năm ngoái"]]
    for data, dry_run in ((everyone_old, True), (bad, False)):
        registry_import(
            file=io.BytesIO(csv_bytes([header, *data])),
            filename="cong-dan.csv",
            kind="citizens",
            dry_run=dry_run,
        )
    assert_same_as_live(wards, provinces)
    assert adults_count(units=[ward_b], level=RollupLevel.WARD, year=2025) == {ward_b.pk: 2}
