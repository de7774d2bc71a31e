"""The programmes' sheet of the Excel report: each programme of the report's province (or of
the ward's province, with the ward's own deliveries) with its figures from the summary, framed,
formatted and set up for printing as the titles' sheets are (`titles.reports.framed_sheet`)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from programmes import selectors
from registry.models import AdministrativeUnit
from titles.reports import framed_sheet


def write_sheet(workbook, *, user, unit_code: str, year: int) -> None:
    unit = (
        AdministrativeUnit.objects.filter(
            code=unit_code,
            level__in=[AdministrativeUnit.Level.PROVINCE, AdministrativeUnit.Level.WARD],
            valid_to__isnull=True,
        )
        .select_related("parent")
        .first()
    )
    if unit is None:
        return
    province = unit if unit.is_province else unit.parent
    ward = None if unit.is_province else unit
    headers = [
        _("Code"),
        _("Programme"),
        _("Organiser"),
        _("Kind"),
        _("Starts"),
        _("Ends"),
        _("Raised (VND)"),
        _("Spent (VND)"),
        _("Balance (VND)"),
        _("Meal-days"),
        _("Beneficiaries"),
        _("Deliveries"),
    ]
    rows = []
    for row in selectors.dashboard_rows(user=user, province=province, ward=ward, year=year):
        p = row["programme"]
        rows.append(
            [
                p.code,
                p.name,
                p.organiser,
                str(p.get_kind_display()),
                p.starts,
                p.ends,
                row["raised_vnd"],
                row["spent_vnd"],
                row["balance_vnd"],
                row["meal_days"],
                row["beneficiaries"],
                row["deliveries"],
            ]
        )
    framed_sheet(
        workbook,
        name=_("Programmes")[:31],
        user=user,
        unit_code=unit.code,
        year=year,
        title=_("%(title)s %(year)s") % {"title": _("Support programmes"), "year": year},
        subject=_("Support programmes: money raised and delivered, meals and children reached"),
        headers=headers,
        widths=(12, 40, 30, 14, 12, 12, 16, 16, 16, 12, 14, 12),
        rows=rows,
        count_columns=range(7, 13),
        date_columns=(5, 6),
    )
