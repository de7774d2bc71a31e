"""The titles' background jobs, registered when the app starts (`TitlesConfig.ready`)."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from jobs.kinds import JobContext, Outcome, Output, register
from titles import reports

REPORT = "titles.report"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SAFE_NAME = re.compile(r"[^0-9A-Za-z_-]")


def report_filename(*, unit_code: str, year: int, file_format: str, level: str) -> str:
    stem = f"bao-cao-hoc-tap-{_SAFE_NAME.sub('', unit_code)}-{year}"
    return f"{stem}-{level}.csv" if file_format == "csv" else f"{stem}.xlsx"


@register(REPORT)
def report(*, job: JobContext, unit_code: str, year: int, file_format: str, level: str) -> Outcome:
    """The report workbook or roll-up CSV of a unit and year, scoped to the job's owner."""
    unit = reports.report_unit(user=job.user, unit_code=unit_code)
    filename = report_filename(unit_code=unit.code, year=year, file_format=file_format, level=level)
    if file_format == "csv":
        content = reports.report_csv(
            user=job.user, unit_code=unit.code, year=year, level=level, progress=job.progress
        ).encode("utf-8")
        content_type = "text/csv; charset=utf-8"
    else:
        content = reports.report_workbook(
            user=job.user, unit_code=unit.code, year=year, progress=job.progress
        )
        content_type = XLSX_TYPE
    title = _("Report of %(unit)s, %(year)s") % {"unit": unit.name, "year": year}
    return Outcome(
        output=Output(filename=filename, content_type=content_type, content=content),
        summary={"title": title},
    )
