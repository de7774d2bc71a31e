"""Reports: the workbook in the layout sent upward, the roll-up CSV, their scoping and their
defence against formulas (names typed by users are stored verbatim and neutralised on export)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from registry.models import Kind, RollupLevel
from tests.factories import (
    WardFactory,
    make_citizen,
    make_clan,
    make_community,
    make_family,
    make_unit,
)
from tests.titles.factories import registration
from titles.models import State, Target
from titles.reports import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    SHEET_NAMES,
    SIDE_COLUMNS,
    SUMMARY_SHEET,
    TITLE_ROW,
    neutralise,
    report_csv,
    report_workbook,
)
from titles.selectors import ROLLUP_COLUMNS, rollup_rows
from titles.services.rollups import rollups_refresh

YEAR = 2025
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TITLE_SHEETS = [SHEET_NAMES[k] for k in ("family", "clan", "community", "unit", "citizen")]
# The sheets the other areas of work add after the titles' (registered at start-up through
# registry.sections): groups and digital literacy, then the support programmes.
AREA_SHEETS = ["Nhóm - Bình dân học vụ số", "Programmes"]
# Title-sheet columns (1-based): No., Code, Name, Entities, Registered, Recognised, Outstanding,
# Rate, Registered rate, Target, Status.
NAME, COUNTS, RATE, REG_RATE, TARGET, STATUS = 3, range(4, 8), 8, 9, 10, 11

EVIL_AREA = '=HYPERLINK("http://evil.example/","click")'


@pytest.fixture
def world(province, ward_a, ward_b, other_province, ward_x):
    """Three wards in province 01 (one named like a formula), one in province 17.

    Ward A: areas "=HYPERLINK(…" (2 households), "@x …" (1), code "-3" (1); one citizen in a
    household, one without any (counted by the ward, by no area); a clan and a unit.
    """
    ward_plus = WardFactory(code="00099", name="+1 Phường Thử", parent=province)
    evil = make_community(ward_a, code="TDP01", name=EVIL_AREA)
    at_x = make_community(ward_a, code="TDP02", name="@x Tổ dân phố 2")
    minus = make_community(ward_a, code="-3", name="Tổ dân phố 3")
    f1 = make_family(ward_a, code="HGD01", head_name="Nguyễn Văn An", community=evil)
    f2 = make_family(ward_a, code="HGD02", head_name="-Lê Văn Bình", community=evil)
    f3 = make_family(ward_a, code="HGD03", head_name="Trần Văn Cường", community=at_x)
    make_family(ward_a, code="HGD04", head_name="Phạm Văn Dũng", community=minus)
    c1 = make_citizen(ward_a, code="CD01", full_name="Nguyễn Thị Hoa", family=f1)
    c2 = make_citizen(ward_a, code="CD02", full_name="@Vũ Thị Lan")
    clan = make_clan(ward_a, code="DH01", name="-Dòng họ Nguyễn")
    unit_a = make_unit(ward_a, code="DV01", name="=Trường Tiểu học A")
    area_b = make_community(ward_b, code="TDP01", name="Tổ dân phố 1")
    g1 = make_family(ward_b, code="HGD01", community=area_b)
    make_family(ward_b, code="HGD02", head_name="Đỗ Văn Em", community=area_b)
    unit_b = make_unit(ward_b, code="DV01")
    make_family(ward_plus, code="HGD01")
    make_family(ward_x, code="HGD01")

    registration(f1.entity, state=State.RECOGNIZED, outstanding=True)
    registration(f2.entity, state=State.RECOGNIZED)
    registration(f3.entity)
    registration(c1.entity, state=State.RECOGNIZED)
    registration(c2.entity, state=State.RECOGNIZED)
    registration(evil.entity, state=State.RECOGNIZED)
    registration(clan.entity)
    registration(unit_a.entity, state=State.RECOGNIZED)
    registration(g1.entity, state=State.RECOGNIZED)
    registration(unit_b.entity)
    rollups_refresh(ward_ids=[ward_a.pk, ward_b.pk, ward_plus.pk, ward_x.pk])
    Target.objects.create(unit=province, kind=Kind.FAMILY, year=YEAR, min_rate=70, max_rate=80)
    Target.objects.create(unit=ward_a, kind=Kind.FAMILY, year=YEAR, min_rate=40, max_rate=50)
    return {"ward_plus": ward_plus}


def _get(client, user, **params):
    client.force_login(user)
    params.setdefault("year", YEAR)
    return client.get(reverse("report_download"), params)


def _workbook(response):
    assert response.status_code == 200, response.content[:500]
    return load_workbook(io.BytesIO(response.content))


def _table(ws) -> list[tuple]:
    """The rows of a sheet's table, as values: from the first data row to the first blank one
    (the signature block follows the table after a blank row)."""
    rows = []
    for row in ws.iter_rows(min_row=FIRST_DATA_ROW, values_only=True):
        if all(value in (None, "") for value in row):
            break
        rows.append(row)
    return rows


def _rows(ws) -> tuple[list[tuple], tuple]:
    """The data rows and the TOTAL row (the last one) of a title sheet, as values."""
    rows = _table(ws)
    assert rows[-1][NAME - 1] == "TOTAL"
    return rows[:-1], rows[-1]


def _rate(part: int, whole: int) -> float | None:
    if not whole:
        return None
    return float((Decimal(part) * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP) / 100)


def _csv_bytes(response) -> bytes:
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content)


def _csv(response) -> list[list[str]]:
    text = _csv_bytes(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- the workbook ----------------------------------------------------------------------------


def test_province_workbook_opens_with_the_forms_sheets(client, carol, world):
    response = _get(client, carol, unit="01", format="xlsx")
    workbook = _workbook(response)
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="bao-cao-hoc-tap-01-2025.xlsx"'
    )
    assert workbook.sheetnames == [
        "Tổng hợp",
        "Gia đình học tập",
        "Dòng họ học tập",
        "Cộng đồng học tập",
        "Đơn vị học tập",
        "Công dân học tập",
        # The sheets of the other areas of work, registered at start-up (registry.sections).
        *AREA_SHEETS,
    ]
    summary = workbook[SUMMARY_SHEET]
    assert summary.cell(TITLE_ROW, 1).value == "REPORT ON BUILDING LEARNING MODELS IN 2025"
    assert summary.cell(TITLE_ROW + 1, 1).value == "Thành phố Hà Nội (01)"
    assert summary.cell(TITLE_ROW + 3, 1).value.startswith("Exported on ")
    assert summary.freeze_panes == f"A{FIRST_DATA_ROW}"
    assert [c.value for c in summary[HEADER_ROW]][:4] == ["No.", "Title", "Entities", "Registered"]


def test_format_defaults_to_the_workbook(client, carol, world):
    assert _workbook(_get(client, carol, unit="01")).sheetnames[0] == SUMMARY_SHEET


@pytest.mark.parametrize("unit", ["01", "00070"])
def test_each_title_sheets_total_is_the_sum_of_its_rows(client, dave, world, unit):
    workbook = _workbook(_get(client, dave, unit=unit))
    for name in TITLE_SHEETS:
        rows, total = _rows(workbook[name])
        assert rows, name
        sums = [sum(row[c - 1] for row in rows) for c in COUNTS]
        assert [total[c - 1] for c in COUNTS] == sums, name
        entities, registered, recognized, _outstanding = sums
        assert total[RATE - 1] == _rate(recognized, entities), name
        assert total[REG_RATE - 1] == _rate(recognized, registered), name


@pytest.mark.parametrize("unit", ["01", "00070"])
def test_each_title_sheets_total_equals_the_summary_row(client, dave, world, unit):
    workbook = _workbook(_get(client, dave, unit=unit))
    summary = _table(workbook[SUMMARY_SHEET])
    assert len(summary) == 5
    for summary_row, name in zip(summary, TITLE_SHEETS, strict=True):
        _rows_above, total = _rows(workbook[name])
        # Summary columns: No., Title, then the same figures as the title sheets from column 3.
        assert summary_row[2:] == total[3:], name


def test_summary_equals_the_province_rollup(client, carol, world):
    workbook = _workbook(_get(client, carol, unit="01"))
    summary = {row[1]: row for row in _table(workbook[SUMMARY_SHEET])}
    expected = rollup_rows(user=carol, year=YEAR, level=RollupLevel.PROVINCE, unit_code="01")
    assert {row["kind"] for row in expected} == set(Kind.values)
    for row in expected:
        line = summary[str(Kind(row["kind"]).label)]
        assert list(line[2:6]) == [
            row["entities"],
            row["registered"],
            row["recognized"],
            row["outstanding"],
        ]
        assert line[6] == (None if row["rate"] is None else float(row["rate"] / 100))
        assert line[7] == (
            None if row["registered_rate"] is None else float(row["registered_rate"] / 100)
        )
    family = summary["Learning Family"]
    # 7 households, 3 recognised (2 in ward A, 1 in ward B): 42.9%, below the 70–80% plan.
    assert list(family[2:]) == [7, 4, 3, 1, 0.429, 0.75, "70–80%", "Below target"]


def test_province_sheet_has_a_row_per_ward_with_its_figures(client, carol, world):
    workbook = _workbook(_get(client, carol, unit="01"))
    rows, total = _rows(workbook["Gia đình học tập"])
    assert [(r[1], r[2]) for r in rows] == [
        ("00004", "Phường Ba Đình"),
        ("00070", "Phường Hoàn Kiếm"),
        ("00099", "'+1 Phường Thử"),
    ]
    ward_b, ward_a, ward_plus = rows
    assert ward_a[3:] == (4, 3, 2, 1, 0.5, 0.667, "40–50%", "On track")
    assert ward_b[3:] == (2, 1, 1, 0, 0.5, 1.0, "70–80%", "Below target")
    assert ward_plus[3:] == (1, 0, 0, 0, 0.0, None, "70–80%", "Below target")
    assert total[3:7] == (7, 4, 3, 1)
    # A ward with no clan at all still has its row, with zeros and no rate.
    clan_rows, clan_total = _rows(workbook["Dòng họ học tập"])
    assert [r[3:7] for r in clan_rows] == [(0, 0, 0, 0), (1, 1, 0, 0), (0, 0, 0, 0)]
    assert clan_rows[0][RATE - 1] is None
    assert clan_total[3:8] == (1, 1, 0, 0, 0.0)


def test_ward_report_has_a_row_per_residential_area_for_area_titles(client, alice, world):
    workbook = _workbook(_get(client, alice, unit="00070"))
    summary = workbook[SUMMARY_SHEET]
    assert summary.cell(TITLE_ROW + 1, 1).value == "Phường Hoàn Kiếm (00070) — Thành phố Hà Nội"
    family_rows, family_total = _rows(workbook["Gia đình học tập"])
    assert [(r[1], r[2], r[3], r[5]) for r in family_rows] == [
        ("00070/-3", "Tổ dân phố 3", 1, 0),
        ("00070/TDP01", "'" + EVIL_AREA, 2, 2),
        ("00070/TDP02", "'@x Tổ dân phố 2", 1, 0),
    ]
    assert family_total[3:7] == (4, 3, 2, 1)
    # The citizen without a household is counted by the ward and by no area: its own row.
    citizen_rows, citizen_total = _rows(workbook["Công dân học tập"])
    assert [(r[2], r[3], r[4], r[5]) for r in citizen_rows] == [
        ("Tổ dân phố 3", 0, 0, 0),
        ("'" + EVIL_AREA, 1, 1, 1),
        ("'@x Tổ dân phố 2", 0, 0, 0),
        ("Not in a residential area", 1, 1, 1),
    ]
    assert citizen_total[3:8] == (2, 2, 2, 0, 1.0)
    # Clans and units do not roll up by area: the ward's own row.
    for name, figures in [("Dòng họ học tập", (1, 1, 0, 0)), ("Đơn vị học tập", (1, 1, 1, 0))]:
        rows, total = _rows(workbook[name])
        assert [(r[1], r[2], *r[3:7]) for r in rows] == [("00070", "Phường Hoàn Kiếm", *figures)]
        assert total[3:7] == figures
    assert workbook["Gia đình học tập"].cell(HEADER_ROW, NAME).value == "Residential area"
    assert workbook["Dòng họ học tập"].cell(HEADER_ROW, NAME).value == "Commune/ward"


def test_rates_and_counts_have_number_formats(client, carol, world):
    ws = _workbook(_get(client, carol, unit="01"))["Gia đình học tập"]
    row = FIRST_DATA_ROW
    # Vietnamese number formats: the locale tag makes "." group thousands and "," mark
    # decimals (1.234; 39,3%) in a spreadsheet that reads it.
    assert ws.cell(row, RATE).number_format == "[$-42A]0.0%"
    assert ws.cell(row, REG_RATE).number_format == "[$-42A]0.0%"
    for column in COUNTS:
        assert ws.cell(row, column).number_format == "[$-42A]#,##0"
    summary = _workbook(_get(client, carol, unit="01"))[SUMMARY_SHEET]
    assert [summary.cell(FIRST_DATA_ROW, c).number_format for c in range(3, 9)] == [
        *["[$-42A]#,##0"] * 4,
        *["[$-42A]0.0%"] * 2,
    ]
    assert isinstance(ws.cell(row, COUNTS[0]).value, int)
    assert ws.column_dimensions["C"].width == 36


@pytest.mark.parametrize("unit", ["01", "00070"])
def test_no_cell_of_the_workbook_starts_a_formula(client, dave, world, unit):
    workbook = _workbook(_get(client, dave, unit=unit))
    texts = []
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if cell.value is not None:
                    assert not str(cell.value).startswith(FORMULA_START), (ws.title, cell.value)
                    texts.append(str(cell.value))
    # The hostile names were exported, neutralised rather than dropped.
    expected = "'+1 Phường Thử" if unit == "01" else "'" + EVIL_AREA
    assert expected in texts


def test_a_hostile_unit_name_is_neutralised_in_the_title_block(dave, world):
    content = report_workbook(user=dave, unit_code="00099", year=YEAR)
    summary = load_workbook(io.BytesIO(content))[SUMMARY_SHEET]
    assert summary.cell(TITLE_ROW + 1, 1).value == "'+1 Phường Thử (00099) — Thành phố Hà Nội"
    # The letterhead names the ward too, and cannot start a formula either.
    assert summary["A2"].value == "HỘI KHUYẾN HỌC +1 PHƯỜNG THỬ"
    assert summary["F3"].value.startswith("'+1 Phường Thử, ngày ")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+84 912", "'+84 912"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Tổ 1 = tổ 2", "Tổ 1 = tổ 2"),
        ("bell\x07=", "bell="),
        ("", ""),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_workbook_queries_do_not_grow_with_wards_and_areas(client, dave, world, province, ward_a):
    client.force_login(dave)
    url = reverse("report_download")
    for unit in ("01", "00070"):
        with CaptureQueriesContext(connection) as before:
            assert client.get(url, {"unit": unit, "year": YEAR}).status_code == 200
        for n in range(3):
            ward = WardFactory(code=f"008{unit[-1]}{n}", parent=province)
            make_family(ward, code="HGD01", community=make_community(ward, code="TDP01"))
            make_community(ward_a, code=f"TDP9{unit}{n}", name=f"Tổ {n}")
        with CaptureQueriesContext(connection) as after:
            assert client.get(url, {"unit": unit, "year": YEAR}).status_code == 200
        assert len(after) == len(before), unit


@pytest.mark.vietnamese
def test_vietnamese_headers_in_vietnamese(client, carol, world):
    workbook = _workbook(_get(client, carol, unit="01"))
    headers = [c.value for c in workbook["Gia đình học tập"][HEADER_ROW]]
    assert headers[:3] == ["STT", "Mã", "Xã/phường"]
    assert headers[4:7] == ["Đã đăng ký", "Được công nhận", "Tiêu biểu"]
    summary = workbook[SUMMARY_SHEET]
    assert summary.cell(FIRST_DATA_ROW, 2).value == "Gia đình học tập"


# --- CSV -------------------------------------------------------------------------------------


def test_csv_has_the_contract_columns_and_rows(client, carol, world):
    response = _get(client, carol, unit="01", format="csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="bao-cao-hoc-tap-01-2025-ward.csv"'
    )
    rows = _csv(response)
    assert rows[0] == list(ROLLUP_COLUMNS)
    expected = rollup_rows(user=carol, year=YEAR, level=RollupLevel.WARD, unit_code="01")
    assert len(rows) == len(expected) + 1
    family_a = next(r for r in rows if r[0] == "00070" and r[3] == "family")
    assert family_a == [
        "00070",
        "Phường Hoàn Kiếm",
        "2025",
        "family",
        "4",
        "3",
        "2",
        "1",
        "50.0",
        "66.7",
        "40.00",
        "50.00",
        "on_track",
    ]
    assert {r[1] for r in rows if r[0] == "00099"} == {"'+1 Phường Thử"}


def test_csv_of_residential_areas_neutralises_names(client, alice, world):
    rows = _csv(_get(client, alice, unit="00070", format="csv", level="community"))
    assert rows[0] == list(ROLLUP_COLUMNS)
    names = {r[1] for r in rows[1:]}
    assert "'" + EVIL_AREA in names
    assert "'@x Tổ dân phố 2" in names
    codes = {r[0] for r in rows[1:]}
    assert "00070/-3" in codes  # starts with a digit: left as it is
    for row in rows:
        for value in row:
            assert not value.startswith(FORMULA_START), value


def _csv_as_first_written(rows: list[dict]) -> bytes:
    """The roll-up CSV as the first version of the export wrote it: the format is a contract."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ROLLUP_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                ""
                if row[c] is None
                else neutralise(row[c])
                if isinstance(row[c], str)
                else str(row[c])
                for c in ROLLUP_COLUMNS
            ]
        )
    return buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize(
    ("user", "unit", "level"),
    [
        ("carol", "01", "community"),
        ("carol", "01", "ward"),
        ("carol", "01", "province"),
        ("alice", "00070", "community"),
    ],
)
def test_csv_bytes_are_the_contract_format(client, request, world, user, unit, level):
    """Streamed by the page or written whole by the job, the bytes are the format's."""
    user = request.getfixturevalue(user)
    expected = _csv_as_first_written(rollup_rows(user=user, year=YEAR, level=level, unit_code=unit))
    streamed = _csv_bytes(_get(client, user, unit=unit, format="csv", level=level))
    assert streamed == expected
    assert report_csv(user=user, unit_code=unit, year=YEAR, level=level).encode() == expected
    if level == "community" and user.username == "alice":
        assert (
            '00070/TDP01,"\'=HYPERLINK(""http://evil.example/"",""click"")",2025,'
            "family,2,2,2,1,100.0,100.0,40.00,50.00,above"
        ) in expected.decode().split("\r\n")


