"""Loading plans' targets: the share of entities a province or commune/ward plans to see
recognised, per title and year.

Columns (DESIGN section 4): `unit` (a province or commune/ward code), `kind` (family, clan,
community, unit, citizen), `year`, `min_rate`, `max_rate` (percent: 70, 70.5 or 70,5; a "%"
sign is allowed), and optionally `source` (the plan or decision the figures come from).
Vietnamese headers and title words are accepted (HEADER_ALIASES; the kind words of the
registrations import).

What the module keeps:

- **All or nothing.** Every row is checked before anything is written, in one transaction; the
  report names every bad row, column and reason at once.
- **Idempotent.** A target is identified by (unit, kind, year): loading the same file again
  changes nothing, a changed figure updates the stored target. Without a `source` column the
  stored sources stay as they are.
- **A rate means a percentage.** 0 ≤ min_rate ≤ max_rate ≤ 100, at most two decimals. A rate
  strictly between 0 and 1 (0.7) is refused: it is what Excel stores for a cell showing "70%",
  and reading it as 0.7% would silently set a target nobody planned.
- **Codes as spreadsheets mangle them.** A province code has two digits and a commune/ward code
  five; Excel drops leading zeros, so "1" is read as 01 and "70" as 00070, and a number that
  could be either (a province and a commune/ward both in force) is refused as ambiguous.

`targets_load_defaults` loads the plans shipped in titles/targets/ (see its README): the
national file first, then the provinces' own plans, which replace the national figures for
their province. Rows for units not loaded (provinces left out of `load_divisions`) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import record_bulk
from registry.models import AdministrativeUnit
from registry.services.imports import chunks
from registry.spreadsheets import (
    Cell,
    ImportFileError,
    ImportReport,
    RowError,
    as_text,
    is_blank,
    map_header,
    match_key,
    read_rows,
    read_table,
    unstorable,
)
from titles.models import Target
from titles.rules.criteria_file import FIRST_YEAR, LAST_YEAR
from titles.services.imports import KIND_WORDS

DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "targets"

COLUMNS = ("unit", "kind", "year", "min_rate", "max_rate", "source")
REQUIRED = COLUMNS[:5]
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "unit": ("Mã đơn vị hành chính", "Mã đơn vị", "Đơn vị hành chính", "Mã tỉnh/xã/phường"),
    "kind": ("Danh hiệu", "Loại danh hiệu"),
    "year": ("Năm",),
    "min_rate": ("Tỷ lệ tối thiểu", "Tỷ lệ tối thiểu (%)", "Chỉ tiêu tối thiểu"),
    "max_rate": ("Tỷ lệ tối đa", "Tỷ lệ tối đa (%)", "Chỉ tiêu tối đa"),
    "source": ("Nguồn", "Căn cứ"),
}

_KINDS = {match_key(word): kind for word, kind in KIND_WORDS.items()}
_RATE = re.compile(r"\d{1,3}(?:[.,]\d+)?")
_WHOLE = re.compile(r"\d+(?:\.0*)?")
_HUNDREDTH = Decimal("0.01")
_SOURCE_MAX = Target._meta.get_field("source").max_length
Key = tuple[int, str, int]  # (unit id, kind, year)


class _BadCell(Exception):
    """A cell does not fit its column; the message is the reason the user sees."""


@dataclass
class _Row:
    number: int
    values: dict[str, Any] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)
    unit: AdministrativeUnit | None = None

    def refuse(self, report: ImportReport, column: str, reason: str) -> None:
        report.errors.append(RowError(self.number, column, reason))
        self.bad.add(column)

    @property
    def key(self) -> Key:
        assert self.unit is not None
        return (self.unit.pk, self.values["kind"], self.values["year"])


# --- Reading cells -----------------------------------------------------------------------------


def _quote(cell: Cell, limit: int = 40) -> str:
    text = as_text(cell).strip()
    return "“" + (text if len(text) <= limit else text[: limit - 1] + "…") + "”"


def _unit_code(cell: Cell) -> str:
    text = as_text(cell).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 5:
        raise _BadCell(
            _("%(value)s is not a unit code: a province has 2 digits (01), a commune/ward 5")
            % {"value": _quote(cell)}
        )
    return text


def _kind(cell: Cell) -> str:
    kind = _KINDS.get(match_key(as_text(cell)))
    if kind is None:
        raise _BadCell(
            _("%(value)s is not a title: family, clan, community, unit or citizen")
            % {"value": _quote(cell)}
        )
    return kind


def _year(cell: Cell) -> int:
    text = as_text(cell).strip()
    if not _WHOLE.fullmatch(text):
        raise _BadCell(_("%(value)s is not a year") % {"value": _quote(cell)})
    year = int(text.split(".")[0])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _BadCell(
            _("%(value)s is not a year between %(first)d and %(last)d")
            % {"value": year, "first": FIRST_YEAR, "last": LAST_YEAR}
        )
    return year


def _rate(cell: Cell) -> Decimal:
    text = as_text(cell).strip().removesuffix("%").strip()
    if not _RATE.fullmatch(text):
        raise _BadCell(
            _("%(value)s is not a percentage such as 70, 72.5 or 72,5") % {"value": _quote(cell)}
        )
    rate = Decimal(text.replace(",", "."))
    if 0 < rate < 1:
        raise _BadCell(
            _(
                "%(value)s looks like a fraction (a cell formatted as %%); write the percentage "
                "itself, such as 70 for 70%%"
            )
            % {"value": _quote(cell)}
        )
    if rate > 100:
        raise _BadCell(_("%(value)s is more than 100%%") % {"value": _quote(cell)})
    if rate != rate.quantize(_HUNDREDTH):
        raise _BadCell(_("%(value)s has more than two decimals") % {"value": _quote(cell)})
    return rate


def _source(cell: Cell) -> str:
    text = as_text(cell).strip()
    if reason := unstorable(text):
        raise _BadCell(reason)
    if len(text) > _SOURCE_MAX:
        raise _BadCell(
            _("longer than %(max)d characters (%(length)d)")
            % {"max": _SOURCE_MAX, "length": len(text)}
        )
    return text


_PARSE = {
    "unit": _unit_code,
    "kind": _kind,
    "year": _year,
    "min_rate": _rate,
    "max_rate": _rate,
    "source": _source,
}


# --- Checking ----------------------------------------------------------------------------------


def _map_header(header: list[Cell], report: ImportReport) -> dict[str, int] | None:
    """Contract column -> position; None (with errors) when the header is unusable."""
    return map_header(
        header,
        columns={column: HEADER_ALIASES[column] for column in COLUMNS},
        required=REQUIRED,
        what=_("targets"),
        report=report,
    )


def _parse_rows(
    table: list[list[Cell]], positions: dict[str, int], report: ImportReport
) -> list[_Row]:
    rows: list[_Row] = []
    for number, cells in enumerate(table[1:], start=2):
        if all(is_blank(cell) for cell in cells):
            continue
        row = _Row(number=number)
        rows.append(row)
        for column, position in positions.items():
            cell = cells[position] if position < len(cells) else None
            if is_blank(cell):
                if column in REQUIRED:
                    row.refuse(report, column, _("this cell is empty"))
                else:
                    row.values[column] = ""
                continue
            try:
                row.values[column] = _PARSE[column](cell)
            except _BadCell as exc:
                row.refuse(report, column, str(exc))
        low, high = row.values.get("min_rate"), row.values.get("max_rate")
        if isinstance(low, Decimal) and isinstance(high, Decimal) and high < low:
            row.refuse(
                report,
                "max_rate",
                _("the maximum (%(max)s%%) is below the minimum (%(min)s%%)")
                % {"max": high, "min": low},
            )
    return rows


def _candidates(code: str) -> list[tuple[str, str]]:
    """(level, code) a unit cell may mean: "01" a province, "00070" a commune/ward, and a
    number Excel stripped of its zeros ("1", "70") either, whichever is in force."""
    province, ward = AdministrativeUnit.Level.PROVINCE, AdministrativeUnit.Level.WARD
    if len(code) == 5:
        return [(ward, code)]
    if len(code) == 2 and code.startswith("0"):
        return [(province, code)]
    if len(code) <= 2:
        return [(province, code.zfill(2)), (ward, code.zfill(5))]
    return [(ward, code.zfill(5))]


def _resolve_units(rows: list[_Row], report: ImportReport, *, skip_unknown: bool) -> list[_Row]:
    """Attach each row's unit; returns the rows kept (unknown units skipped if `skip_unknown`)."""
    wanted = {
        candidate
        for row in rows
        if "unit" not in row.bad
        for candidate in _candidates(str(row.values["unit"]))
    }
    found: dict[tuple[str, str], AdministrativeUnit] = {}
    for level in AdministrativeUnit.Level:
        codes = sorted(code for lvl, code in wanted if lvl == level)
        for chunk in chunks(codes):
            found.update(
                ((unit.level, unit.code), unit)
                for unit in AdministrativeUnit.objects.filter(
                    level=level, code__in=chunk, valid_to__isnull=True
                )
            )
    kept: list[_Row] = []
    skipped = 0
    for row in rows:
        if "unit" in row.bad:
            kept.append(row)
            continue
        code = str(row.values["unit"])
        units = [found[c] for c in _candidates(code) if c in found]
        if len(units) == 1:
            row.unit = units[0]
        elif units:
            row.refuse(
                report,
                "unit",
                _(
                    "“%(code)s” may be province %(province)s or commune/ward %(ward)s; write the "
                    "code in full (format the column as text)"
                )
                % {"code": code, "province": units[0].code, "ward": units[1].code},
            )
        elif skip_unknown:
            skipped += 1
            continue
        else:
            row.refuse(
                report,
                "unit",
                _("no province or commune/ward in force has the code “%(code)s”") % {"code": code},
            )
        kept.append(row)
    if skipped:
        report.notes.append(
            _("%(count)d rows for units that are not loaded were skipped.") % {"count": skipped}
        )
    return kept


