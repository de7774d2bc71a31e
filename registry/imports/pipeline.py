"""The import pipeline every spreadsheet kind goes through, driven by the kind's column specs.

A kind is an `ImportKind` (what its file holds: columns with their English name, Vietnamese
aliases, required or optional, cell parser; optionally extra columns found by a header prefix,
like the registrations' `c.<CRITERION>` evidence) plus two functions of its own: `check`, which
looks the parsed rows up in the database and refuses what does not fit, and `apply`, which plans
the writes and (unless it is a dry run) makes them, setting the report's counts.

`run_import` does the rest, the same for every kind:

1. read the file (`registry.spreadsheets`: CSV or XLSX, size limit, cells never formulas);
2. find the header row: the first of the first HEADER_SEARCH_ROWS rows holding every required
   column, so the title rows Vietnamese sheets start with ("UBND PHƯỜNG …", "DANH SÁCH …"),
   blank rows and merged cells above it are skipped; map it to the columns (case, diacritics,
   "_"/"-" and spaces ignored; two headers meaning one column, or a required column missing,
   are errors on the header's row; unknown headers are ignored with a note);
3. parse every non-blank row below the header into typed values, each refused cell a row error
   naming the row (as the spreadsheet numbers it), the column and the reason; a file for one
   commune/ward (`ward_fill`: ward staff, or the command's `--ward`) may leave the ward column
   out, and its rows without a ward cell get that ward;
4. `check` (database lookups; `duplicates` finds repeated keys);
5. any error: nothing is written, the errors sorted by row then by column as they stand in the
   file; else `apply` in one transaction, where a concurrent change caught by the database
   (IntegrityError) becomes the kind's `conflict` message and nothing is written.

`progress(step, done, total)`, when given, is told how far the import is (steps "read",
"parse", "check", "write"; reading a workbook tells its rows as it goes, see `read_table`;
within the kind's `check` and `apply`, every query and every chunk
of rows the shared checks go through moves it on, see `StepMeter`); `rows_progress` turns it
into the one "rows done of total" a background job's bar and a command's terminal bar show.

A residential area, clan or unit a row refers to may be named by its code or by its exact name
in the row's commune/ward (`references_resolve`); `template_workbook` (registry.imports.templates)
writes each kind's template from the same column specs.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.access import ward_units
from registry.imports import cells
from registry.imports.cells import BadCell, Parser
from registry.imports.report import ImportReport, RowError
from registry.models import KIND_MODELS, AdministrativeUnit, Entity, Kind
from registry.services.divisions import WardCodeResolution, split_note, ward_codes_resolve
from registry.spreadsheets import (
    Cell,
    ImportFileError,
    as_text,
    is_blank,
    match_key,
    normalize_ward_code,
    read_table,
)
from registry.text import fold

User = AbstractBaseUser | AnonymousUser
Progress = Callable[[str, int, int], None]

# Codes per query: under SQLite's 999 bound parameters, with room for the other filters.
CHUNK = 900
# Rows parsed between two progress reports.
PROGRESS_EVERY = 1000
# The most one chunk moves the check or write step on (`StepMeter`), for a file of few rows.
MAX_CHUNK_SHARE = 0.25
# The header row is looked for among this many rows at the top of the file (title rows above).
HEADER_SEARCH_ROWS = 20
# Kinds a row may name by their exact name in its commune/ward as well as by code: areas, clans
# and units have names people write; households and citizens are named after people, who share
# names, so they are named by code only.
NAMED_KINDS = (Kind.COMMUNITY, Kind.CLAN, Kind.UNIT)
# Closest names suggested for an unknown one.
SUGGESTIONS = 3


@dataclass(frozen=True)
class Column:
    """One contract column of a kind's file.

    `parse` turns a non-blank cell into its value (or raises BadCell). A blank cell in a
    required column is refused; in an optional one it is `empty`. `refers_to` marks a code (or,
    for NAMED_KINDS, a name) of another entity (`references_resolve`). `example` is the cell of
    the template's example row and `allowed` says what the column takes, in the template's guide.
    """

    name: str
    parse: Parser
    aliases: tuple[str, ...] = ()
    required: bool = True
    empty: Any = None
    refers_to: str | None = None
    example: Cell = None
    allowed: str | Promise = ""


# The Vietnamese headers of a commune/ward code column, the same in every kind of file.
WARD_ALIASES = ("Mã xã/phường", "Mã phường/xã", "Xã/phường", "Phường/xã", "Mã phường", "Mã xã")


STEPS = ("read", "parse", "check", "write")


def rows_progress(report: Callable[[int, int | None], None]) -> Progress:
    """A `progress(step, done, total)` for `run_import` that tells `report(done, total)` how far
    the whole import is, in rows of the file: each of the STEPS takes an equal share of the way
    (after reading, a quarter of the rows are "done"; after the checks, three quarters), so one
    bar moves from 0 to the file's rows and the time left follows its pace. What it reports only
    ever grows: a bar never moves back."""
    last = -1

    def progress(step: str, done: int, total: int) -> None:
        nonlocal last
        if total <= 0:
            return
        position = STEPS.index(step) + min(done, total) / total
        value = round(total * position / len(STEPS))
        if value > last:
            last = value
            report(value, total)

    return progress


class StepMeter:
    """How far the kind's `check` or `apply` is, told to `progress` as the step's rows done.

    These steps are the kind's own code, but their work comes in chunks: database round trips (a
    lookup of CHUNK codes, a bulk write of a batch of rows) and the pipeline's own passes over
    the rows (`resolve_wards`, `references_resolve`, `duplicates`: `metered`). So the meter
    counts the queries the step runs (a wrapper on the connection, `connection.execute_wrapper`)
    and the chunks of rows those passes go through, and each moves the step a chunk's share of
    what is left of it: after one pass over the file's rows, about two thirds of the step are
    done; after two, nearly nine tenths. The step's end is reported by the pipeline when it is
    over. No kind has to report anything, and the bar moves through every kind's checks and
    writes alike.
    """

    def __init__(self, progress: Progress, *, step: str, rows: int) -> None:
        self.progress = progress
        self.step = step
        self.rows = rows
        self.share = min(MAX_CHUNK_SHARE, CHUNK / max(rows, 1))
        self.position = 0.0
        self._reporting = False

    def advance(self) -> None:
        """One chunk of the step's work is done."""
        # The progress callback may write to the database itself (a job run in-process):
        # its own queries do not count.
        if self._reporting:
            return
        self._reporting = True
        try:
            self.position += (1 - self.position) * self.share
            self.progress(self.step, int(self.rows * self.position), self.rows)
        finally:
            self._reporting = False

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        self.advance()
        return result


