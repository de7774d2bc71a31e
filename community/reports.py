"""The Excel report's sheet for groups and digital literacy (registered in `community.sections`
with `registry.sections.register_report_sheets`, written after the titles' sheets).

The same rows as `activity_rollup` and the dashboard (`community.selectors.rollup_rows`), with
the reach against the `digital_reach` target: first the unit by type of group and its total,
then, for a province, each commune/ward's total. The sheet is framed, formatted and set up for
printing as the titles' sheets are (`titles.reports.framed_sheet`); no cell starts a formula.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook

from community.models import ALL_TYPES, GroupType
from community.selectors import rollup_rows, rollup_units
from registry.models import AdministrativeUnit, RollupLevel
from titles.dashboard import STATUS_LABELS
from titles.models import DIGITAL_REACH
from titles.reports import framed_sheet
from titles.selectors import target_status, targets_for

SHEET_NAME = "Nhóm - Bình dân học vụ số"
_FIGURES = (
    "groups",
    "members",
    "activities",
    "participants",
    "people_helped",
    "dossiers",
    "citizens_reached",
    "adults",
)


def _headers() -> list[str]:
    return [
        _("No."),
        _("Code"),
        _("Name"),
        _("Groups"),
        pgettext("group", "Members"),
        _("Activities"),
        _("Participants"),
        _("People helped"),
        _("Dossiers filed online"),
        _("Citizens reached"),
        _("Adults"),
        # xgettext:no-python-format
        _("Reach (% of adults)"),
        _("Target (%)"),
        _("Status"),
    ]


def _describe(units: list[AdministrativeUnit], level: str) -> list[dict]:
    return [
        {
            "id": u.pk,
            "ward_id": u.pk if level == RollupLevel.WARD else None,
            "province_id": u.parent_id if level == RollupLevel.WARD else u.pk,
        }
        for u in units
    ]


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", str(formats.get_format("DECIMAL_SEPARATOR")))


def _cells(row: dict, name: str, target: tuple | None) -> list[Any]:
    rate = row["reach_rate"]
    status = target_status(rate, target)
    return [
        row["unit_code"],
        name,
        *(row[f] for f in _FIGURES),
        None if rate is None else float(rate / 100),
        "" if target is None else f"{_number(target[0])}–{_number(target[1])}%",
        "" if rate is None else str(STATUS_LABELS[status]),
    ]


def write_groups_sheet(workbook: Workbook, *, user, unit_code: str, year: int) -> None:
    """Add the sheet for the province or commune/ward `unit_code` (in the user's scope)."""
    unit = AdministrativeUnit.objects.select_related("parent").get(
        code=unit_code, valid_to__isnull=True
    )
    level = RollupLevel.PROVINCE if unit.is_province else RollupLevel.WARD
    units = rollup_units(user=user, level=level, unit_code=unit.code)
    if not units:
        return
    unit_target = targets_for(
        units=_describe(units[:1], level), level=level, year=year, kinds=[DIGITAL_REACH]
    ).get((units[0].pk, DIGITAL_REACH))
    own = [
        r
        for r in rollup_rows(user=user, year=year, level=level, unit_code=unit.code)
        if r["unit_code"] == unit.code
    ]
    labels = dict(GroupType.choices)
    rows: list[tuple[list[Any], bool]] = []
    for row in own:
        if row["group_type"] == ALL_TYPES:
            rows.append((_cells(row, _("All groups"), unit_target), True))
        else:
            label = str(labels[row["group_type"]])
            rows.append((_cells(row, label[:1].upper() + label[1:], None), False))
    if level == RollupLevel.PROVINCE:
        wards = rollup_units(user=user, level=RollupLevel.WARD, unit_code=unit.code)
        targets = targets_for(
            units=_describe(wards, RollupLevel.WARD),
            level=RollupLevel.WARD,
            year=year,
            kinds=[DIGITAL_REACH],
        )
        ids = {w.code: w.pk for w in wards}
        for row in rollup_rows(user=user, year=year, level=RollupLevel.WARD, unit_code=unit.code):
            if row["group_type"] == ALL_TYPES and (row["groups"] or row["citizens_reached"]):
                target = targets.get((ids[row["unit_code"]], DIGITAL_REACH))
                rows.append((_cells(row, row["unit_name"], target), False))

    framed_sheet(
        workbook,
        name=SHEET_NAME,
        user=user,
        unit_code=unit.code,
        year=year,
        title=_("Groups and digital literacy in %(year)s") % {"year": year},
        subject=_("By type of group"),
        headers=_headers(),
        widths=(6, 10, 36, 10, 10, 10, 12, 12, 12, 12, 10, 12, 12, 16),
        rows=[[number, *values] for number, (values, _total) in enumerate(rows, start=1)],
        total_rows=[index for index, (_values, is_total) in enumerate(rows) if is_total],
        count_columns=range(4, 12),
        rate_columns=[12],
    )
