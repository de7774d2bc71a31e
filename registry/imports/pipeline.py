"""The import pipeline every spreadsheet kind goes through, driven by the kind's column specs.

A kind is an `ImportKind` (what its file holds: columns with their English name, Vietnamese
aliases, required or optional, cell parser; optionally extra columns found by a header prefix,
like the registrations' `c.<CRITERION>` evidence) plus two functions of its own: `check`, which
looks the parsed rows up in the database and refuses what does not fit, and `apply`, which plans
the writes and (unless it is a dry run) makes them, setting the report's counts.

`run_import` does the rest, the same for every kind:

1. read the file (`registry.spreadsheets`: CSV or XLSX, size limit, cells never formulas);
2. map the header row to the columns (case, diacritics, "_"/"-" and spaces ignored; two headers
   meaning one column, or a required column missing, are errors on row 1; unknown headers are
   ignored with a note);
3. parse every non-blank row's cells into typed values, each refused cell a row error naming
   the row (as the spreadsheet numbers it), the column and the reason;
4. `check` (database lookups; `duplicates` finds repeated keys);
5. any error: nothing is written, the errors sorted by row then by column as they stand in the
   file; else `apply` in one transaction, where a concurrent change caught by the database
   (IntegrityError) becomes the kind's `conflict` message and nothing is written.

`progress(step, done, total)`, when given, is told how far the import is (steps "read",
"parse", "check", "write"), for a page or a background job to show.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from registry.imports import cells
from registry.imports.cells import BadCell, Parser
from registry.imports.report import ImportReport, RowError
from registry.models import AdministrativeUnit, Entity
from registry.services.divisions import WardCodeResolution, split_note, ward_codes_resolve
from registry.spreadsheets import (
    Cell,
    ImportFileError,
    as_text,
    is_blank,
    match_key,
    read_table,
)

User = AbstractBaseUser | AnonymousUser
Progress = Callable[[str, int, int], None]

# Codes per query: under SQLite's 999 bound parameters, with room for the other filters.
CHUNK = 900
# Rows parsed between two progress reports.
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class Column:
    """One contract column of a kind's file.

    `parse` turns a non-blank cell into its value (or raises BadCell). A blank cell in a
    required column is refused; in an optional one it is `empty`. `refers_to` marks a code of
    another entity (the registry import resolves it).
    """

    name: str
    parse: Parser
    aliases: tuple[str, ...] = ()
    required: bool = True
    empty: Any = None
    refers_to: str | None = None


# The Vietnamese headers of a commune/ward code column, the same in every kind of file.
WARD_ALIASES = ("Mã phường/xã", "Mã xã/phường", "Phường/xã", "Xã/phường", "Mã phường", "Mã xã")


def ward_column() -> Column:
    """The `ward` column: the official code of a commune/ward (leading zeros may be dropped)."""
    return Column(
        "ward", cells.ward_code(Entity._meta.get_field("code").max_length), aliases=WARD_ALIASES
    )


@dataclass(frozen=True)
class ExtraColumns:
    """Any number of columns found by a header prefix, such as `c.F1` for criterion F1.

    The text after the prefix is the column's key; their cells are left raw for the kind's
    `check` (what they mean depends on the row). `label` names them in the message about a
    header-less file ("c.<CRITERION>").
    """

    prefixes: tuple[str, ...]
    label: str
    missing_key: str | Promise  # the reason for a header that is only the prefix
    same_key: str | Promise  # the reason for two headers with one key (%(first)s, %(second)s)

    def key_of(self, header: str) -> str | None:
        """The key of a header of these columns ("c.F1" -> "F1"); None for other headers."""
        folded = header.casefold()
        for prefix in self.prefixes:
            if folded.startswith(prefix):
                return header[len(prefix) :].strip()
        return None


@dataclass(frozen=True)
class ImportKind:
    """What one kind of file holds. `what` names its rows in notes ("families", "targets")."""

    name: str
    columns: tuple[Column, ...]
    what: str | Promise
    extra: ExtraColumns | None = None
    conflict: str | Promise = ""  # the message when the database refuses a concurrent change

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def header_hint(self) -> list[str]:
        """The columns a header-less file is told to start with."""
        names = [c.name for c in self.columns if c.required]
        if self.extra is not None:
            names.append(self.extra.label)
        return names + [c.name for c in self.columns if not c.required]


@dataclass
class Header:
    """Where each column is in the file."""

    columns: dict[str, int]  # contract column -> position
    headers: dict[str, str]  # contract column -> header as written
    extra: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (position, header)

    def rank(self, column: str) -> int:
        """The position of a column (contract name, or an extra column's header) in the file."""
        if column in self.columns:
            return self.columns[column]
        for position, header in self.extra.values():
            if header == column:
                return position
        return -1


@dataclass
class Row:
    """A non-blank data row: its cells, the values parsed from them, the columns refused."""

    number: int  # as the spreadsheet numbers it (the header is row 1)
    cells: list[Cell]
    values: dict[str, Any] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)

    def cell(self, position: int | None) -> Cell:
        if position is None or position >= len(self.cells):
            return None
        return self.cells[position]

    def refuse(self, report: ImportReport, column: str, reason: str) -> None:
        report.errors.append(RowError(self.number, column, reason))
        self.bad.add(column)