def _check_duplicates(rows: list[_Row], report: ImportReport) -> None:
    first_row: dict[Key, int] = {}
    for row in rows:
        if row.unit is None or {"kind", "year"} & row.bad:
            continue
        if row.key in first_row:
            row.refuse(
                report,
                "unit",
                _("the target of %(unit)s for %(kind)s in %(year)d is already on row %(row)d")
                % {
                    "unit": row.unit.code,
                    "kind": row.values["kind"],
                    "year": row.values["year"],
                    "row": first_row[row.key],
                },
            )
        else:
            first_row[row.key] = row.number


def _checked_rows(
    table: list[list[Cell]], report: ImportReport, *, skip_unknown: bool = False
) -> list[_Row]:
    """The file's rows, every problem reported; use them only if the report has no error."""
    positions = _map_header(table[0], report)
    if positions is None:
        return []
    rows = _parse_rows(table, positions, report)
    report.rows = len(rows)
    if not rows:
        report.errors.append(
            RowError(0, "", _("The file has a header row but no data rows; nothing to import."))
        )
        return []
    rows = _resolve_units(rows, report, skip_unknown=skip_unknown)
    _check_duplicates(rows, report)
    order = {column: i for i, column in enumerate(COLUMNS)}
    report.errors.sort(key=lambda e: (e.row, order.get(e.column, -1)))
    return rows


