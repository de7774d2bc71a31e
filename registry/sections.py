"""Sections that the apps built on the registry add to the pages they share.

The dashboard has a tab per area of work (the learning titles, groups and digital literacy,
support programmes) and the Excel report a sheet (or several) per area. The page or report that
shows them lives in one app, the areas in others; each app registers its part at start-up, in its
`AppConfig.ready`, so that no app imports another one upwards (see `registry/hooks.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class DashboardTab:
    """One tab of the dashboard: its page's URL name, the label on the tab bar and its place."""

    key: str
    label: Any  # a lazily translated string
    url_name: str
    order: int = 100


# The parameters a tab keeps when the reader moves to another tab: the same year and province.
TAB_KEEPS = ("year", "province")

_tabs: dict[str, DashboardTab] = {}


def register_dashboard_tab(tab: DashboardTab) -> None:
    """Add a tab (once per key, however often it is called)."""
    _tabs[tab.key] = tab


def dashboard_tabs(request: HttpRequest) -> list[dict[str, Any]]:
    """The tabs in order, each with the link that keeps the request's year and province."""
    kept = {key: request.GET[key] for key in TAB_KEEPS if request.GET.get(key)}
    query = f"?{urlencode(kept)}" if kept else ""
    return [
        {"key": tab.key, "label": tab.label, "href": reverse(tab.url_name) + query}
        for tab in sorted(_tabs.values(), key=lambda tab: (tab.order, tab.key))
    ]


# A writer adds its sheets to the report's workbook:
# `write(workbook, *, user, unit_code: str, year: int) -> None`, where `unit_code` is the
# province or commune/ward the report is about (already checked against the user's scope).
ReportSheets = Callable[..., None]

_report_sheets: list[tuple[int, ReportSheets]] = []


def register_report_sheets(write: ReportSheets, *, order: int = 100) -> None:
    """Add sheets to the Excel report, after the titles' sheets, in `order`."""
    if all(existing is not write for _, existing in _report_sheets):
        _report_sheets.append((order, write))
        _report_sheets.sort(key=lambda entry: entry[0])


def report_sheet_writers() -> list[ReportSheets]:
    return [write for _, write in _report_sheets]