_meter: ContextVar[StepMeter | None] = ContextVar("import_step_meter", default=None)


@contextmanager
def step_metered(progress: Progress | None, *, step: str, rows: int) -> Iterator[None]:
    """Within the block, each query on the default connection and each chunk of rows `metered`
    goes through moves `step` on (`StepMeter`)."""
    if progress is None:
        yield
        return
    meter = StepMeter(progress, step=step, rows=rows)
    token = _meter.set(meter)
    try:
        with connection.execute_wrapper(meter):
            yield
    finally:
        _meter.reset(token)


def metered[T](items: Iterable[T]) -> Iterator[T]:
    """`items`, telling the step's meter (if any) of every CHUNK of them gone through."""
    meter = _meter.get()
    if meter is None:
        yield from items
        return
    for count, item in enumerate(items, start=1):
        yield item
        if count % CHUNK == 0:
            meter.advance()


def ward_column() -> Column:
    """The `ward` column: the official code of a commune/ward (leading zeros may be dropped)."""
    return Column(
        "ward",
        cells.ward_code(Entity._meta.get_field("code").max_length),
        aliases=WARD_ALIASES,
        example="00070",
        allowed=gettext_lazy(
            "The commune/ward's official 5-digit code (leading zeros may be dropped). May be left "
            "out by staff of one commune/ward: the rows are then for their commune/ward."
        ),
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
    allowed: str | Promise = ""  # what they take, in the template's guide
    header: str | Promise = ""  # how the template's guide names them (else `label`)

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
    row: int = 1  # the header's row, as the spreadsheet numbers it
    # Column -> the value of rows that leave it out or blank (the ward of a one-ward file).
    fill: dict[str, Any] = field(default_factory=dict)

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

    number: int  # as the spreadsheet numbers it (row 1 is the file's first row)
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


def map_header(
    header: list[Cell],
    *,
    kind: ImportKind,
    report: ImportReport,
    row: int = 1,
    fill: dict[str, Any] | None = None,
    missing: dict[str, str] | None = None,
) -> Header | None:
    """Where each column is; None (with errors on the header's `row`) when it is unusable.

    Two headers meaning one column and a missing required column are errors (a column in
    `fill` is not required; `missing` replaces the reason given for a missing column); a header
    meaning no column is ignored and named in a note.
    """
    fill = fill or {}
    missing = missing or {}
    by_key = _header_keys(kind)
    result = Header(columns={}, headers={}, row=row, fill=dict(fill))
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
                report.errors.append(RowError(row, title, str(kind.extra.missing_key)))
            elif key.casefold() in seen_keys:
                report.errors.append(
                    RowError(
                        row,
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
                    row,
                    name,
                    _("columns “%(first)s” and “%(second)s” both mean %(column)s")
                    % {"first": result.headers[name], "second": title, "column": name},
                    title,
                )
            )
        else:
            result.columns[name] = position
            result.headers[name] = title
    for column in kind.columns:
        if column.required and column.name not in result.columns and column.name not in fill:
            report.errors.append(
                RowError(
                    row,
                    column.name,
                    missing.get(column.name)
                    or _("required column is missing (headers accepted: %(accepted)s)")
                    % {"accepted": ", ".join((column.name, *column.aliases))},
                )
            )
    if ignored:
        report.notes.append(
            _("Columns not used for %(kind)s were ignored: %(columns)s.")
            % {"kind": kind.what, "columns": ", ".join(ignored)}
        )
    return None if report.errors else result


def _header_keys(kind: ImportKind) -> dict[str, str]:
    """Folded header -> contract column, for every name and alias of the kind's columns."""
    return {
        match_key(name): column.name
        for column in kind.columns
        for name in (column.name, *column.aliases)
    }


def _any_cell(line: list[Cell]) -> bool:
    return not all(is_blank(cell) for cell in line)


def _holds_columns(line: list[Cell], *, kind: ImportKind, wanted: set[str]) -> bool:
    """Whether a row names every column of `wanted` (as a header row would)."""
    by_key = _header_keys(kind)
    found = {by_key.get(match_key(as_text(cell))) for cell in line if not is_blank(cell)}
    return wanted <= found


def find_header(
    table: list[list[Cell]],
    *,
    kind: ImportKind,
    report: ImportReport,
    fill: dict[str, Any] | None = None,
    missing: dict[str, str] | None = None,
) -> Header | None:
    """The file's header, mapped (`map_header`), found below any title rows.

    The header is the first of the first HEADER_SEARCH_ROWS rows that names every required
    column (but the ward, whose absence has a message of its own); a file with no such row is
    told what its first non-blank row lacks, as a file with its header on row 1 always was.
    """
    fill = fill or {}
    wanted = {c.name for c in kind.columns if c.required and c.name not in fill} - {"ward"}
    filled = [(i, line) for i, line in enumerate(table[:HEADER_SEARCH_ROWS]) if _any_cell(line)]
    index = next(
        (i for i, line in filled if _holds_columns(line, kind=kind, wanted=wanted)),
        filled[0][0] if filled else None,
    )
    if index is None:
        report.errors.append(
            RowError(
                0,
                "",
                _("None of the first %(count)d rows holds the column names (%(columns)s).")
                % {"count": HEADER_SEARCH_ROWS, "columns": ", ".join(kind.header_hint)},
            )
        )
        return None
    return map_header(
        table[index], kind=kind, report=report, row=index + 1, fill=fill, missing=missing
    )


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
    """Each non-blank row below the header with the cells of the file's columns parsed (extra
    columns are left to the kind); a refused cell is a row error and its column is in
    `row.bad`. A column of `header.fill` left out or blank takes the fill's value."""
    rows: list[R] = []
    total = len(table) - header.row
    for number, line in enumerate(table[header.row :], start=header.row + 1):
        done = number - header.row
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress("parse", done, total)
        if all(is_blank(cell) for cell in line):
            continue
        row = row_type(number=number, cells=line)
        rows.append(row)
        for column in kind.columns:
            if column.name not in header.columns:
                if column.name in header.fill:
                    row.values[column.name] = header.fill[column.name]
                continue
            cell = row.cell(header.columns[column.name])
            if is_blank(cell) and column.name in header.fill:
                row.values[column.name] = header.fill[column.name]
                continue
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
    for row in metered(rows):
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
    resolutions) places a row in one of them. A file for one commune/ward (`report.ward`, see
    `ward_fill`) refuses a row of any other.
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
    for row in metered(rows):
        code = row.values[column]
        resolution = resolved[code]
        ward = resolution.ward or placed.get(row.number)
        if ward is None:
            row.refuse(report, column, resolution.refusal or reason % {"code": code})
            continue
        if report.ward and ward.code != report.ward:
            row.refuse(
                report,
                column,
                _(
                    "this file is for commune/ward %(ward)s only; a row of commune/ward %(code)s "
                    "cannot be imported with it"
                )
                % {"ward": report.ward, "code": ward.code},
            )
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


