"""Reports in the form associations send upward: an Excel workbook and the contract's CSV.

Both read the roll-up summaries only (`titles.selectors.rollup_rows` and its unit and target
helpers), so a report costs a few indexed queries whatever the number of entities, and both are
scoped exactly like the pages: a unit outside the user's scope raises Http404.

The workbook: a summary sheet ("Tổng hợp", one row per title for the unit) and one sheet per
title, named as on the paper form. For a province a title sheet has one row per commune/ward;
for a commune/ward, the titles that roll up by residential area (families, communities,
citizens) have one row per area, the others the ward's own row. Every title sheet ends with a
TOTAL row written as values computed here, never as Excel formulas, that equals the sum of the
rows above it and the unit's own figures; its rates are computed from its totals.

Every sheet prints as the paper form does: A4 landscape, fitted to the page's width, the
table's header row repeated on every page, the reporting association's letterhead (the same words
as the printed lists, `titles.paper`) above the title and its signature block ("Người lập
biểu", "Chủ tịch") under the table. Counts and rates carry the Vietnamese locale in their number
formats (`[$-42A]`); the separators themselves come from the reader's regional settings (a
computer set to Vietnamese shows 1.234 and 39,3%). Dates are written dd/mm/yyyy. The other
areas of work (`registry.sections.register_report_sheets`) write their sheets through
`framed_sheet`, so that they follow the same rules.

Nothing a user typed ever becomes a formula: every text cell passes through `neutralise`.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from registry.access import ward_units
from registry.models import AdministrativeUnit, Kind, RollupLevel
from registry.sections import report_sheet_writers
from titles import paper
from titles.rules.rounding import percent
from titles.selectors import (
    KIND_ORDER,
    ROLLUP_COLUMNS,
    rollup_rows,
    rollup_units,
    target_status,
    targets_for,
)

# The sheet names of the paper form; they stay Vietnamese whatever the page language so that
# whoever receives the workbook finds the sheets by name.
SUMMARY_SHEET = "Tổng hợp"
SHEET_NAMES: dict[str, str] = {
    Kind.FAMILY: "Gia đình học tập",
    Kind.CLAN: "Dòng họ học tập",
    Kind.COMMUNITY: "Cộng đồng học tập",
    Kind.UNIT: "Đơn vị học tập",
    Kind.CITIZEN: "Công dân học tập",
}
# Titles whose figures roll up by residential area (a household, its citizens, the area itself).
AREA_KINDS = (Kind.FAMILY, Kind.COMMUNITY, Kind.CITIZEN)
COUNTS = ("entities", "registered", "recognized", "outstanding")
STATUS_LABELS = {
    "below": gettext_lazy("Below target"),
    "on_track": gettext_lazy("On track"),
    "above": gettext_lazy("Above target"),
    "no_target": gettext_lazy("No target"),
}
# Where the title block ends and the table starts (1-based rows, as Excel counts): the
# letterhead takes rows 1–3, the report's title, unit, subject and export date rows 5–8.
TITLE_ROW = 5
HEADER_ROW = 10
FIRST_DATA_ROW = HEADER_ROW + 1
# The letterhead's and the signature block's two sides span this many columns at either edge.
SIDE_COLUMNS = {"left": 3, "right": 5}
# What makes a spreadsheet treat a cell as a formula (tab and CR too: some programs strip them).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Vietnamese (locale 0x042A): "." groups thousands, "," marks decimals: 1.234 and 39,3%.
VI_LOCALE = "[$-42A]"
COUNT_FORMAT = VI_LOCALE + "#,##0"
RATE_FORMAT = VI_LOCALE + "0.0%"
DATE_FORMAT = "dd/mm/yyyy"
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def neutralise(value: str) -> str:
    """Text as a spreadsheet shows it and never evaluates.

    A value that a spreadsheet would read as a formula (starting with =, +, -, @, tab or CR)
    gets a leading apostrophe; characters a workbook cannot hold (control characters) are
    dropped.
    """
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(FORMULA_START):
        return "'" + value
    return value


# --- which unit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportUnit:
    """The province or commune/ward a report is about."""

    id: int
    code: str
    name: str
    level: str  # RollupLevel.PROVINCE or RollupLevel.WARD
    province_name: str

    @property
    def is_province(self) -> bool:
        return self.level == RollupLevel.PROVINCE


def report_unit(*, user, unit_code: str) -> ReportUnit:
    """The province or commune/ward (in force) with this code in the user's scope; else Http404."""
    for level in (RollupLevel.PROVINCE, RollupLevel.WARD):
        for unit in rollup_units(user=user, level=level, unit_code=unit_code):
            if unit["code"] == unit_code:
                province_name = unit["name"]
                if level == RollupLevel.WARD:
                    province_name = (
                        AdministrativeUnit.objects.filter(pk=unit["province_id"])
                        .values_list("name", flat=True)
                        .first()
                        or ""
                    )
                return ReportUnit(
                    id=unit["id"],
                    code=unit["code"],
                    name=unit["name"],
                    level=level,
                    province_name=province_name,
                )
    raise Http404


