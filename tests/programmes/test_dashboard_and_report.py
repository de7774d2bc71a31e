"""The Programmes tab of the dashboard and the programmes' sheet of the Excel report."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from tests.factories import make_unit
from tests.programmes.factories import make_contribution, make_delivery, make_programme
from titles.reports import COUNT_FORMAT, DATE_FORMAT, FIRST_DATA_ROW, HEADER_ROW, report_workbook


@pytest.fixture
def programme(province, ward_a):
    school = make_unit(ward_a, code="MN1", name="Trường Mầm non Hoa Sen")
    p = make_programme(province, code="=BUA")  # a code that looks like a formula
    make_contribution(p, ref="PT1", amount_vnd=2_000_000)
    make_delivery(p, school, ref="PX1", days=10, amount_vnd=68_000)
    return p


def test_the_titles_dashboard_offers_the_programmes_tab(client, carol, programme):
    client.force_login(carol)
    body = client.get("/titles/dashboard/?year=2025").content.decode()
    assert 'href="/programmes/dashboard/?year=2025"' in body


def test_a_ward_user_sees_their_wards_figures(client, alice, eve, programme):
    client.force_login(alice)
    body = client.get("/programmes/dashboard/").content.decode()
    assert "68,000" in body and "Phường Hoàn Kiếm" in body
    client.force_login(eve)  # the next ward: no deliveries there
    body = client.get("/programmes/dashboard/").content.decode()
    assert "68,000" not in body


def test_the_report_has_a_programmes_sheet(carol, programme):
    book = load_workbook(io.BytesIO(report_workbook(user=carol, unit_code="01", year=2025)))
    sheet = book["Programmes"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    line = next(r for r in rows if r[1] == "Chương trình =BUA")
    assert line[0] == "'=BUA"  # never a formula
    assert line[6:9] == [2_000_000, 68_000, 1_932_000]
    assert line[9] == 10
    # Framed and formatted as the titles' sheets: the header row at HEADER_ROW, the dates
    # dd/mm/yyyy and the amounts and counts in the Vietnamese number format.
    assert sheet.cell(HEADER_ROW, 1).value == "Code"
    row = FIRST_DATA_ROW + rows[FIRST_DATA_ROW - 1 :].index(line)
    assert sheet.cell(row, 5).number_format == DATE_FORMAT
    assert {sheet.cell(row, c).number_format for c in range(7, 13)} == {COUNT_FORMAT}


def test_the_tab_follows_the_dashboards_year(client, carol, alice, programme, ward_a):
    """`?year=` (kept by every tab) chooses the programmes that ran that year, as the report's
    sheet of that year lists them; without it, this year's."""
    school = make_unit(ward_a, code="MN2", name="Trường Mầm non Sen Hồng")
    earlier = make_programme(
        programme.province, code="SUA-2023", starts=dt.date(2023, 1, 1), ends=dt.date(2024, 6, 30)
    )
    make_delivery(earlier, school, ref="PX9", days=5, amount_vnd=34_000)
    client.force_login(carol)

    def shown(query: str) -> set[str]:
        body = client.get(f"/programmes/dashboard/{query}").content.decode()
        return {code for code in ("=BUA", "SUA-2023") if f"Chương trình {code}" in body}

    assert shown("?year=2024") == {"SUA-2023"}
    assert shown("?year=2025") == {"=BUA"}
    assert shown("?year=2022") == set()
    assert shown("") == {"=BUA"}  # this year: the programme without an end still runs
    body = client.get("/programmes/dashboard/?year=2024").content.decode()
    assert 'name="year" value="2024"' in body
    assert 'href="/titles/dashboard/?year=2024"' in body  # the other tabs keep it
    assert "34,000" in body and "68,000" not in body
    # A ward user's figures follow the year too.
    client.force_login(alice)
    assert "34,000" in client.get("/programmes/dashboard/?year=2024").content.decode()
    assert "34,000" not in client.get("/programmes/dashboard/?year=2025").content.decode()
    # The report's sheet of a year lists the same programmes.
    for year, codes in ((2024, ["SUA-2023"]), (2025, ["'=BUA"])):
        book = load_workbook(io.BytesIO(report_workbook(user=carol, unit_code="01", year=year)))
        rows = [[c.value for c in row] for row in book["Programmes"].iter_rows()]
        assert [r[0] for r in rows[FIRST_DATA_ROW - 1 :] if r[1]] == codes, year


def test_a_bad_year_is_refused_with_a_message_and_this_years_figures(client, carol, programme):
    client.force_login(carol)
    response = client.get("/programmes/dashboard/?year=abc")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a whole number." in body
    assert "Chương trình =BUA" in body