@dataclass(frozen=True)
class Reference:
    """What a cell naming an entity of a commune/ward found: its id, or why there is none."""

    pk: int | None = None
    same_name: tuple[str, ...] = ()  # codes of the several entities with the name written
    closest: tuple[str, ...] = ()  # the names nearest to an unknown one, best first


def references_find(
    kind: str, wanted: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], Reference]:
    """(ward id, text) -> the entity of `kind` in that ward the text names.

    A text is a code; for NAMED_KINDS, a text that is no code may be the entity's exact name in
    the ward (case, diacritics and spacing ignored), and one that is neither gets the closest
    names of the ward. The names are read once per ward that needs them: a ward has dozens of
    residential areas and clans, hundreds of units at most.
    """
    wanted = set(wanted)
    by_code = codes_in_wards(kind, wanted)
    found = {key: Reference(pk=pk) for key, pk in by_code.items()}
    left: dict[int, set[str]] = defaultdict(set)
    for ward_id, text in wanted:
        if (ward_id, text) not in by_code:
            left[ward_id].add(text)
    for ward_id, texts in left.items():
        if kind not in NAMED_KINDS:
            found.update(((ward_id, text), Reference()) for text in texts)
            continue
        named: dict[str, list[tuple[str, int]]] = defaultdict(list)
        names: dict[str, str] = {}  # folded -> as stored (the first of equal ones)
        for code, name, pk in (
            Entity.objects.filter(kind=kind, ward_id=ward_id)
            .order_by("sort_key", "code")
            .values_list("code", "name", "pk")
        ):
            named[fold(name)].append((code, pk))
            names.setdefault(fold(name), name)
        for text in texts:
            matches = named.get(fold(text), [])
            if len(matches) == 1:
                found[(ward_id, text)] = Reference(pk=matches[0][1])
            elif matches:
                found[(ward_id, text)] = Reference(
                    same_name=tuple(sorted(code for code, _pk in matches))
                )
            else:
                found[(ward_id, text)] = Reference(closest=_closest(fold(text), names))
    return found