# --- The header ------------------------------------------------------------------------------


def map_header(header: list[Cell], *, kind: ImportKind, report: ImportReport) -> Header | None:
    """Where each column is; None (with errors on row 1) when the header is unusable.

    Two headers meaning one column and a missing required column are errors; a header meaning
    no column is ignored and named in a note.
    """
    by_key = {
        match_key(name): column.name
        for column in kind.columns
        for name in (column.name, *column.aliases)
    }
    result = Header(columns={}, headers={})
    seen_keys: dict[str, str] = {}  # folded extra key -> header as written
    ignored: list[str] = []
    for position, cell in enumerate(header):
        if is_blank(cell):
            continue
        title = as_text(cell).strip()
        key = kind.extra.key_of(title) if kind.extra is not None else None
        if key is not None:
            assert kind.extra is not None
            if not key:
                report.errors.append(RowError(1, title, str(kind.extra.missing_key)))
            elif key.casefold() in seen_keys:
                report.errors.append(
                    RowError(
                        1,
                        title,
                        str(kind.extra.same_key)
                        % {"first": seen_keys[key.casefold()], "second": title},
                    )
                )
            else:
                seen_keys[key.casefold()] = title
                result.extra[key] = (position, title)
            continue
        name = by_key.get(match_key(title))
        if name is None:
            ignored.append("“" + title + "”")
        elif name in result.columns:
            report.errors.append(
                RowError(
                    1,
                    name,
                    _("columns “%(first)s” and “%(second)s” both mean %(column)s")
                    % {"first": result.headers[name], "second": title, "column": name},
                )
            )
        else:
            result.columns[name] = position
            result.headers[name] = title
    for column in kind.columns:
        if column.required and column.name not in result.columns:
            report.errors.append(
                RowError(
                    1,
                    column.name,
                    _("required column is missing (headers accepted: %(accepted)s)")
                    % {"accepted": ", ".join((column.name, *column.aliases))},
                )
            )
    if ignored:
        report.notes.append(
            _("Columns not used for %(kind)s were ignored: %(columns)s.")
            % {"kind": kind.what, "columns": ", ".join(ignored)}
        )
    return None if report.errors else result


# --- The rows --------------------------------------------------------------------------------


def parse_rows[R: Row](
    table: list[list[Cell]],
    *,
    kind: ImportKind,
    header: Header,
    report: ImportReport,
    row_type: Callable[..., R],
    progress: Progress | None = None,
) -> list[R]:
    """Each non-blank data row with the cells of the file's columns parsed (extra columns are
    left to the kind); a refused cell is a row error and its column is in `row.bad`."""
    rows: list[R] = []
    total = len(table) - 1
    for number, line in enumerate(table[1:], start=2):
        if progress is not None and (number - 1) % PROGRESS_EVERY == 0:
            progress("parse", number - 1, total)
        if all(is_blank(cell) for cell in line):
            continue
        row = row_type(number=number, cells=line)
        rows.append(row)
        for column in kind.columns:
            if column.name not in header.columns:
                continue
            cell = row.cell(header.columns[column.name])
            if is_blank(cell):
                if column.required:
                    row.refuse(report, column.name, _("this cell is empty"))
                else:
                    row.values[column.name] = column.empty
                continue
            if isinstance(cell, str):
                cell = cell.strip()
            try:
                row.values[column.name] = column.parse(cell)
            except BadCell as exc:
                row.refuse(report, column.name, str(exc))
    if progress is not None:
        progress("parse", total, total)
    return rows


def duplicates[R: Row](
    rows: Iterable[R],
    *,
    key: Callable[[R], Any],
    refuse: Callable[[R, int], None],
) -> None:
    """Call `refuse(row, first_row_number)` for each row whose `key` an earlier row has.

    Rows whose key is None (a cell of it was refused) are skipped.
    """
    first_row: dict[Any, int] = {}
    for row in rows:
        value = key(row)
        if value is None:
            continue
        if value in first_row:
            refuse(row, first_row[value])
        else:
            first_row[value] = row.number