def test_csv_of_a_province_areas_runs_a_fixed_number_of_queries(client, carol, province, world):
    def count() -> int:
        client.force_login(carol)
        with CaptureQueriesContext(connection) as ctx:
            _csv_bytes(_get(client, carol, unit="01", format="csv", level="community"))
        return len(ctx.captured_queries)

    before = count()
    ward = WardFactory(parent=province)
    for i in range(5):
        area = make_community(ward, code=f"TDP{i}")
        registration(make_family(ward, code=f"HGD{i}", community=area).entity)
    rollups_refresh(ward_ids=[ward.pk])
    assert count() == before


def test_csv_at_province_level_for_a_province(client, carol, world):
    rows = _csv(_get(client, carol, unit="01", format="csv", level="province"))
    assert {r[0] for r in rows[1:]} == {"01"}
    assert len(rows) == 1 + 5


# --- scope and parameters --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "unit", "status"),
    [
        ("alice", "00070", 200),
        ("alice", "00004", 404),
        ("alice", "01", 404),
        ("bob", "00070", 200),
        ("bob", "01", 404),
        ("carol", "01", 200),
        ("carol", "00004", 200),
        ("carol", "17", 404),
        ("carol", "04825", 404),
        ("eve", "00070", 404),
        ("mallory", "01", 404),
        ("mallory", "00070", 404),
        ("mallory", "04825", 200),
        ("dave", "17", 200),
        ("nobody", "01", 404),
        ("nobody", "00070", 404),
        ("dave", "99999", 404),
    ],
)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_download_is_scoped(client, request, world, user, unit, status, fmt):
    response = _get(client, request.getfixturevalue(user), unit=unit, format=fmt)
    assert response.status_code == status