def _closest(text: str, names: dict[str, str]) -> tuple[str, ...]:
    """Up to SUGGESTIONS of `names` (folded -> as stored, in list order) nearest to `text`, the
    nearest first, equally near ones in list order."""
    matcher = difflib.SequenceMatcher(b=text)
    scored = []
    for order, folded in enumerate(names):
        matcher.set_seq1(folded)
        score = matcher.ratio()
        if score >= 0.6:
            scored.append((-score, order, names[folded]))
    return tuple(name for _score, _order, name in sorted(scored)[:SUGGESTIONS])


_NO_REFERENCE = {
    Kind.COMMUNITY: gettext_lazy(
        "no residential area with the code %(code)s in commune/ward %(ward)s"
    ),
    Kind.CLAN: gettext_lazy("no clan with the code %(code)s in commune/ward %(ward)s"),
    Kind.FAMILY: gettext_lazy("no family with the code %(code)s in commune/ward %(ward)s"),
    Kind.UNIT: gettext_lazy("no unit with the code %(code)s in commune/ward %(ward)s"),
    Kind.CITIZEN: gettext_lazy("no citizen with the code %(code)s in commune/ward %(ward)s"),
}


def reference_refusal(kind: str, text: str, *, ward: AdministrativeUnit, found: Reference) -> str:
    """Why a cell naming an entity of `kind` in `ward` names none: unknown (with the closest
    names), or a name several entities share (asking for the code)."""
    if found.same_name:
        return _(
            "%(count)d %(kind)s of commune/ward %(ward)s are named %(name)s (codes %(codes)s); "
            "write the code instead"
        ) % {
            "count": len(found.same_name),
            "kind": KIND_MODELS[kind]._meta.verbose_name_plural,
            "ward": ward.code,
            "name": cells.quote(text),
            "codes": ", ".join(found.same_name),
        }
    reason = str(_NO_REFERENCE[kind]) % {"code": cells.quote(text), "ward": ward.code}
    if kind in NAMED_KINDS:
        reason += _(", and none is named so")
    if found.closest:
        reason += _("; did you mean %(names)s?") % {
            "names": _(" or ").join(cells.quote(name, 80) for name in found.closest)
        }
    return reason