def report_unit_choices(*, user, limit: int) -> list[tuple[str, str]]:
    """(code, label) of the provinces and in-force communes/wards a user may report on.

    At most `limit` + 1 entries, so a caller can tell "too many for a list" without counting a
    nation's wards.
    """
    choices = [
        (unit["code"], f"{unit['name']} ({unit['code']})")
        for unit in rollup_units(user=user, level=RollupLevel.PROVINCE)[: limit + 1]
    ]
    wards = (
        ward_units(user)
        .filter(valid_to__isnull=True)
        .order_by("parent__code", "code")
        .values_list("code", "name")[: max(0, limit + 1 - len(choices))]
    )
    return [*choices, *((code, f"{name} ({code})") for code, name in wards)]


# --- the figures -----------------------------------------------------------------------------


@dataclass
class Line:
    """One row of a report: a unit's (or a title's) counts and its target range."""

    code: str
    name: str
    entities: int = 0
    registered: int = 0
    recognized: int = 0
    outstanding: int = 0
    target: tuple[Decimal, Decimal] | None = None

    @property
    def rate(self) -> Decimal | None:
        return percent(self.recognized, self.entities)

    @property
    def registered_rate(self) -> Decimal | None:
        return percent(self.recognized, self.registered)

    @property
    def status(self) -> str:
        return target_status(self.rate, self.target)


def _line(row: dict, *, name: str | None = None) -> Line:
    target = None
    if row["target_min"] is not None:
        target = (row["target_min"], row["target_max"])
    return Line(
        code=row["unit_code"],
        name=row["unit_name"] if name is None else name,
        target=target,
        **{c: row[c] for c in COUNTS},
    )


def _total(lines: list[Line], target: tuple[Decimal, Decimal] | None) -> Line:
    """The sums of `lines`; its rates follow from the sums, its status from `target`."""
    return Line(
        code="",
        name=_("TOTAL"),
        target=target,
        **{c: sum(getattr(line, c) for line in lines) for c in COUNTS},
    )


@dataclass
class TitleSheet:
    """One title's sheet: its rows (wards, or residential areas) and their TOTAL."""

    kind: str
    name_header: str
    subject: str
    lines: list[Line]
    total: Line


def _unit_lines(
    *, user, year: int, level: str, parent: ReportUnit, keep: set[int] | None
) -> dict[str, list[Line]]:
    """{kind: [Line]} for every unit of `level` under `parent`, zeros where it has no figures.

    `keep` limits the units without figures to these ids (None keeps them all).
    """
    units = rollup_units(user=user, level=level, unit_code=parent.code)
    targets = targets_for(units=units, level=level, year=year)
    rows = {
        (row["unit_code"], row["kind"]): row
        for row in rollup_rows(user=user, year=year, level=level, unit_code=parent.code)
    }
    lines: dict[str, list[Line]] = defaultdict(list)
    for unit in units:
        for kind in KIND_ORDER:
            row = rows.get((unit["code"], kind))
            if row is not None:
                lines[kind].append(_line(row))
            elif keep is None or unit["id"] in keep:
                lines[kind].append(
                    Line(
                        code=unit["code"], name=unit["name"], target=targets.get((unit["id"], kind))
                    )
                )
    return lines


