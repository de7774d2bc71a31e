"""Loading plans' targets: the share of entities a province or commune/ward plans to see
recognised, per title and year.

Columns (DESIGN section 4): `unit` (a province or commune/ward code), `kind` (family, clan,
community, unit, citizen, or `digital_reach`: the share of adults "Digital Literacy for All"
reached), `year`, `min_rate`, `max_rate` (percent: 70, 70.5 or 70,5; a "%"
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

Reading the file, the header, the cells and the report are the import pipeline's
(`registry.imports`); this module declares the columns (TARGETS), checks the rows (`_check`)
and writes them (`_write`).

`targets_load_defaults` loads the plans shipped in titles/targets/ (see its README): the
national file first, then the provinces' own plans, which replace the national figures for
their province. Rows for units not loaded (provinces left out of `load_divisions`) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_bulk
from registry.imports import cells
from registry.imports.cells import BadCell
from registry.imports.pipeline import (
    Column,
    Header,
    ImportKind,
    Row,
    chunks,
    duplicates,
    find_header,
    no_data_rows,
    parse_rows,
    run_import,
    sort_errors,
)
from registry.imports.report import ImportReport, RowError
from registry.models import AdministrativeUnit
from registry.spreadsheets import Cell, ImportFileError, as_text, match_key, read_rows, unstorable
from titles.models import DIGITAL_REACH, Target
from titles.rules.criteria_file import FIRST_YEAR, LAST_YEAR
from titles.services.imports import KIND_WORDS

DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "targets"

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "unit": ("Mã đơn vị hành chính", "Mã đơn vị", "Đơn vị hành chính", "Mã tỉnh/xã/phường"),
    "kind": ("Danh hiệu", "Loại danh hiệu"),
    "year": ("Năm",),
    "min_rate": ("Tỷ lệ tối thiểu", "Tỷ lệ tối thiểu (%)", "Chỉ tiêu tối thiểu"),
    "max_rate": ("Tỷ lệ tối đa", "Tỷ lệ tối đa (%)", "Chỉ tiêu tối đa"),
    "source": ("Nguồn", "Căn cứ"),
}

# Besides the titles, the share of adults that "Digital Literacy for All" reached.
DIGITAL_REACH_WORDS = (
    "digital_reach",
    "Bình dân học vụ số",
    "Tỷ lệ người dân được hỗ trợ kỹ năng số",
)
_KINDS = {match_key(word): kind for word, kind in KIND_WORDS.items()} | {
    match_key(word): DIGITAL_REACH for word in DIGITAL_REACH_WORDS
}
_RATE = re.compile(r"\d{1,3}(?:[.,]\d+)?")
_WHOLE = re.compile(r"\d+(?:\.0*)?")
_HUNDREDTH = Decimal("0.01")
_SOURCE_MAX = Target._meta.get_field("source").max_length
Key = tuple[int, str, int]  # (unit id, kind, year)


@dataclass
class _Row(Row):
    unit: AdministrativeUnit | None = None

    @property
    def key(self) -> Key:
        assert self.unit is not None
        return (self.unit.pk, self.values["kind"], self.values["year"])


# --- Reading cells -----------------------------------------------------------------------------


_quote = cells.quote


def _unit_code(cell: Cell) -> str:
    text = as_text(cell).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 5:
        raise BadCell(
            _("%(value)s is not a unit code: a province has 2 digits (01), a commune/ward 5")
            % {"value": _quote(cell)}
        )
    return text


def _kind(cell: Cell) -> str:
    kind = _KINDS.get(match_key(as_text(cell)))
    if kind is None:
        raise BadCell(
            _(
                "%(value)s is not a title (family, clan, community, unit or citizen) nor "
                "digital_reach"
            )
            % {"value": _quote(cell)}
        )
    return kind


def _year(cell: Cell) -> int:
    text = as_text(cell).strip()
    if not _WHOLE.fullmatch(text):
        raise BadCell(_("%(value)s is not a year") % {"value": _quote(cell)})
    year = int(text.split(".")[0])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadCell(
            _("%(value)s is not a year between %(first)d and %(last)d")
            % {"value": year, "first": FIRST_YEAR, "last": LAST_YEAR}
        )
    return year


def _rate(cell: Cell) -> Decimal:
    text = as_text(cell).strip().removesuffix("%").strip()
    if not _RATE.fullmatch(text):
        raise BadCell(
            _("%(value)s is not a percentage such as 70, 72.5 or 72,5") % {"value": _quote(cell)}
        )
    rate = Decimal(text.replace(",", "."))
    if 0 < rate < 1:
        raise BadCell(
            _(
                "%(value)s looks like a fraction (a cell formatted as %%); write the percentage "
                "itself, such as 70 for 70%%"
            )
            % {"value": _quote(cell)}
        )
    if rate > 100:
        raise BadCell(_("%(value)s is more than 100%%") % {"value": _quote(cell)})
    if rate != rate.quantize(_HUNDREDTH):
        raise BadCell(_("%(value)s has more than two decimals") % {"value": _quote(cell)})
    return rate


def _source(cell: Cell) -> str:
    text = as_text(cell).strip()
    if reason := unstorable(text):
        raise BadCell(reason)
    if len(text) > _SOURCE_MAX:
        raise BadCell(
            _("longer than %(max)d characters (%(length)d)")
            % {"max": _SOURCE_MAX, "length": len(text)}
        )
    return text


TARGETS = ImportKind(
    name="targets",
    what=gettext_lazy("targets"),
    columns=(
        Column("unit", _unit_code, aliases=HEADER_ALIASES["unit"]),
        Column("kind", _kind, aliases=HEADER_ALIASES["kind"]),
        Column("year", _year, aliases=HEADER_ALIASES["year"]),
        Column("min_rate", _rate, aliases=HEADER_ALIASES["min_rate"]),
        Column("max_rate", _rate, aliases=HEADER_ALIASES["max_rate"]),
        Column("source", _source, aliases=HEADER_ALIASES["source"], required=False, empty=""),
    ),
)


# --- Checking ----------------------------------------------------------------------------------


def _check_range(rows: list[_Row], report: ImportReport) -> None:
    for row in rows:
        low, high = row.values.get("min_rate"), row.values.get("max_rate")
        if isinstance(low, Decimal) and isinstance(high, Decimal) and high < low:
            row.refuse(
                report,
                "max_rate",
                _("the maximum (%(max)s%%) is below the minimum (%(min)s%%)")
                % {"max": high, "min": low},
            )


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
    def refuse(row: _Row, first: int) -> None:
        assert row.unit is not None
        row.refuse(
            report,
            "unit",
            _("the target of %(unit)s for %(kind)s in %(year)d is already on row %(row)d")
            % {
                "unit": row.unit.code,
                "kind": row.values["kind"],
                "year": row.values["year"],
                "row": first,
            },
        )

    duplicates(
        rows,
        key=lambda row: None if row.unit is None or {"kind", "year"} & row.bad else row.key,
        refuse=refuse,
    )


def _check(rows: list[_Row], report: ImportReport, *, skip_unknown: bool = False) -> list[_Row]:
    """The rows kept (see `_resolve_units`), every problem reported."""
    _check_range(rows, report)
    rows = _resolve_units(rows, report, skip_unknown=skip_unknown)
    _check_duplicates(rows, report)
    return rows


def _checked_rows(
    table: list[list[Cell]], report: ImportReport, *, skip_unknown: bool = False
) -> list[_Row]:
    """The rows of a table read already, every problem reported; use them only if the report
    has no error."""
    header = find_header(table, kind=TARGETS, report=report)
    if header is None:
        return []
    rows = parse_rows(table, kind=TARGETS, header=header, report=report, row_type=_Row)
    report.rows = len(rows)
    if not rows:
        no_data_rows(report)
        return []
    rows = _check(rows, report, skip_unknown=skip_unknown)
    sort_errors(report, header)
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

    def check(rows: list[_Row], _header: Header, report: ImportReport) -> None:
        _check(rows, report)

    return run_import(
        kind=TARGETS,
        file=file,
        filename=filename,
        dry_run=False,
        row_type=_Row,
        check=check,
        apply=_write,
    )


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
            RowError(e.row, e.column, f"{path.name}: {e.reason}", e.header)
            for e in file_report.errors
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