def references_resolve(
    rows: Iterable[Row],
    *,
    kind: ImportKind,
    report: ImportReport,
    ward_of: Callable[[Any], AdministrativeUnit | None],
) -> None:
    """Replace each `refers_to` cell by the entity's id; it must name one in the row's own ward
    (`ward_of(row)`), by code or, for NAMED_KINDS, by exact name (`references_find`)."""
    rows = list(rows)
    for column in kind.columns:
        if column.refers_to is None:
            continue
        refs = [
            (row, ward)
            for row in rows
            if (ward := ward_of(row)) is not None
            and column.name not in row.bad
            and row.values.get(column.name) is not None
        ]
        found = references_find(
            column.refers_to, ((ward.pk, row.values[column.name]) for row, ward in refs)
        )
        for row, ward in metered(refs):
            text = row.values[column.name]
            reference = found[(ward.pk, text)]
            if reference.pk is None:
                row.refuse(
                    report,
                    column.name,
                    reference_refusal(column.refers_to, text, ward=ward, found=reference),
                )
            row.values[column.name] = reference.pk


# --- The run ---------------------------------------------------------------------------------


def no_data_rows(report: ImportReport) -> None:
    report.errors.append(
        RowError(0, "", _("The file has a header row but no data rows; nothing to import."))
    )


def sort_errors(report: ImportReport, header: Header | None) -> None:
    """By row, then by column as they stand in the file (file problems first); each error's
    `header` is set to its column's header as the file wrote it (the report shows that)."""
    if header is None:
        report.errors.sort(key=lambda e: e.row)
        return
    report.errors.sort(key=lambda e: (e.row, header.rank(e.column)))
    for error in report.errors:
        if not error.header:
            error.header = header.headers.get(error.column, "")


@dataclass(frozen=True)
class WardFill:
    """The commune/ward of a file that may leave its ward column out, and what it is told.

    `code`: the one ward (rows without a ward cell get it, rows of another are refused), or ""
    when the file must say each row's ward; `missing`: why the ward column is needed then.
    """

    code: str = ""
    missing: str = ""


def only_ward(user: User) -> str:
    """The code of the user's commune/ward when they have exactly one in force, else ""."""
    codes = list(
        ward_units(user)
        .filter(valid_to__isnull=True)
        .order_by("code")
        .values_list("code", flat=True)[:2]
    )
    return codes[0] if len(codes) == 1 else ""