# --- Lookups ---------------------------------------------------------------------------------


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """`items` in lists of `size`: the values of one `IN (...)` lookup each."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def resolve_wards(
    rows: Iterable[Row],
    *,
    user: User | None,
    report: ImportReport,
    column: str = "ward",
    place_split: Callable[[list[Row], dict[str, WardCodeResolution]], dict[int, AdministrativeUnit]]
    | None = None,
) -> dict[int, AdministrativeUnit]:
    """Each row's ward (in force, and in the user's scope when a user imports), by row number;
    a row whose code is none of those gets an error on `column`.

    A code from before 1 July 2025 is read by `ward_codes_resolve`, the one rule for old codes:
    an old commune that went wholly into one ward means that ward (said once in the report); one
    that was split is refused naming its wards, unless `place_split` (given the rows and the
    resolutions) places a row in one of them.
    """
    rows = [row for row in rows if column not in row.bad and row.values.get(column)]
    resolved = ward_codes_resolve((row.values[column] for row in rows), user=user)
    placed = place_split(rows, resolved) if place_split is not None else {}
    reason = (
        _("no commune/ward in force has the code “%(code)s”")
        if user is None
        else _("no commune/ward in force in your scope has the code “%(code)s”")
    )
    wards: dict[int, AdministrativeUnit] = {}
    notes: list[str] = []
    for row in rows:
        code = row.values[column]
        resolution = resolved[code]
        ward = resolution.ward or placed.get(row.number)
        if ward is None:
            row.refuse(report, column, resolution.refusal or reason % {"code": code})
            continue
        wards[row.number] = ward
        if ward.code != code:
            note = resolution.note or split_note(code, resolved=resolved)
            if note not in notes:
                notes.append(note)
            row.values[column] = ward.code  # later steps key rows by the current code
    report.notes.extend(notes)
    return wards


def codes_in_wards(kind: str, wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """(ward id, code) -> entity id for the entities of `kind` that exist among `wanted`."""
    by_ward: dict[int, set[str]] = defaultdict(set)
    for ward_id, code in wanted:
        by_ward[ward_id].add(code)
    found: dict[tuple[int, str], int] = {}
    for ward_id, codes in by_ward.items():
        for chunk in chunks(sorted(codes)):
            found.update(
                ((ward_id, code), pk)
                for code, pk in Entity.objects.filter(
                    kind=kind, ward_id=ward_id, code__in=chunk
                ).values_list("code", "pk")
            )
    return found


# --- The run ---------------------------------------------------------------------------------


def no_data_rows(report: ImportReport) -> None:
    report.errors.append(
        RowError(0, "", _("The file has a header row but no data rows; nothing to import."))
    )


def sort_errors(report: ImportReport, header: Header | None) -> None:
    """By row, then by column as they stand in the file (file problems first)."""
    if header is None:
        report.errors.sort(key=lambda e: e.row)
        return
    report.errors.sort(key=lambda e: (e.row, header.rank(e.column)))


def read_and_parse[R: Row](
    *,
    kind: ImportKind,
    file: BinaryIO,
    filename: str,
    report: ImportReport,
    row_type: Callable[..., R],
    progress: Progress | None = None,
) -> tuple[Header | None, list[R]]:
    """Steps 1–3: the header and the parsed rows; (None, []) with errors when unusable."""
    try:
        table = read_table(
            file=file, filename=filename, notes=report.notes, columns=kind.header_hint
        )
    except ImportFileError as exc:
        report.errors.append(RowError(0, "", str(exc)))
        return None, []
    if progress is not None:
        progress("read", len(table) - 1, len(table) - 1)
    header = map_header(table[0], kind=kind, report=report)
    if header is None:
        return None, []
    rows = parse_rows(
        table, kind=kind, header=header, report=report, row_type=row_type, progress=progress
    )
    report.rows = len(rows)
    if not rows:
        no_data_rows(report)
    return header, rows


def run_import[R: Row](
    *,
    kind: ImportKind,
    file: BinaryIO,
    filename: str,
    dry_run: bool,
    row_type: Callable[..., R] = Row,
    check: Callable[[list[R], Header, ImportReport], None],
    apply: Callable[[list[R], ImportReport], None],
    report: ImportReport | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Read, map, parse, `check`, then (free of errors) `apply` in one transaction.

    `apply(rows, report)` plans the writes, makes them unless `report.dry_run`, and sets the
    report's counts; an error it reports (a check that needs the plan) rolls everything back.
    Problems never raise: they are the report's errors, sorted, and then nothing is written.
    """
    report = report or ImportReport(kind=kind.name, dry_run=dry_run)
    header, rows = read_and_parse(
        kind=kind,
        file=file,
        filename=filename,
        report=report,
        row_type=row_type,
        progress=progress,
    )
    if header is None or not rows:
        return report
    check(rows, header, report)
    if progress is not None:
        progress("check", len(rows), len(rows))
    if not report.errors:
        try:
            with transaction.atomic():
                apply(rows, report)
                if report.errors:
                    transaction.set_rollback(True)
        except IntegrityError:
            # Only a concurrent change to the same records gets past the checks.
            report.errors.append(RowError(0, "", str(kind.conflict)))
    sort_errors(report, header)
    if report.errors:
        report.created = report.updated = report.unchanged = 0
    elif progress is not None:
        progress("write", len(rows), len(rows))
    return report