def test_anonymous_is_sent_to_log_in(client, world):
    response = client.get(reverse("report_download"), {"unit": "01", "year": YEAR})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": YEAR}, "Choose a province or commune/ward."),
        ({"unit": "01", "year": ""}, "Enter the year of the report."),
        ({"unit": "01", "year": "abc"}, "Enter a whole number."),
        ({"unit": "01", "year": "1800"}, "greater than or equal to 2000"),
        ({"unit": "01", "year": YEAR, "format": "pdf"}, "Select a valid choice."),
        ({"unit": "01", "year": YEAR, "format": "csv", "level": "x"}, "Select a valid choice."),
        ({"unit": "0" * 11, "year": YEAR}, "at most 10 characters"),
    ],
)
def test_bad_parameters_are_400_with_a_message(client, carol, world, params, message):
    client.force_login(carol)
    response = client.get(reverse("report_download"), params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_provinces_cannot_be_listed_for_a_ward(client, alice, world):
    response = _get(client, alice, unit="00070", format="csv", level="province")
    assert response.status_code == 400
    assert "A commune/ward report cannot list provinces." in response.content.decode()


# --- the choosing page -----------------------------------------------------------------------


def test_choosing_page_offers_only_units_in_scope(client, alice, carol, world):
    client.force_login(alice)
    response = client.get(reverse("reports"))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'action="{reverse("report_download")}"' in page
    assert 'value="00070" selected' in page
    assert 'value="00004"' not in page
    assert 'value="01"' not in page
    assert 'name="year"' in page

    client.force_login(carol)
    page = client.get(reverse("reports")).content.decode()
    for code in ("01", "00004", "00070", "00099"):
        assert f'value="{code}"' in page
    assert 'value="04825"' not in page
    assert 'value="17"' not in page


def test_choosing_page_without_a_role(client, nobody, world):
    client.force_login(nobody)
    response = client.get(reverse("reports"))
    assert response.status_code == 200
    assert "No role yet" in response.content.decode()
    assert 'name="unit"' not in response.content.decode()


def test_choosing_page_needs_a_login(client, world):
    response = client.get(reverse("reports"))
    assert response.status_code == 302


# --- the workbook on paper ---------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["01", "00070"])
def test_every_sheet_prints_landscape_one_page_wide_with_its_header_repeated(
    client, dave, world, unit
):
    workbook = _workbook(_get(client, dave, unit=unit))
    for ws in workbook.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert str(ws.page_setup.paperSize) == "9", ws.title  # A4
        assert ws.page_setup.fitToWidth == 1, ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title  # as many pages down as it takes
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}", ws.title