def ward_fill(*, user: User | None, ward: str | None, report: ImportReport) -> WardFill | None:
    """The file's commune/ward: `ward` when given (the command's `--ward`; it must be in force,
    and in the user's scope when a user imports), else the user's only ward when they have one.

    None, with an error on row 0, when `ward` names no such commune/ward.
    """
    if ward:
        code = normalize_ward_code(ward.strip())
        wards = AdministrativeUnit.objects.filter(
            level=AdministrativeUnit.Level.WARD, valid_to__isnull=True, code=code
        )
        if user is not None:
            wards = wards.filter(pk__in=ward_units(user).values("pk"))
        if not wards.exists():
            report.errors.append(
                RowError(
                    0,
                    "",
                    _("No commune/ward in force has the code “%(code)s”.") % {"code": code},
                )
            )
            return None
        return WardFill(code=code)
    if user is None:
        return WardFill()
    code = only_ward(user)
    if code:
        return WardFill(code=code)
    return WardFill(
        missing=_(
            "the file needs a commune/ward column (%(header)s): you work for several "
            "communes/wards, so each row must say which one it is for"
        )
        % {"header": WARD_ALIASES[0]}
    )


def read_and_parse[R: Row](
    *,
    kind: ImportKind,
    file: BinaryIO,
    filename: str,
    report: ImportReport,
    row_type: Callable[..., R],
    progress: Progress | None = None,
    wards: WardFill | None = None,
) -> tuple[Header | None, list[R]]:
    """Steps 1–3: the header and the parsed rows; (None, []) with errors when unusable.

    `wards` (for a kind with a ward column) says whether the file may leave it out.
    """
    try:
        table = read_table(
            file=file,
            filename=filename,
            notes=report.notes,
            columns=kind.header_hint,
            progress=None if progress is None else partial(_reading, progress),
        )
    except ImportFileError as exc:
        report.errors.append(RowError(0, "", str(exc)))
        return None, []
    if progress is not None:
        progress("read", len(table) - 1, len(table) - 1)
    fill: dict[str, Any] = {}
    missing: dict[str, str] = {}
    if wards is not None and "ward" in kind.column_names:
        if wards.code:
            fill["ward"] = report.ward = wards.code
        elif wards.missing:
            missing["ward"] = wards.missing
    header = find_header(table, kind=kind, report=report, fill=fill, missing=missing)
    if header is None:
        return None, []
    rows = parse_rows(
        table, kind=kind, header=header, report=report, row_type=row_type, progress=progress
    )
    report.rows = len(rows)
    if not rows:
        no_data_rows(report)
    elif fill and (
        "ward" not in header.columns
        or any(is_blank(row.cell(header.columns["ward"])) for row in rows)
    ):
        report.notes.append(
            _("Rows without a commune/ward code are for commune/ward %(code)s.")
            % {"code": fill["ward"]}
        )
    return header, rows


def _reading(progress: Progress, done: int, total: int) -> None:
    """The read step's progress in the rows below a header row, as the steps after it count."""
    progress("read", min(done, total - 1), total - 1)


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
    user: User | None = None,
    ward: str | None = None,
) -> ImportReport:
    """Read, map, parse, `check`, then (free of errors) `apply` in one transaction.

    For a kind with a ward column, `ward` (the command's `--ward`) or the `user`'s only
    commune/ward is the file's (`ward_fill`): its ward column may be left out.

    `apply(rows, report)` plans the writes, makes them unless `report.dry_run`, and sets the
    report's counts; an error it reports (a check that needs the plan) rolls everything back.
    Problems never raise: they are the report's errors, sorted, and then nothing is written.
    """
    report = report or ImportReport(kind=kind.name, dry_run=dry_run)
    wards = None
    if "ward" in kind.column_names:
        wards = ward_fill(user=user, ward=ward, report=report)
        if wards is None:
            return report
    header, rows = read_and_parse(
        kind=kind,
        file=file,
        filename=filename,
        report=report,
        row_type=row_type,
        progress=progress,
        wards=wards,
    )
    if header is None or not rows:
        return report
    with step_metered(progress, step="check", rows=len(rows)):
        check(rows, header, report)
    if progress is not None:
        progress("check", len(rows), len(rows))
    if not report.errors:
        try:
            with transaction.atomic(), step_metered(progress, step="write", rows=len(rows)):
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