def _summary_lines(*, user, year: int, unit: ReportUnit) -> dict[str, Line]:
    """{kind: Line} of the unit itself, every title present (zeros where it has none)."""
    units = rollup_units(user=user, level=unit.level, unit_code=unit.code)
    units = [u for u in units if u["code"] == unit.code]
    targets = targets_for(units=units, level=unit.level, year=year)
    rows = {
        row["kind"]: row
        for row in rollup_rows(user=user, year=year, level=unit.level, unit_code=unit.code)
        if row["unit_code"] == unit.code
    }
    return {
        kind: _line(rows[kind], name=str(Kind(kind).label))
        if kind in rows
        else Line(code=kind, name=str(Kind(kind).label), target=targets.get((unit.id, kind)))
        for kind in KIND_ORDER
    }


def _outside_areas(ward: Line, areas: list[Line]) -> Line | None:
    """What the ward counts but no residential area does (citizens without a household)."""
    rest = {c: getattr(ward, c) - sum(getattr(a, c) for a in areas) for c in COUNTS}
    if any(v < 0 for v in rest.values()) or not any(rest.values()):
        return None
    return Line(code="", name=_("Not in a residential area"), target=ward.target, **rest)


def report_sheets(*, user, unit: ReportUnit, year: int) -> tuple[dict[str, Line], list[TitleSheet]]:
    """The summary lines and the title sheets of a report, from the summaries only."""
    summary = _summary_lines(user=user, year=year, unit=unit)
    sheets = []
    if unit.is_province:
        in_force = set(
            AdministrativeUnit.objects.filter(
                parent_id=unit.id, level=AdministrativeUnit.Level.WARD, valid_to__isnull=True
            ).values_list("pk", flat=True)
        )
        by_kind = _unit_lines(
            user=user, year=year, level=RollupLevel.WARD, parent=unit, keep=in_force
        )
        for kind in KIND_ORDER:
            sheets.append(
                TitleSheet(
                    kind=kind,
                    name_header=_("Commune/ward"),
                    subject=_("%(title)s by commune/ward") % {"title": Kind(kind).label},
                    lines=by_kind[kind],
                    total=_total(by_kind[kind], summary[kind].target),
                )
            )
        return summary, sheets
    by_area = _unit_lines(user=user, year=year, level=RollupLevel.COMMUNITY, parent=unit, keep=None)
    for kind in KIND_ORDER:
        ward_line = replace(summary[kind], code=unit.code, name=unit.name)
        if kind in AREA_KINDS:
            lines = list(by_area[kind])
            rest = _outside_areas(ward_line, lines)
            if rest is not None:
                lines.append(rest)
            name_header = _("Residential area")
            subject = _("%(title)s by residential area") % {"title": Kind(kind).label}
        else:
            lines = [ward_line]
            name_header = _("Commune/ward")
            subject = str(Kind(kind).label)
        sheets.append(
            TitleSheet(
                kind=kind,
                name_header=name_header,
                subject=subject,
                lines=lines,
                total=_total(lines, summary[kind].target),
            )
        )
    return summary, sheets


# --- the workbook ----------------------------------------------------------------------------


