"""The programmes' sheet of the Excel report: each programme of the report's province (or of
the ward's province, with the ward's own deliveries) with its figures from the summary."""

from __future__ import annotations

from django.utils.translation import gettext as _

from programmes import selectors
from registry.models import AdministrativeUnit
from titles.reports import neutralise


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
    ws = workbook.create_sheet(_("Programmes")[:31])
    ws.append([neutralise(_("Support programmes · %(unit)s") % {"unit": unit.name})])
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
    ws.append(headers)
    for row in selectors.dashboard_rows(user=user, province=province, ward=ward):
        p = row["programme"]
        if p.starts.year > year or (p.ends is not None and p.ends.year < year):
            continue
        ws.append(
            [
                neutralise(p.code),
                neutralise(p.name),
                neutralise(p.organiser),
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
    for cells in ws.iter_cols(min_col=7, max_col=12, min_row=3):
        for cell in cells:
            cell.number_format = "#,##0"
    for cells in ws.iter_cols(min_col=5, max_col=6, min_row=3):
        for cell in cells:
            cell.number_format = "DD/MM/YYYY"
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 30
