"""The shared pages' sections: the dashboard's tab bar and the report's extra sheets.

An area of work registers a tab and its sheets at start-up (`registry.sections`); the titles'
dashboard shows the tab bar once there is more than one tab, and the Excel report ends with the
sheets each registered writer adds.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from registry import sections
from titles.reports import report_workbook


@pytest.fixture
def extra_tab(monkeypatch):
    tabs = dict(sections._tabs)
    monkeypatch.setattr(sections, "_tabs", tabs)
    # Any named page will do as the second tab's target: the audit log.
    sections.register_dashboard_tab(
        sections.DashboardTab(key="other", label="Other work", url_name="audit_log", order=50)
    )


@pytest.fixture
def titles_only(monkeypatch):
    monkeypatch.setattr(sections, "_tabs", {"titles": sections._tabs["titles"]})


def test_one_tab_shows_no_tab_bar(client, carol, titles_only):
    client.force_login(carol)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'class="tabs"' not in page


def test_a_second_tab_shows_the_bar_and_keeps_the_year(client, carol, extra_tab):
    client.force_login(carol)
    page = client.get(reverse("dashboard"), {"year": 2025}).content.decode()
    assert 'class="tabs"' in page
    assert f'href="{reverse("dashboard")}?year=2025" aria-current="page"' in page
    assert f'href="{reverse("audit_log")}?year=2025"' in page
    assert page.index("Learning titles") < page.index("Other work")


def test_a_registered_writer_adds_its_sheet_after_the_titles(carol, province, monkeypatch):
    seen = {}

    def write(workbook, *, user, unit_code, year):
        seen.update(user=user, unit_code=unit_code, year=year)
        workbook.create_sheet("Khác")["A1"] = "extra"

    monkeypatch.setattr(sections, "_report_sheets", [])
    sections.register_report_sheets(write)
    sections.register_report_sheets(write)  # once, however often it is registered
    content = report_workbook(user=carol, unit_code=province.code, year=2025)
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames[-1] == "Khác"
    assert workbook.sheetnames.count("Khác") == 1
    assert workbook["Khác"]["A1"].value == "extra"
    assert seen == {"user": carol, "unit_code": province.code, "year": 2025}