def _merged_text(ws) -> dict[str, str]:
    """{range: text} of the merged ranges that hold text (the letterhead, signatures, titles)."""
    return {
        str(merged): ws.cell(merged.min_row, merged.min_col).value
        for merged in ws.merged_cells.ranges
        if ws.cell(merged.min_row, merged.min_col).value
    }


def _right_side(ws) -> tuple[str, str]:
    """The first and last column letters of the right side of a sheet's letterhead and
    signature block: the last `SIDE_COLUMNS["right"]` columns of its table."""
    width = sum(1 for cell in ws[HEADER_ROW] if cell.value)
    return get_column_letter(width - SIDE_COLUMNS["right"] + 1), get_column_letter(width)


def test_the_right_side_spans_the_tables_last_columns(client, alice, world):
    workbook = _workbook(_get(client, alice, unit="00070"))
    assert _right_side(workbook[SUMMARY_SHEET]) == ("F", "J")
    for name in TITLE_SHEETS:
        assert _right_side(workbook[name]) == ("G", "K"), name
    assert _right_side(workbook["Nhóm - Bình dân học vụ số"]) == ("J", "N")
    assert _right_side(workbook["Programmes"]) == ("H", "L")


def test_a_ward_report_carries_its_association_letterhead(client, alice, world):
    workbook = _workbook(_get(client, alice, unit="00070"))
    today = timezone.localdate()
    assert workbook.sheetnames == [SUMMARY_SHEET, *TITLE_SHEETS, *AREA_SHEETS]
    for ws in workbook.worksheets:
        first_right, last = _right_side(ws)
        merged = _merged_text(ws)
        assert merged["A1:C1"] == "HỘI KHUYẾN HỌC THÀNH PHỐ HÀ NỘI", ws.title
        assert merged["A2:C2"] == "HỘI KHUYẾN HỌC PHƯỜNG HOÀN KIẾM", ws.title
        assert merged[f"{first_right}1:{last}1"] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
        assert merged[f"{first_right}2:{last}2"] == "Độc lập - Tự do - Hạnh phúc"
        month = f"{today.month:02d}" if today.month < 3 else str(today.month)
        assert merged[f"{first_right}3:{last}3"] == (
            f"Hoàn Kiếm, ngày {today.day:02d} tháng {month} năm {today.year}"
        )
        assert ws.cell(1, 1).font.b is False and ws.cell(2, 1).font.b is True