def _value(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _rate(value: Decimal | None) -> float | None:
    """A percentage (91.5) as the fraction a "0.0%" cell shows as 91.5%."""
    return None if value is None else float(value / 100)


def _number(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text.replace(".", str(formats.get_format("DECIMAL_SEPARATOR")))


def _target_text(target: tuple[Decimal, Decimal] | None) -> str:
    if target is None:
        return ""
    return f"{_number(target[0])}–{_number(target[1])}%"


def _status_text(line: Line) -> str:
    return "" if line.rate is None else str(STATUS_LABELS[line.status])


def _figures(line: Line) -> list[Any]:
    return [
        line.entities,
        line.registered,
        line.recognized,
        line.outstanding,
        _rate(line.rate),
        _rate(line.registered_rate),
        _target_text(line.target),
        _status_text(line),
    ]


def _figure_headers() -> list[str]:
    return [
        _("Entities"),
        _("Registered"),
        _("Recognised"),
        _("Outstanding"),
        # xgettext:no-python-format
        _("Rate (% of entities)"),
        # xgettext:no-python-format
        _("Rate (% of registered)"),
        _("Target (%)"),
        _("Status"),
    ]


_FIGURE_WIDTHS = [12, 12, 13, 12, 14, 14, 12, 16]


def _figure_formats(*, after: int) -> dict[str, range]:
    """The count and rate columns of `_figures` placed after `after` other columns."""
    return {
        "count_columns": range(after + 1, after + 5),
        "rate_columns": range(after + 5, after + 7),
    }


def _side(ws: Worksheet, *, row: int, side: str, width: int, value: str, font: Font) -> None:
    """`value` across the left or right `SIDE_COLUMNS` of a table `width` columns wide."""
    span = SIDE_COLUMNS[side]
    first = 1 if side == "left" else width - span + 1
    cell = ws.cell(row=row, column=first, value=neutralise(value))
    cell.font = font
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=first + span - 1)


def _across(ws: Worksheet, *, row: int, width: int, value: str, font: Font) -> None:
    cell = ws.cell(row=row, column=1, value=neutralise(value))
    cell.font = font
    cell.alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)


def _letterhead(unit: ReportUnit) -> paper.Letterhead:
    """The reporting association's letterhead, in the words of the printed lists."""
    return paper.letterhead(
        unit_name=unit.name,
        province_name=unit.province_name,
        issuer=paper.ASSOCIATION,
        date=timezone.localdate(),
        of_province=unit.is_province,
    )


def _report_title(year: int) -> str:
    return _("Report on building learning models in %(year)s") % {"year": year}


def _title_block(ws: Worksheet, *, unit: ReportUnit, title: str, subject: str, width: int) -> None:
    """The letterhead (rows 1–3), then the report's title, unit, subject and export date."""
    head = _letterhead(unit)
    bold = Font(bold=True)
    _side(ws, row=1, side="left", width=width, value=head.above, font=Font())
    _side(ws, row=2, side="left", width=width, value=head.issuer, font=bold)
    _side(ws, row=1, side="right", width=width, value=head.motto, font=bold)
    _side(ws, row=2, side="right", width=width, value=head.motto_line, font=bold)
    _side(ws, row=3, side="right", width=width, value=head.place_date, font=Font(italic=True))
    if unit.is_province:
        unit_line = f"{unit.name} ({unit.code})"
    else:
        unit_line = f"{unit.name} ({unit.code}) — {unit.province_name}"
    _across(ws, row=TITLE_ROW, width=width, value=title.upper(), font=Font(bold=True, size=14))
    _across(ws, row=TITLE_ROW + 1, width=width, value=unit_line, font=bold)
    _across(ws, row=TITLE_ROW + 2, width=width, value=subject, font=Font(italic=True))
    exported = formats.date_format(timezone.localdate(), "SHORT_DATE_FORMAT")
    _across(
        ws,
        row=TITLE_ROW + 3,
        width=width,
        value=_("Exported on %(date)s") % {"date": exported},
        font=Font(),
    )


def _signature_block(ws: Worksheet, *, row: int, width: int) -> None:
    """Who drew the report up (left) and who signs it for the association (right)."""
    sign = paper.signatures(issuer=paper.ASSOCIATION)
    bold, note = Font(bold=True), Font(italic=True)
    _side(ws, row=row, side="left", width=width, value=sign.prepared_by, font=bold)
    _side(ws, row=row + 1, side="left", width=width, value=sign.prepared_note, font=note)
    _side(ws, row=row, side="right", width=width, value=sign.on_behalf, font=bold)
    _side(ws, row=row + 1, side="right", width=width, value=sign.signer, font=bold)
    _side(ws, row=row + 2, side="right", width=width, value=sign.signer_note, font=note)


