"""The registry import service: what it accepts, what it refuses, and that a refusal writes nothing.

Files are built in the tests (no binary fixtures). Messages are checked in English; the active
language is forced to English so compiled Vietnamese translations cannot break the assertions.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from registry.models import Citizen, Clan, Community, Entity, Family, Kind, Unit
from registry.services.imports import (
    COLUMNS,
    HEADER_ALIASES,
    KINDS,
    ImportReport,
    registry_import,
)
from registry.text import fold
from tests.factories import (
    WardFactory,
    make_clan,
    make_community,
    make_family,
    make_unit,
)

FAMILY_HEADER = ["ward", "code", "head_name", "members", "community", "clan"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def csv_bytes(
    rows: list[list[Any]], *, bom: bool = False, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" if bom else "").encode(encoding) + buffer.getvalue().encode(encoding)


def run_import(
    kind: str,
    data: bytes,
    *,
    filename: str = "registry.csv",
    dry_run: bool = False,
    user: Any = None,
) -> ImportReport:
    return registry_import(
        file=io.BytesIO(data), filename=filename, kind=kind, dry_run=dry_run, user=user
    )


def entity_count() -> int:
    return Entity.objects.count()


def assert_refused(report: ImportReport, *, row: int, column: str, reason: str) -> None:
    """The report names this row, column and reason, and the import was not written."""
    assert not report.ok
    assert not report.written
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    found = [(e.row, e.column, e.reason) for e in report.errors]
    assert any(r == row and c == column and reason in why for r, c, why in found), found


@pytest.fixture
def area_a(ward_a) -> Community:
    return make_community(ward_a, code="TDP01", name="Tổ dân phố 1")


@pytest.fixture
def clan_a(ward_a) -> Clan:
    return make_clan(ward_a, code="DH01", name="Dòng họ Nguyễn")


def family_row(code: str = "HGD001", **overrides: Any) -> list[Any]:
    values = {
        "ward": "00070",
        "code": code,
        "head_name": "Nguyễn Văn An",
        "members": "4",
        "community": "TDP01",
        "clan": "",
    }
    values.update(overrides)
    return [values[c] for c in FAMILY_HEADER]


# --- Accepting ---------------------------------------------------------------------------------


def test_communities_with_area_types_in_english_and_vietnamese(ward_a):
    data = csv_bytes(
        [
            ["ward", "code", "name", "area_type"],
            ["70", "T1", "Thôn Đông", "thôn"],
            ["070", "T2", "Tổ dân phố 2", "Tổ Dân Phố"],
            ["00070", "T3", "Khu phố 3", "khu_pho"],
            ["00070", "T4", "Bản Mường", "BAN"],
            ["00070", "T5", "Khu tập thể", ""],
        ]
    )
    report = run_import("communities", data)
    assert report.ok, report.errors
    assert (report.rows, report.created, report.updated, report.unchanged) == (5, 5, 0, 0)
    assert report.written
    areas = dict(Community.objects.values_list("entity__code", "area_type"))
    assert areas == {
        "T1": Community.AreaType.THON,
        "T2": Community.AreaType.TO_DAN_PHO,
        "T3": Community.AreaType.KHU_PHO,
        "T4": Community.AreaType.BAN,
        "T5": Community.AreaType.OTHER,
    }
    entity = Entity.objects.get(code="T1")
    assert (entity.kind, entity.ward, entity.province_id) == (
        Kind.COMMUNITY,
        ward_a,
        ward_a.parent_id,
    )
    assert entity.search_text == "thon dong t1"


def test_families_with_vietnamese_headers_resolve_community_and_clan(ward_a, area_a, clan_a):
    data = csv_bytes(
        [
            [
                "Mã phường/xã",
                "Mã hộ",
                "Họ tên chủ hộ",
                "Số nhân khẩu",
                "Thôn/Tổ dân phố",
                "Mã dòng họ",
            ],
            ["00070", "HGD001", "Nguyễn Văn An", "4", "TDP01", "DH01"],
            ["00070", "HGD002", "Lê Thị Hoa", "3", "TDP01", ""],
        ]
    )
    report = run_import("families", data)
    assert report.ok, report.errors
    assert report.created == 2
    first = Family.objects.select_related("entity").get(entity__code="HGD001")
    assert (first.entity.name, first.members, first.community, first.clan) == (
        "Nguyễn Văn An",
        4,
        area_a,
        clan_a,
    )
    assert Family.objects.get(entity__code="HGD002").clan is None


@pytest.mark.parametrize(
    "header",
    ["MÃ HỘ", "ma ho", "Mã  hộ", "mã_hộ", "code", "CODE", "Code"],
)
def test_headers_match_ignoring_case_diacritics_and_spacing(ward_a, area_a, header):
    data = csv_bytes(
        [
            ["ward", header, "head_name", "members", "community"],
            ["00070", "HGD001", "Nguyễn Văn An", "4", "TDP01"],
        ]
    )
    report = run_import("families", data)
    assert report.ok, report.errors
    assert Entity.objects.filter(kind=Kind.FAMILY, code="HGD001").exists()


def test_clans_head_name_is_stored_and_searchable(ward_a):
    data = csv_bytes(
        [["Mã phường/xã", "Mã", "Tên", "Trưởng họ"], ["70", "DH9", "Dòng họ Đặng", "Đặng Văn Hùng"]]
    )
    report = run_import("clans", data)
    assert report.ok, report.errors
    clan = Clan.objects.select_related("entity").get()
    assert clan.head_name == "Đặng Văn Hùng"
    assert "dang van hung" in clan.entity.search_text


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("cơ quan", Unit.UnitType.AGENCY),
        ("Trường học", Unit.UnitType.SCHOOL),
        ("DOANH NGHIEP", Unit.UnitType.ENTERPRISE),
        ("khác", Unit.UnitType.OTHER),
        ("agency", Unit.UnitType.AGENCY),
        ("enterprise", Unit.UnitType.ENTERPRISE),
    ],
)
def test_units_accept_english_and_vietnamese_unit_types(ward_a, word, expected):
    data = csv_bytes(
        [
            ["Mã phường/xã", "Mã đơn vị", "Tên đơn vị", "Loại đơn vị", "Số cán bộ"],
            ["00070", "DV1", "UBND phường", word, "25"],
        ]
    )
    report = run_import("units", data)
    assert report.ok, report.errors
    unit = Unit.objects.get()
    assert (unit.unit_type, unit.staff) == (expected, 25)


def test_citizens_link_their_family_and_unit(ward_a):
    family = make_family(ward_a, code="HGD1")
    unit = make_unit(ward_a, code="DV1")
    data = csv_bytes(
        [
            ["Mã phường/xã", "Mã", "Họ và tên", "Năm sinh", "Mã hộ gia đình", "Mã đơn vị"],
            ["00070", "CD1", "Trần Thị Bình", "1985", "HGD1", "DV1"],
            ["00070", "CD2", "Trần Văn Cường", "2010", "HGD1", ""],
        ]
    )
    report = run_import("citizens", data)
    assert report.ok, report.errors
    one, two = Citizen.objects.order_by("entity__code")
    assert (one.entity.name, one.birth_year, one.family, one.unit) == (
        "Trần Thị Bình",
        1985,
        family,
        unit,
    )
    assert (two.family, two.unit) == (family, None)


def test_reimport_updates_changed_rows_and_leaves_identical_ones_alone(ward_a, area_a, clan_a):
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H2", clan="DH01")]
    assert run_import("families", csv_bytes(rows)).created == 2
    untouched = Entity.objects.get(code="H1").updated_at

    other_area = make_community(ward_a, code="TDP02")
    rows[2] = family_row("H2", head_name="Nguyễn Văn Bình", members="5", community="TDP02")
    report = run_import("families", csv_bytes(rows))

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert report.written
    changed = Family.objects.select_related("entity").get(entity__code="H2")
    assert (changed.entity.name, changed.members, changed.community, changed.clan) == (
        "Nguyễn Văn Bình",
        5,
        other_area,
        None,
    )
    assert "nguyen van binh" in changed.entity.search_text
    assert Entity.objects.get(code="H1").updated_at == untouched


def test_only_the_name_changing_is_an_update(ward_a):
    make_clan(ward_a, code="DH1", name="Dòng họ Lê", head_name="Lê Văn A")
    data = csv_bytes([["ward", "code", "name"], ["00070", "DH1", "Dòng họ Lê Văn"]])
    report = run_import("clans", data)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    clan = Clan.objects.select_related("entity").get()
    # head_name was not in the file: kept, and still found by search
    assert (clan.entity.name, clan.head_name) == ("Dòng họ Lê Văn", "Lê Văn A")
    assert "le van a" in clan.entity.search_text


def test_an_absent_optional_column_keeps_the_value_an_empty_cell_clears_it(ward_a, area_a, clan_a):
    make_family(ward_a, code="H1", community=area_a, clan=clan_a)
    without_clan_column = csv_bytes(
        [["ward", "code", "head_name", "members", "community"], family_row("H1")[:5]]
    )
    report = run_import("families", without_clan_column)
    assert (report.updated, report.unchanged) == (0, 1)
    assert Family.objects.get().clan == clan_a

    with_empty_clan = csv_bytes([FAMILY_HEADER, family_row("H1", clan="")])
    assert run_import("families", with_empty_clan).updated == 1
    assert Family.objects.get().clan is None


def test_a_utf8_bom_is_accepted(ward_a, area_a):
    report = run_import("families", csv_bytes([FAMILY_HEADER, family_row()], bom=True))
    assert report.ok, report.errors
    assert Entity.objects.filter(kind=Kind.FAMILY, code="HGD001").exists()


def test_semicolon_separated_csv_from_excel_is_accepted(ward_a, area_a):
    data = csv_bytes(
        [["Mã phường/xã", "Mã hộ", "Chủ hộ", "Số nhân khẩu", "Tổ dân phố"], family_row()[:5]],
        bom=True,
        delimiter=";",
    )
    report = run_import("families", data)
    assert report.ok, report.errors
    assert report.created == 1


def test_diacritics_are_preserved_exactly_and_whitespace_trimmed(ward_a, area_a):
    names = ["Nguyễn Thị Ánh Tuyết", "Đặng Hữu Phước", "Hoàng Ngọc Ửng", "Lò Văn Mười"]
    rows = [FAMILY_HEADER] + [
        family_row(f"  H{i}  ", head_name=f"  {name}\u00a0") for i, name in enumerate(names)
    ]
    report = run_import("families", csv_bytes(rows))
    assert report.ok, report.errors
    stored = dict(Entity.objects.filter(kind=Kind.FAMILY).values_list("code", "name"))
    assert stored == {f"H{i}": name for i, name in enumerate(names)}


def test_formula_like_cells_are_stored_verbatim(ward_a):
    names = ["=1+1", "+84 912 345 678", "-Nguyễn Văn An", "@SUM(A1:A2)", '=HYPERLINK("x","y")']
    rows = [["ward", "code", "name"]] + [
        ["00070", f"={i}+{i}", name] for i, name in enumerate(names)
    ]
    report = run_import("clans", csv_bytes(rows))
    assert report.ok, report.errors
    stored = dict(Entity.objects.values_list("code", "name"))
    assert stored == {f"={i}+{i}": name for i, name in enumerate(names)}


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(ward_a, area_a):
    make_family(ward_a, code="H1", community=area_a)
    before = entity_count()
    rows = [FAMILY_HEADER, family_row("H1", head_name="Tên mới"), family_row("H2")]
    report = run_import("families", csv_bytes(rows), dry_run=True)
    assert report.ok
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert not report.written
    assert entity_count() == before
    assert Entity.objects.get(code="H1").name == "Nguyễn Văn An"


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_sheet(ward_a, area_a):
    rows = [
        FAMILY_HEADER,
        family_row("H1"),
        ["", "", "", "", "", ""],
        family_row("H2", members="x"),
    ]
    report = run_import("families", csv_bytes(rows))
    assert report.rows == 2
    assert_refused(report, row=4, column="members", reason="not a whole number")


def test_unknown_extra_columns_are_ignored_and_named_in_the_notes(ward_a, area_a):
    rows = [
        [*FAMILY_HEADER, "Ghi chú", "Địa chỉ"],
        [*family_row(), "ghi chú", "12 Hàng Bạc"],
    ]
    report = run_import("families", csv_bytes(rows))
    assert report.ok, report.errors
    assert report.created == 1
    assert any("“Ghi chú”" in note and "“Địa chỉ”" in note for note in report.notes), report.notes


# --- The alias table ---------------------------------------------------------------------------


def test_the_alias_table_covers_every_kind_and_column():
    assert set(HEADER_ALIASES) == set(KINDS) == set(COLUMNS)
    for kind in KINDS:
        assert set(HEADER_ALIASES[kind]) == {c.name for c in COLUMNS[kind]}


@pytest.mark.parametrize("kind", KINDS)
def test_no_header_means_two_columns_of_one_kind(kind):
    seen: dict[str, str] = {}
    for column, aliases in HEADER_ALIASES[kind].items():
        for header in (column, *aliases):
            key = " ".join(fold(header).replace("_", " ").replace(" / ", "/").split())
            assert seen.setdefault(key, column) == column, (kind, header, seen[key], column)


@pytest.fixture
def a_valid_row(ward_a) -> dict[str, dict[str, str]]:
    """For every kind, one valid row by contract column (the entities it refers to exist)."""
    area = make_community(ward_a, code="TDP01")
    clan = make_clan(ward_a, code="DH01")
    make_family(ward_a, code="HGD01", community=area, clan=clan)
    make_unit(ward_a, code="DV01")
    return {
        "communities": {"ward": "70", "code": "T9", "name": "Thôn 9", "area_type": "thôn"},
        "families": {
            "ward": "70",
            "code": "H9",
            "head_name": "Lê Văn Tám",
            "members": "3",
            "community": "TDP01",
            "clan": "DH01",
        },
        "clans": {"ward": "70", "code": "DH9", "name": "Dòng họ Lê", "head_name": "Lê Văn Chín"},
        "units": {
            "ward": "70",
            "code": "DV9",
            "name": "Trường Mầm non",
            "unit_type": "trường học",
            "staff": "12",
        },
        "citizens": {
            "ward": "70",
            "code": "CD9",
            "full_name": "Lê Thị Mười",
            "birth_year": "1990",
            "family": "HGD01",
            "unit": "DV01",
        },
    }


@pytest.mark.parametrize(
    ("kind", "column", "alias"),
    [
        (kind, column, alias)
        for kind, columns in HEADER_ALIASES.items()
        for column, aliases in columns.items()
        for alias in aliases
    ],
)
def test_every_documented_alias_is_accepted(a_valid_row, kind, column, alias):
    values = a_valid_row[kind]
    header = [alias if name == column else name for name in values]
    report = run_import(kind, csv_bytes([header, list(values.values())]), dry_run=True)
    assert report.ok, report.errors
    assert report.created == 1
    assert not report.notes


# --- Refusing: every bad input names row, column and reason, and writes nothing -----------------


def test_unknown_ward(ward_a, area_a):
    before = entity_count()
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H2", ward="99999")]
    report = run_import("families", csv_bytes(rows))
    assert_refused(report, row=3, column="ward", reason="no commune/ward in force has the code")
    assert "“99999”" in report.errors[0].reason
    assert entity_count() == before


def test_a_ward_no_longer_in_force_is_refused(province):
    merged = WardFactory(code="00071", parent=province, valid_to=dt.date(2025, 6, 30))
    make_community(merged, code="TDP01")
    before = entity_count()
    report = run_import("families", csv_bytes([FAMILY_HEADER, family_row(ward="00071")]))
    assert_refused(report, row=2, column="ward", reason="no commune/ward in force")
    assert entity_count() == before


def test_a_community_missing_from_the_ward_is_refused(ward_a, area_a):
    before = entity_count()
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H2", community="TDP99")]
    report = run_import("families", csv_bytes(rows))
    assert_refused(
        report,
        row=3,
        column="community",
        reason="no residential area with the code “TDP99” in commune/ward 00070",
    )
    assert entity_count() == before


def test_a_community_of_another_ward_is_refused(ward_a, ward_b, area_a):
    make_community(ward_b, code="TDP-B")
    before = entity_count()
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H2", community="TDP-B")]
    report = run_import("families", csv_bytes(rows))
    assert_refused(report, row=3, column="community", reason="no residential area")
    assert entity_count() == before


def test_a_clan_of_another_ward_is_refused(ward_a, ward_b, area_a):
    make_clan(ward_b, code="DH-B")
    before = entity_count()
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H2", clan="DH-B")]
    report = run_import("families", csv_bytes(rows))
    assert_refused(
        report, row=3, column="clan", reason="no clan with the code “DH-B” in commune/ward 00070"
    )
    assert entity_count() == before


def test_a_reference_to_an_entity_of_another_kind_is_refused(ward_a, area_a):
    make_clan(ward_a, code="SAME")
    before = entity_count()
    report = run_import("families", csv_bytes([FAMILY_HEADER, family_row(community="SAME")]))
    assert_refused(report, row=2, column="community", reason="no residential area")
    assert entity_count() == before


def test_a_citizens_family_and_unit_of_another_ward_are_refused(ward_a, ward_b):
    make_family(ward_b, code="HGD-B")
    make_unit(ward_b, code="DV-B")
    before = entity_count()
    data = csv_bytes(
        [
            ["ward", "code", "full_name", "birth_year", "family", "unit"],
            ["00070", "CD1", "Trần Thị Bình", "1985", "HGD-B", "DV-B"],
        ]
    )
    report = run_import("citizens", data)
    assert_refused(report, row=2, column="family", reason="no family with the code “HGD-B”")
    assert_refused(report, row=2, column="unit", reason="no unit with the code “DV-B”")
    assert entity_count() == before


def test_a_duplicate_code_in_the_file_is_refused(ward_a, area_a):
    before = entity_count()
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H2"), family_row("H1", ward="70")]
    report = run_import("families", csv_bytes(rows))
    assert_refused(report, row=4, column="code", reason="is already on row 2")
    assert [e.row for e in report.errors] == [4]
    assert entity_count() == before


def test_the_same_code_in_two_wards_is_not_a_duplicate(ward_a, ward_b, area_a):
    make_community(ward_b, code="TDP01")
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H1", ward="00004")]
    report = run_import("families", csv_bytes(rows))
    assert report.ok, report.errors
    assert report.created == 2


def test_a_missing_required_column_is_refused(ward_a, area_a):
    before = entity_count()
    rows = [
        ["ward", "code", "head_name", "community"],
        ["00070", "H1", "Nguyễn Văn An", "TDP01"],
    ]
    report = run_import("families", csv_bytes(rows))
    assert_refused(report, row=1, column="members", reason="required column is missing")
    assert "Số nhân khẩu" in report.errors[0].reason
    assert entity_count() == before


def test_two_columns_meaning_the_same_are_refused(ward_a, area_a):
    rows = [[*FAMILY_HEADER, "Mã hộ"], [*family_row(), "H2"]]
    report = run_import("families", csv_bytes(rows))
    assert_refused(report, row=1, column="code", reason="“code” and “Mã hộ” both mean code")
    assert entity_count() == 1


@pytest.mark.parametrize("column", ["ward", "code", "head_name", "members", "community"])
def test_an_empty_required_cell_is_refused(ward_a, area_a, column):
    before = entity_count()
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H2")]
    rows[2][FAMILY_HEADER.index(column)] = "   "
    report = run_import("families", csv_bytes(rows))
    assert_refused(report, row=3, column=column, reason="this cell is empty")
    assert entity_count() == before


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "“abc” is not a whole number"),
        ("4.5", "“4.5” is not a whole number"),
        ("4,5", "“4,5” is not a whole number"),
        ("=2+2", "“=2+2” is not a whole number"),
        ("0", "must be at least 1, not 0"),
        ("-3", "must be at least 1, not -3"),
        ("99999999999", "too large"),
    ],
)
def test_a_bad_member_count_is_refused(ward_a, area_a, value, reason):
    before = entity_count()
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H2", members=value)]
    report = run_import("families", csv_bytes(rows))
    assert_refused(report, row=3, column="members", reason=reason)
    assert entity_count() == before


def test_whole_numbers_written_with_a_sign_or_a_zero_fraction_are_accepted(ward_a, area_a):
    rows = [FAMILY_HEADER, family_row("H1", members="+4"), family_row("H2", members="5.0")]
    report = run_import("families", csv_bytes(rows))
    assert report.ok, report.errors
    assert sorted(Family.objects.values_list("members", flat=True)) == [4, 5]


@pytest.mark.parametrize(("value", "reason"), [("0", "at least 1"), ("-12", "at least 1")])
def test_a_bad_staff_count_is_refused(ward_a, value, reason):
    data = csv_bytes(
        [["ward", "code", "name", "unit_type", "staff"], ["00070", "DV1", "UBND", "agency", value]]
    )
    report = run_import("units", data)
    assert_refused(report, row=2, column="staff", reason=reason)
    assert entity_count() == 0


def test_an_unknown_unit_type_is_refused(ward_a):
    data = csv_bytes(
        [["ward", "code", "name", "unit_type", "staff"], ["00070", "DV1", "UBND", "bệnh viện", "9"]]
    )
    report = run_import("units", data)
    assert_refused(report, row=2, column="unit_type", reason="“bệnh viện” is not one of: agency")
    assert entity_count() == 0


def test_an_unknown_area_type_is_refused(ward_a):
    data = csv_bytes([["ward", "code", "name", "area_type"], ["00070", "T1", "Ấp 1", "ấp"]])
    report = run_import("communities", data)
    assert_refused(report, row=2, column="area_type", reason="“ấp” is not one of")
    assert entity_count() == 0


@pytest.mark.parametrize("year", ["1899", "0", "-1990", "1985.5", "năm 1985", "next"])
def test_a_bad_birth_year_is_refused(ward_a, year):
    year = str(timezone.localdate().year + 1) if year == "next" else year
    data = csv_bytes(
        [["ward", "code", "full_name", "birth_year"], ["00070", "CD1", "Trần Thị Bình", year]]
    )
    report = run_import("citizens", data)
    assert not report.ok
    assert [(e.row, e.column) for e in report.errors] == [(2, "birth_year")]
    assert entity_count() == 0


def test_birth_years_at_both_ends_of_the_range_are_accepted(ward_a):
    this_year = timezone.localdate().year
    data = csv_bytes(
        [
            ["ward", "code", "full_name", "birth_year"],
            ["00070", "CD1", "Cụ Bà", "1900"],
            ["00070", "CD2", "Bé Na", str(this_year)],
        ]
    )
    report = run_import("citizens", data)
    assert report.ok, report.errors
    assert sorted(Citizen.objects.values_list("birth_year", flat=True)) == [1900, this_year]


def test_a_birth_year_out_of_range_names_the_range(ward_a):
    data = csv_bytes(
        [["ward", "code", "full_name", "birth_year"], ["00070", "CD1", "Trần Thị Bình", "1899"]]
    )
    report = run_import("citizens", data)
    last = timezone.localdate().year
    assert_refused(
        report, row=2, column="birth_year", reason=f"must be a year from 1900 to {last}, not 1899"
    )


def test_a_name_longer_than_255_characters_is_a_row_error(ward_a, area_a):
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H2", head_name="Nguyễn " * 40)]
    report = run_import("families", csv_bytes(rows))
    assert_refused(report, row=3, column="head_name", reason="longer than 255 characters (279)")
    assert entity_count() == 1


def test_a_code_longer_than_64_characters_is_a_row_error(ward_a, area_a):
    report = run_import("families", csv_bytes([FAMILY_HEADER, family_row("H" * 65)]))
    assert_refused(report, row=2, column="code", reason="longer than 64 characters (65)")
    assert entity_count() == 1


def test_every_bad_row_is_reported_in_sheet_order(ward_a, area_a):
    rows = [
        FAMILY_HEADER,
        family_row("H1", members="0", community="NOPE"),
        family_row("H2"),
        family_row("H3", ward="12345"),
    ]
    report = run_import("families", csv_bytes(rows))
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "members"),
        (2, "community"),
        (4, "ward"),
    ]
    assert entity_count() == 1


# --- Refusing whole files -----------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "name"), [("utf-16", "Đặng Thị Ánh"), ("cp1252", "Ánh")])
def test_a_file_that_is_not_utf8_is_refused_with_advice(ward_a, area_a, encoding, name):
    data = csv_bytes([FAMILY_HEADER, family_row(head_name=name)], encoding=encoding)
    report = run_import("families", data)
    assert_refused(report, row=0, column="", reason="not UTF-8")
    assert "CSV UTF-8" in report.errors[0].reason
    assert entity_count() == 1


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b" , ,\n"])
def test_an_empty_file_is_refused(ward_a, data):
    report = run_import("families", data)
    assert_refused(report, row=0, column="", reason="The file is empty.")
    assert entity_count() == 0


def test_a_header_only_file_is_refused(ward_a):
    report = run_import("families", csv_bytes([FAMILY_HEADER, ["", "", ""]]))
    assert_refused(report, row=0, column="", reason="a header row but no data rows")
    assert report.rows == 0


def test_blank_rows_above_the_header_are_skipped_and_rows_keep_the_file_s_numbers(ward_a, area_a):
    report = run_import("families", csv_bytes([[], FAMILY_HEADER, family_row(members="0")]))
    assert_refused(report, row=3, column="members", reason="must be at least 1")
    report = run_import("families", csv_bytes([[], FAMILY_HEADER, family_row()]))
    assert report.ok, report.errors
    assert entity_count() == 2


@pytest.mark.parametrize("filename", ["households.xls", "households.txt", "households"])
def test_other_file_types_are_refused(ward_a, area_a, filename):
    report = run_import("families", csv_bytes([FAMILY_HEADER, family_row()]), filename=filename)
    assert_refused(report, row=0, column="", reason="Only .csv and .xlsx files can be imported")
    assert entity_count() == 1


def test_the_extension_is_case_insensitive(ward_a, area_a):
    report = run_import("families", csv_bytes([FAMILY_HEADER, family_row()]), filename="HO.CSV")
    assert report.ok, report.errors


def test_a_file_over_the_size_limit_is_refused(ward_a, area_a, settings):
    data = csv_bytes([FAMILY_HEADER] + [family_row(f"H{i}") for i in range(50)])
    settings.IMPORT_MAX_BYTES = len(data) - 1
    report = run_import("families", data)
    assert_refused(report, row=0, column="", reason="larger than the limit")
    assert entity_count() == 1
    settings.IMPORT_MAX_BYTES = len(data)
    assert run_import("families", data).created == 50


def test_an_unknown_kind_is_a_programming_error(ward_a):
    with pytest.raises(ValueError, match="unknown kind"):
        run_import("households", csv_bytes([FAMILY_HEADER]))


# --- Scope ---------------------------------------------------------------------------------------


def test_staff_imports_rows_of_their_own_ward(alice, ward_a, area_a):
    report = run_import("families", csv_bytes([FAMILY_HEADER, family_row()]), user=alice)
    assert report.ok, report.errors
    assert report.created == 1


def test_staff_cannot_import_rows_of_another_ward(alice, ward_a, ward_b, area_a):
    make_community(ward_b, code="TDP01")
    before = entity_count()
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H2", ward="00004")]
    report = run_import("families", csv_bytes(rows), user=alice)
    assert_refused(report, row=3, column="ward", reason="in your scope")
    assert [e.row for e in report.errors] == [3]
    assert entity_count() == before


def test_the_neighbours_staff_cannot_import_into_ward_a(eve, ward_a, area_a):
    report = run_import("families", csv_bytes([FAMILY_HEADER, family_row()]), user=eve)
    assert_refused(report, row=2, column="ward", reason="in your scope")
    assert entity_count() == 1


def test_an_admin_imports_into_any_ward(dave, ward_a, ward_b, area_a):
    make_community(ward_b, code="TDP01")
    rows = [FAMILY_HEADER, family_row("H1"), family_row("H1", ward="00004")]
    report = run_import("families", csv_bytes(rows), user=dave)
    assert report.ok, report.errors
    assert report.created == 2


@pytest.mark.parametrize("who", ["carol", "bob", "nobody"])
def test_users_who_may_not_edit_the_registry_are_denied(request, ward_a, area_a, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        run_import("families", csv_bytes([FAMILY_HEADER, family_row()]), user=user)
    assert entity_count() == 1