# --- Writing -----------------------------------------------------------------------------------


@transaction.atomic
def _write(rows: list[_Row], report: ImportReport) -> None:
    """Create, update or leave each target; counts go to the report."""
    existing: dict[Key, Target] = {}
    unit_ids = sorted({row.key[0] for row in rows})
    for chunk in chunks(unit_ids):
        for target in Target.objects.select_for_update().filter(unit_id__in=chunk):
            existing[(target.unit_id, target.kind, target.year)] = target
    new: list[Target] = []
    changed: list[Target] = []
    for row in rows:
        low, high = row.values["min_rate"], row.values["max_rate"]
        target = existing.get(row.key)
        if target is None:
            new.append(
                Target(
                    unit=row.unit,
                    kind=row.key[1],
                    year=row.key[2],
                    min_rate=low,
                    max_rate=high,
                    source=row.values.get("source", ""),
                )
            )
            continue
        source = row.values.get("source", target.source)
        if (target.min_rate, target.max_rate, target.source) == (low, high, source):
            report.unchanged += 1
            continue
        target.min_rate, target.max_rate, target.source = low, high, source
        changed.append(target)
    Target.objects.bulk_create(new, batch_size=500)
    Target.objects.bulk_update(changed, ["min_rate", "max_rate", "source"], batch_size=500)
    report.created, report.updated = len(new), len(changed)
    record_bulk("targets_load", model=Target, created=len(new), updated=len(changed))


# --- The services ------------------------------------------------------------------------------


def targets_load(*, file: BinaryIO, filename: str) -> ImportReport:
    """Check and (if free of errors) upsert every row of a targets file, all or nothing.

    The file type comes from `filename`'s extension (.csv or .xlsx). Problems never raise: they
    are the report's errors, sorted by row, and then nothing is written.
    """
    report = ImportReport(kind="targets", dry_run=False)
    try:
        table = read_table(file=file, filename=filename, notes=report.notes, columns=COLUMNS)
    except ImportFileError as exc:
        report.errors.append(RowError(0, "", str(exc)))
        return report
    rows = _checked_rows(table, report)
    if not report.errors:
        _write(rows, report)
    return report


def default_files() -> list[Path]:
    """The shipped plans, the national ones (vn-*) first so that a province's own plan, loaded
    after them, is the one that counts for that province."""
    return sorted(DEFAULTS_DIR.glob("*.csv"), key=lambda p: (not p.name.startswith("vn-"), p.name))


def targets_load_defaults() -> ImportReport:
    """Load the shipped plans for the units that are loaded (idempotent), all or nothing.

    Rows of a later file replace those of an earlier one with the same (unit, kind, year)
    before anything is written, so a rerun leaves every target unchanged.
    """
    report = ImportReport(kind="targets", dry_run=False)
    merged: dict[Key, _Row] = {}
    for path in default_files():
        file_report = ImportReport(kind="targets", dry_run=False)
        try:
            table = read_rows(data=path.read_bytes(), filename=path.name, notes=file_report.notes)
        except ImportFileError as exc:
            file_report.errors.append(RowError(0, "", str(exc)))
            rows = []
        else:
            rows = _checked_rows(table, file_report, skip_unknown=True)
        report.rows += file_report.rows
        report.notes += [f"{path.name}: {note}" for note in file_report.notes]
        report.errors += [
            RowError(e.row, e.column, f"{path.name}: {e.reason}") for e in file_report.errors
        ]
        if file_report.errors:
            continue
        replaced = sum(1 for row in rows if row.key in merged)
        if replaced:
            report.notes.append(
                _("%(file)s replaces %(count)d targets of an earlier file.")
                % {"file": path.name, "count": replaced}
            )
        merged.update((row.key, row) for row in rows)
    if not report.errors:
        _write(list(merged.values()), report)
    return report