def _print_setup(ws: Worksheet) -> None:
    """A4 landscape, one page wide, the header row on every page, page numbers in the foot."""
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.oddFooter.center.text = "&P / &N"


def _table(
    ws: Worksheet,
    *,
    headers: Sequence[str],
    widths: Sequence[int],
    rows: Sequence[Sequence[Any]],
    total_rows: Collection[int],
    count_columns: Collection[int],
    rate_columns: Collection[int],
    date_columns: Collection[int],
) -> None:
    """Header row and data rows (those at the indexes `total_rows` are totals, in bold), then
    the signature block two rows below the table, and the sheet's print settings.

    Columns are numbered from 1, as Excel counts them.
    """
    formats_by_column = {
        **dict.fromkeys(date_columns, DATE_FORMAT),
        **dict.fromkeys(count_columns, COUNT_FORMAT),
        **dict.fromkeys(rate_columns, RATE_FORMAT),
    }
    for column, header in enumerate(headers, start=1):
        cell = ws.cell(row=HEADER_ROW, column=column, value=neutralise(header))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for offset, values in enumerate(rows):
        row = FIRST_DATA_ROW + offset
        is_total = offset in total_rows
        for column, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=column, value=_value(value))
            cell.border = _BORDER
            if column in formats_by_column:
                cell.number_format = formats_by_column[column]
            if is_total:
                cell.font = Font(bold=True)
                cell.fill = _TOTAL_FILL
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=1)
    _signature_block(ws, row=FIRST_DATA_ROW + len(rows) + 1, width=len(headers))
    _print_setup(ws)


def _framed(
    workbook: Workbook,
    *,
    name: str,
    unit: ReportUnit,
    title: str,
    subject: str,
    headers: Sequence[str],
    widths: Sequence[int],
    rows: Sequence[Sequence[Any]],
    total_rows: Collection[int] = (),
    count_columns: Collection[int] = (),
    rate_columns: Collection[int] = (),
    date_columns: Collection[int] = (),
) -> Worksheet:
    ws = workbook.create_sheet(name)
    _title_block(ws, unit=unit, title=title, subject=subject, width=len(headers))
    _table(
        ws,
        headers=headers,
        widths=widths,
        rows=rows,
        total_rows=total_rows,
        count_columns=count_columns,
        rate_columns=rate_columns,
        date_columns=date_columns,
    )
    return ws


def framed_sheet(
    workbook: Workbook,
    *,
    name: str,
    user,
    unit_code: str,
    year: int,
    subject: str,
    headers: Sequence[str],
    widths: Sequence[int],
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
    total_rows: Collection[int] = (),
    count_columns: Collection[int] = (),
    rate_columns: Collection[int] = (),
    date_columns: Collection[int] = (),
) -> Worksheet:
    """Add a sheet `name` framed as every sheet of the report is, for any area of work.

    The reporting association's letterhead and the title block (`title`, by default the
    titles' report title for `year`; the unit; `subject`; the export date), the table (`headers`
    at `HEADER_ROW`, `rows` from `FIRST_DATA_ROW`, text neutralised, those at the 0-based
    indexes `total_rows` in bold as totals), the signature block and the print settings.
    `count_columns`, `rate_columns` (fractions: 0.5 shows as 50,0%) and `date_columns` are
    numbered from 1 and get `COUNT_FORMAT`, `RATE_FORMAT` and `DATE_FORMAT`. `unit_code` is the
    province or commune/ward of the report, in the user's scope (else Http404).
    """
    return _framed(
        workbook,
        name=name,
        unit=report_unit(user=user, unit_code=unit_code),
        title=_report_title(year) if title is None else title,
        subject=subject,
        headers=headers,
        widths=widths,
        rows=rows,
        total_rows=total_rows,
        count_columns=count_columns,
        rate_columns=rate_columns,
        date_columns=date_columns,
    )


Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    pass