def test_a_province_report_speaks_for_the_province_association(client, carol, world):
    summary = _workbook(_get(client, carol, unit="01"))[SUMMARY_SHEET]
    assert summary["A1"].value == "TRUNG ƯƠNG HỘI KHUYẾN HỌC VIỆT NAM"
    assert summary["A2"].value == "HỘI KHUYẾN HỌC THÀNH PHỐ HÀ NỘI"
    assert summary["F3"].value.startswith("Hà Nội, ngày ")


@pytest.mark.parametrize("unit", ["01", "00070"])
def test_every_table_is_followed_by_the_signature_block(client, dave, world, unit):
    workbook = _workbook(_get(client, dave, unit=unit))
    for ws in workbook.worksheets:
        table = _table(ws)
        below = FIRST_DATA_ROW + len(table)
        assert all(c.value is None for c in ws[below]), ws.title  # one blank row
        first_right, _last = _right_side(ws)
        sign = below + 1
        assert ws[f"A{sign}"].value == "NGƯỜI LẬP BIỂU", ws.title
        assert ws[f"A{sign + 1}"].value == "(Ký, ghi rõ họ tên)", ws.title
        assert ws[f"{first_right}{sign}"].value == "TM. BAN CHẤP HÀNH", ws.title
        assert ws[f"{first_right}{sign + 1}"].value == "CHỦ TỊCH", ws.title
        assert ws[f"A{sign}"].font.b and ws[f"{first_right}{sign + 1}"].font.b
        # Nothing follows the signature block.
        assert ws.max_row == sign + 2, ws.title


def test_the_number_formats_in_the_file_carry_the_vietnamese_locale(dave, world):
    """What openpyxl writes into the file's styles, read back from the XML itself."""
    content = report_workbook(user=dave, unit_code="01", year=YEAR)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        styles = archive.read("xl/styles.xml").decode()
    codes = set(re.findall(r'formatCode="([^"]*)"', styles))
    assert {"[$-42A]#,##0", "[$-42A]0.0%"} <= codes
    assert not {"#,##0", "0.0%"} & codes