def report_workbook(*, user, unit_code: str, year: int, progress: Progress | None = None) -> bytes:
    """The workbook (XLSX bytes) of a province or commune/ward and year; Http404 outside scope.

    `progress(done, total)` is told of each step: reading the summaries, each sheet, saving.
    """
    progress = progress or _no_progress
    unit = report_unit(user=user, unit_code=unit_code)
    steps = 2 + len(KIND_ORDER)
    progress(0, steps)
    summary, sheets = report_sheets(user=user, unit=unit, year=year)
    progress(1, steps)
    workbook = Workbook()
    workbook.remove(workbook.active)
    title = _report_title(year)
    _framed(
        workbook,
        name=SUMMARY_SHEET,
        unit=unit,
        title=title,
        subject=_("Summary by title"),
        headers=[_("No."), _("Title"), *_figure_headers()],
        widths=[6, 24, *_FIGURE_WIDTHS],
        rows=[[n, line.name, *_figures(line)] for n, line in enumerate(summary.values(), 1)],
        **_figure_formats(after=2),
    )
    for index, sheet in enumerate(sheets):
        rows = [[n, line.code, line.name, *_figures(line)] for n, line in enumerate(sheet.lines, 1)]
        rows.append(["", "", sheet.total.name, *_figures(sheet.total)])
        _framed(
            workbook,
            name=SHEET_NAMES[sheet.kind],
            unit=unit,
            title=title,
            subject=sheet.subject,
            headers=[_("No."), _("Code"), sheet.name_header, *_figure_headers()],
            widths=[6, 16, 36, *_FIGURE_WIDTHS],
            rows=rows,
            total_rows=[len(rows) - 1],
            **_figure_formats(after=3),
        )
        progress(2 + index, steps)
    # The other areas of work (groups, programmes) add their sheets after the titles'.
    for write in report_sheet_writers():
        write(workbook, user=user, unit_code=unit.code, year=year)
    workbook.properties.title = neutralise(title)
    workbook.properties.creator = "learnsociety"
    buffer = io.BytesIO()
    workbook.save(buffer)
    progress(steps, steps)
    return buffer.getvalue()


# --- CSV -------------------------------------------------------------------------------------


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def report_csv(
    *, user, unit_code: str, year: int, level: str, progress: Progress | None = None
) -> str:
    """The contract's roll-up rows of the units of `level` under a unit, as CSV for Excel.

    UTF-8 with a byte-order mark (so Excel reads Vietnamese names right), the contract's column
    names as the header, text neutralised. Http404 outside scope.
    """
    return "".join(
        report_csv_chunks(user=user, unit_code=unit_code, year=year, level=level, progress=progress)
    )


CSV_CHUNK_ROWS = 1000


def report_csv_chunks(
    *, user, unit_code: str, year: int, level: str, progress: Progress | None = None
) -> Iterator[str]:
    """`report_csv` a thousand rows at a time, for a response that streams them as written.

    The unit and the rows are read before the first chunk (Http404 outside scope is raised
    here, not half-way through a response)."""
    unit = report_unit(user=user, unit_code=unit_code)
    rows = rollup_rows(user=user, year=year, level=level, unit_code=unit.code)
    return _csv_chunks(rows, progress or _no_progress)


def _csv_chunks(rows: list[dict], progress: Progress) -> Iterator[str]:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ROLLUP_COLUMNS)
    for done, row in enumerate(rows, 1):
        writer.writerow([_csv_value(row[column]) for column in ROLLUP_COLUMNS])
        if done % CSV_CHUNK_ROWS == 0:
            progress(done, len(rows))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    progress(len(rows), len(rows))
    yield buffer.getvalue()


def levels_under(unit: ReportUnit) -> list[str]:
    """The roll-up levels a CSV of this unit may list: its own and those below it."""
    if unit.is_province:
        return [RollupLevel.PROVINCE, RollupLevel.WARD, RollupLevel.COMMUNITY]
    return [RollupLevel.WARD, RollupLevel.COMMUNITY]
