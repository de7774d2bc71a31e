"""Importing a registry spreadsheet: families, clans, communities, units or citizens.

What the design asks and how this module keeps it:

- **All or nothing.** Every row is read and checked before anything is written, and the writes
  happen in one transaction; a file with one bad row changes nothing, and the report names every
  bad row, column and reason at once so the user fixes the file in one go.
- **Idempotent.** An entity is identified by (ward, code): a known code is updated, a row equal to
  what is stored changes nothing, so importing the same file twice is harmless.
- **A few bulk queries whatever the file's size.** Wards, referenced entities and existing
  entities are looked up by code in chunks; new rows are bulk-created, changed rows
  bulk-updated. A ward's household list is tens of thousands of rows.
- **Cells are data, never formulas.** A cell starting with "=", "+", "-" or "@" is stored as the
  text it is: the workbook is read without evaluating anything (a formula cell yields its text).
- **Spreadsheets as people make them.** Vietnamese headers (any case, with or without
  diacritics), a UTF-8 byte-order mark, semicolon-separated CSV (what Excel writes where the
  comma is the decimal mark), ward codes without leading zeros, whole numbers stored as 4.0.

Columns: an optional column may be left out, which leaves that field of existing entities as it
is (new ones get the default); an empty cell in an optional column sets the default (no clan, no
head of clan, area type "other").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.services import record_bulk
from registry.access import can_edit_registry, ward_units
from registry.models import (
    KIND_MODELS,
    AdministrativeUnit,
    Clan,
    Community,
    Entity,
    EntityKindModel,
    Kind,
    Unit,
)
from registry.services.entities import search_extra
from registry.spreadsheets import (
    Cell,
    ImportFileError,
    ImportReport,
    RowError,
    as_text,
    is_blank,
    map_header,
    match_key,
    normalize_ward_code,
    read_table,
    unstorable,
)

KINDS = ("families", "clans", "communities", "units", "citizens")

KIND_OF: dict[str, Kind] = {
    "families": Kind.FAMILY,
    "clans": Kind.CLAN,
    "communities": Kind.COMMUNITY,
    "units": Kind.UNIT,
    "citizens": Kind.CITIZEN,
}

_WARD_ALIASES = ("Mã phường/xã", "Mã xã/phường", "Phường/xã", "Xã/phường", "Mã phường", "Mã xã")

# Vietnamese headers accepted for each contract column, per kind. Matching ignores case,
# diacritics, "_"/"-" versus spaces and spaces around "/" ("ma ho", "MÃ HỘ" and "Mã  hộ" are all
# "Mã hộ"). Within a kind no header means two columns (a test holds this), so a header like
# "Mã đơn vị" may be the code in a units file and the unit in a citizens file.
HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "communities": {
        "ward": _WARD_ALIASES,
        "code": ("Mã", "Mã thôn", "Mã tổ dân phố", "Mã khu dân cư"),
        "name": ("Tên", "Tên thôn/tổ dân phố", "Thôn/Tổ dân phố", "Tên khu dân cư"),
        "area_type": ("Loại", "Loại địa bàn", "Loại khu dân cư"),
    },
    "families": {
        "ward": _WARD_ALIASES,
        "code": ("Mã hộ", "Mã", "Mã hộ gia đình"),
        "head_name": ("Họ tên chủ hộ", "Chủ hộ", "Tên chủ hộ"),
        "members": ("Số nhân khẩu", "Nhân khẩu", "Số thành viên"),
        "community": ("Tổ dân phố", "Thôn/Tổ dân phố", "Mã thôn", "Mã tổ dân phố", "Thôn"),
        "clan": ("Dòng họ", "Mã dòng họ"),
    },
    "clans": {
        "ward": _WARD_ALIASES,
        "code": ("Mã", "Mã dòng họ"),
        "name": ("Tên", "Tên dòng họ", "Dòng họ"),
        "head_name": ("Trưởng họ", "Họ tên trưởng họ"),
    },
    "units": {
        "ward": _WARD_ALIASES,
        "code": ("Mã", "Mã đơn vị"),
        "name": ("Tên", "Tên đơn vị", "Đơn vị"),
        "unit_type": ("Loại đơn vị", "Loại"),
        "staff": ("Số cán bộ", "Số người lao động", "Số cán bộ, công nhân viên"),
    },
    "citizens": {
        "ward": _WARD_ALIASES,
        "code": ("Mã", "Mã công dân"),
        "full_name": ("Họ và tên", "Họ tên"),
        "birth_year": ("Năm sinh",),
        "family": ("Hộ gia đình", "Mã hộ gia đình", "Mã hộ"),
        "unit": ("Mã đơn vị", "Đơn vị"),
    },
}

# Cell words accepted for a unit's type and a residential area's type (matched like headers).
UNIT_TYPE_WORDS: dict[str, str] = {
    "agency": Unit.UnitType.AGENCY,
    "cơ quan": Unit.UnitType.AGENCY,
    "school": Unit.UnitType.SCHOOL,
    "trường học": Unit.UnitType.SCHOOL,
    "trường": Unit.UnitType.SCHOOL,
    "enterprise": Unit.UnitType.ENTERPRISE,
    "doanh nghiệp": Unit.UnitType.ENTERPRISE,
    "other": Unit.UnitType.OTHER,
    "khác": Unit.UnitType.OTHER,
}
AREA_TYPE_WORDS: dict[str, str] = {
    "thon": Community.AreaType.THON,
    "thôn": Community.AreaType.THON,
    "xom": Community.AreaType.XOM,
    "xóm": Community.AreaType.XOM,
    "ban": Community.AreaType.BAN,
    "bản": Community.AreaType.BAN,
    "to_dan_pho": Community.AreaType.TO_DAN_PHO,
    "tổ dân phố": Community.AreaType.TO_DAN_PHO,
    "khu_pho": Community.AreaType.KHU_PHO,
    "khu phố": Community.AreaType.KHU_PHO,
    "other": Community.AreaType.OTHER,
    "khác": Community.AreaType.OTHER,
}

FIRST_BIRTH_YEAR = 1900
# Above this a count would not fit the database's integer column; no real household gets there.
_MAX_COUNT = 2_147_483_647
# Codes per query: under SQLite's 999 bound parameters, with room for the other filters.
CHUNK = 900
_BATCH = 500


class _BadCell(Exception):
    """A cell's value does not fit its column; the message is the reason the user sees."""


User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class _Column:
    """How one contract column is read. `refers_to` marks a code of another entity."""

    name: str
    parse: Callable[[Cell], Any]
    required: bool = True
    refers_to: Kind | None = None
    empty: Any = None  # the value of an empty cell in an optional column


@dataclass
class _Row:
    number: int
    values: dict[str, Any]  # contract column -> parsed value, for the file's columns only
    bad: set[str] = field(default_factory=set)  # columns whose cell was rejected
    ward: AdministrativeUnit | None = None


# --- Reading cells ---------------------------------------------------------------------------


def _quote(value: Cell, limit: int = 40) -> str:
    text = as_text(value)
    return "“" + (text if len(text) <= limit else text[: limit - 1] + "…") + "”"


def _text(max_length: int) -> Callable[[Cell], str]:
    def parse(cell: Cell) -> str:
        text = as_text(cell).strip()
        if reason := unstorable(text):
            raise _BadCell(reason)
        if len(text) > max_length:
            raise _BadCell(
                _("longer than %(max)d characters (%(length)d)")
                % {"max": max_length, "length": len(text)}
            )
        return text

    return parse


_NAME = _text(Entity._meta.get_field("name").max_length)
_CODE = _text(Entity._meta.get_field("code").max_length)
_WHOLE = re.compile(r"[+-]?\d+(?:\.0*)?")


def _whole_number(cell: Cell) -> int:
    """An integer from a number cell or its text; 4.0 is 4, 4.5 and "4,5" are not whole."""
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str) and _WHOLE.fullmatch(cell.strip()):
        return int(cell.strip().split(".")[0])
    raise _BadCell(_("%(value)s is not a whole number") % {"value": _quote(cell)})


def _count(cell: Cell) -> int:
    number = _whole_number(cell)
    if number < 1:
        raise _BadCell(_("must be at least 1, not %(value)s") % {"value": number})
    if number > _MAX_COUNT:
        raise _BadCell(_("%(value)s is too large") % {"value": number})
    return number


def _birth_year(cell: Cell) -> int:
    year = _whole_number(cell)
    this_year = timezone.localdate().year
    if not FIRST_BIRTH_YEAR <= year <= this_year:
        raise _BadCell(
            _("must be a year from %(first)d to %(last)d, not %(value)s")
            % {"first": FIRST_BIRTH_YEAR, "last": this_year, "value": year}
        )
    return year


def _choice(words: dict[str, str]) -> Callable[[Cell], str]:
    folded = {match_key(word): value for word, value in words.items()}
    shown = ", ".join(words)

    def parse(cell: Cell) -> str:
        value = folded.get(match_key(as_text(cell)))
        if value is None:
            raise _BadCell(
                _("%(value)s is not one of: %(choices)s")
                % {"value": _quote(cell), "choices": shown}
            )
        return value

    return parse


def _ward_code(cell: Cell) -> str:
    """The official 5-digit code; "70", "0070" and the number 70 all mean "00070"."""
    return normalize_ward_code(_CODE(cell))


# --- The columns of each kind ----------------------------------------------------------------

_WARD = _Column("ward", _ward_code)
_CODE_COLUMN = _Column("code", _CODE)

COLUMNS: dict[str, tuple[_Column, ...]] = {
    "communities": (
        _WARD,
        _CODE_COLUMN,
        _Column("name", _NAME),
        _Column(
            "area_type",
            _choice(AREA_TYPE_WORDS),
            required=False,
            empty=Community.AreaType.OTHER,
        ),
    ),
    "families": (
        _WARD,
        _CODE_COLUMN,
        _Column("head_name", _NAME),
        _Column("members", _count),
        _Column("community", _CODE, refers_to=Kind.COMMUNITY),
        _Column("clan", _CODE, required=False, refers_to=Kind.CLAN),
    ),
    "clans": (
        _WARD,
        _CODE_COLUMN,
        _Column("name", _NAME),
        _Column(
            "head_name",
            _text(Clan._meta.get_field("head_name").max_length),
            required=False,
            empty="",
        ),
    ),
    "units": (
        _WARD,
        _CODE_COLUMN,
        _Column("name", _NAME),
        _Column("unit_type", _choice(UNIT_TYPE_WORDS)),
        _Column("staff", _count),
    ),
    "citizens": (
        _WARD,
        _CODE_COLUMN,
        _Column("full_name", _NAME),
        _Column("birth_year", _birth_year),
        _Column("family", _CODE, required=False, refers_to=Kind.FAMILY),
        _Column("unit", _CODE, required=False, refers_to=Kind.UNIT),
    ),
}

# The column that becomes the entity's display name (a household is named by its head).
NAME_COLUMN = {
    "communities": "name",
    "families": "head_name",
    "clans": "name",
    "units": "name",
    "citizens": "full_name",
}


def _kind_columns(kind: str) -> list[_Column]:
    """The columns stored on the kind's own row (all but ward, code and the display name)."""
    return [c for c in COLUMNS[kind] if c.name not in ("ward", "code", NAME_COLUMN[kind])]


def _attname(column: _Column) -> str:
    return f"{column.name}_id" if column.refers_to else column.name


# --- Reading the file ------------------------------------------------------------------------


# --- Checking --------------------------------------------------------------------------------


def _map_header(header: list[Cell], *, kind: str, report: ImportReport) -> dict[str, int] | None:
    """Contract column -> position in the file; None (with errors) if the header is unusable."""
    return map_header(
        header,
        columns={c.name: HEADER_ALIASES[kind].get(c.name, ()) for c in COLUMNS[kind]},
        required=[c.name for c in COLUMNS[kind] if c.required],
        what=KIND_MODELS[KIND_OF[kind]]._meta.verbose_name_plural,
        report=report,
    )


def _parse_rows(
    rows: list[list[Cell]], *, kind: str, positions: dict[str, int], report: ImportReport
) -> list[_Row]:
    """Each non-blank data row with its cells parsed; a rejected cell becomes a row error."""
    parsed: list[_Row] = []
    for index, cells in enumerate(rows[1:], start=2):
        if all(is_blank(cell) for cell in cells):
            continue
        row = _Row(number=index, values={})
        for column in COLUMNS[kind]:
            if column.name not in positions:
                continue
            position = positions[column.name]
            cell = cells[position] if position < len(cells) else None
            if is_blank(cell):
                if column.required:
                    report.errors.append(RowError(index, column.name, _("this cell is empty")))
                    row.bad.add(column.name)
                else:
                    row.values[column.name] = column.empty
                continue
            if isinstance(cell, str):
                cell = cell.strip()
            try:
                value = column.parse(cell)
            except _BadCell as exc:
                report.errors.append(RowError(index, column.name, str(exc)))
                row.bad.add(column.name)
            else:
                row.values[column.name] = value
        parsed.append(row)
    return parsed


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """`items` in lists of `size`: the values of one `IN (...)` lookup each."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def wards_in_force(codes: Iterable[str], *, user: User | None) -> dict[str, AdministrativeUnit]:
    """The wards in force among `codes`, by code: in the user's scope when a user imports, any
    ward without one (the command). A code missing from the answer is unknown or out of scope."""
    wards = (
        AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.WARD)
        if user is None
        else ward_units(user)
    ).filter(valid_to__isnull=True)
    found: dict[str, AdministrativeUnit] = {}
    for chunk in chunks(sorted(set(codes))):
        found.update((unit.code, unit) for unit in wards.filter(code__in=chunk))
    return found


def _resolve_wards(rows: list[_Row], *, user: User | None, report: ImportReport) -> None:
    """Attach each row's ward (in force, and in the user's scope when a user imports)."""
    found = wards_in_force((row.values["ward"] for row in rows if "ward" not in row.bad), user=user)
    for row in rows:
        if "ward" in row.bad:
            continue
        row.ward = found.get(row.values["ward"])
        if row.ward is None:
            reason = (
                _("no commune/ward in force has the code %(code)s")
                if user is None
                else _("no commune/ward in force in your scope has the code %(code)s")
            )
            report.errors.append(
                RowError(row.number, "ward", reason % {"code": _quote(row.values["ward"])})
            )


def _codes_in_wards(kind: Kind, wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
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


_MISSING_REFERENCE = {
    Kind.COMMUNITY: gettext_lazy(
        "no residential area with the code %(code)s in commune/ward %(ward)s"
    ),
    Kind.CLAN: gettext_lazy("no clan with the code %(code)s in commune/ward %(ward)s"),
    Kind.FAMILY: gettext_lazy("no family with the code %(code)s in commune/ward %(ward)s"),
    Kind.UNIT: gettext_lazy("no unit with the code %(code)s in commune/ward %(ward)s"),
}


def _resolve_references(rows: list[_Row], *, kind: str, report: ImportReport) -> None:
    """Replace each reference code by the entity id; it must exist in the row's own ward."""
    for column in COLUMNS[kind]:
        if column.refers_to is None:
            continue
        refs = [
            row
            for row in rows
            if row.ward is not None
            and column.name not in row.bad
            and row.values.get(column.name) is not None
        ]
        found = _codes_in_wards(
            column.refers_to, ((row.ward.pk, row.values[column.name]) for row in refs)
        )
        for row in refs:
            code = row.values[column.name]
            pk = found.get((row.ward.pk, code))
            if pk is None:
                reason = _MISSING_REFERENCE[column.refers_to] % {
                    "code": _quote(code),
                    "ward": row.ward.code,
                }
                report.errors.append(RowError(row.number, column.name, reason))
                row.bad.add(column.name)
            row.values[column.name] = pk


def _check_duplicates(rows: list[_Row], *, report: ImportReport) -> None:
    first_row: dict[tuple[str, str], int] = {}
    for row in rows:
        if {"ward", "code"} & row.bad:
            continue
        key = (row.values["ward"], row.values["code"])
        if key in first_row:
            report.errors.append(
                RowError(
                    row.number,
                    "code",
                    _("the code %(code)s of commune/ward %(ward)s is already on row %(row)d")
                    % {"code": _quote(key[1]), "ward": key[0], "row": first_row[key]},
                )
            )
        else:
            first_row[key] = row.number


# --- Writing ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    new: list[tuple[Entity, dict[str, Any]]] = field(default_factory=list)
    changed: list[EntityKindModel] = field(default_factory=list)
    changed_fields: set[str] = field(default_factory=set)
    unchanged: int = 0


def _plan(rows: list[_Row], *, kind: str) -> _Plan:
    """Sort the rows into new, changed and unchanged entities; changed objects are updated here."""
    entity_kind = KIND_OF[kind]
    model = KIND_MODELS[entity_kind]
    kind_columns = _kind_columns(kind)
    existing: dict[tuple[int, str], EntityKindModel] = {}
    by_ward: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        by_ward[row.ward.pk].add(row.values["code"])
    for ward_id, codes in by_ward.items():
        for chunk in chunks(sorted(codes)):
            for obj in model.objects.select_related("entity").filter(
                entity__ward_id=ward_id, entity__code__in=chunk
            ):
                existing[(ward_id, obj.entity.code)] = obj

    plan = _Plan()
    for row in rows:
        attrs = {_attname(c): row.values[c.name] for c in kind_columns if c.name in row.values}
        name = row.values[NAME_COLUMN[kind]]
        obj = existing.get((row.ward.pk, row.values["code"]))
        if obj is None:
            defaults = {_attname(c): c.empty for c in kind_columns if not c.required}
            attrs = {**defaults, **attrs}
            entity = Entity(
                kind=entity_kind,
                ward_id=row.ward.pk,
                province_id=row.ward.parent_id,
                code=row.values["code"],
                name=name,
            )
            entity.refresh_search_text(*search_extra(entity_kind, attrs))
            plan.new.append((entity, attrs))
            continue
        fields = [f for f, value in attrs.items() if getattr(obj, f) != value]
        for f in fields:
            setattr(obj, f, attrs[f])
        entity = obj.entity
        before = (entity.name, entity.search_text)
        entity.name = name
        entity.refresh_search_text(
            *search_extra(
                entity_kind, {_attname(c): getattr(obj, _attname(c)) for c in kind_columns}
            )
        )
        if fields or (entity.name, entity.search_text) != before:
            plan.changed.append(obj)
            plan.changed_fields.update(fields)
        else:
            plan.unchanged += 1
    return plan


def _write(plan: _Plan, *, kind: str, filename: str = "") -> None:
    """Apply the plan in one transaction.

    No full_clean() here, unlike the one-entity services: it would cost queries per row, and
    every field and reference was checked above; the database's constraints and triggers remain
    the safety net. bulk_create sets the new entities' primary keys (SQLite ≥ 3.35, PostgreSQL).
    """
    model = KIND_MODELS[KIND_OF[kind]]
    with transaction.atomic():
        if plan.new:
            Entity.objects.bulk_create([entity for entity, _attrs in plan.new], batch_size=_BATCH)
            model.objects.bulk_create(
                [model(entity=entity, **attrs) for entity, attrs in plan.new], batch_size=_BATCH
            )
        if plan.changed:
            now = timezone.now()
            for obj in plan.changed:
                obj.entity.updated_at = now
            Entity.objects.bulk_update(
                [obj.entity for obj in plan.changed],
                ["name", "search_text", "sort_key", "updated_at"],
                batch_size=_BATCH,
            )
            if plan.changed_fields:
                model.objects.bulk_update(
                    plan.changed, sorted(plan.changed_fields), batch_size=_BATCH
                )
        _refresh_summaries(plan)
        record_bulk(
            "registry_import",
            model=model,
            ward_ids={e.ward_id for e, _a in plan.new} | {o.entity.ward_id for o in plan.changed},
            kind=kind,
            file=filename,
            created=len(plan.new),
            updated=len(plan.changed),
        )


def _refresh_summaries(plan: _Plan) -> None:
    """Recompute the roll-ups of the wards the import touched, in its transaction.

    New entities move the entity tallies; a household or citizen moved to another residential
    area moves its registrations' area figures too, so both are recomputed.
    """
    from titles.services.rollups import rollups_refresh  # titles builds on the registry

    wards = {entity.ward_id for entity, _attrs in plan.new}
    wards |= {obj.entity.ward_id for obj in plan.changed}
    if wards:
        rollups_refresh(ward_ids=wards, entities=True)


def _column_order(kind: str) -> dict[str, int]:
    return {column.name: i for i, column in enumerate(COLUMNS[kind])}


def registry_import(
    *, file: BinaryIO, filename: str, kind: str, dry_run: bool, user: User | None = None
) -> ImportReport:
    """Parse, validate and (unless dry_run or any error) upsert all rows in one transaction.

    `kind` is one of KINDS; the file type comes from `filename`'s extension. With `user` (the
    web upload) the user must be allowed to edit the registry (else PermissionDenied, before the
    file is read) and every row's ward must be in their scope; without one (the command) every
    ward in force is open. Problems never raise: they are the report's errors, sorted by row.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if user is not None and not can_edit_registry(user):
        raise PermissionDenied
    report = ImportReport(kind=kind, dry_run=dry_run)
    try:
        table = read_table(
            file=file,
            filename=filename,
            notes=report.notes,
            columns=[column.name for column in COLUMNS[kind]],
        )
    except ImportFileError as exc:
        report.errors.append(RowError(row=0, column="", reason=str(exc)))
        return report
    positions = _map_header(table[0], kind=kind, report=report)
    if positions is None:
        return report
    rows = _parse_rows(table, kind=kind, positions=positions, report=report)
    report.rows = len(rows)
    if not rows:
        report.errors.append(
            RowError(0, "", _("The file has a header row but no data rows; nothing to import."))
        )
        return report
    _resolve_wards(rows, user=user, report=report)
    _resolve_references(rows, kind=kind, report=report)
    _check_duplicates(rows, report=report)
    order = _column_order(kind)
    report.errors.sort(key=lambda e: (e.row, order.get(e.column, -1)))
    if report.errors:
        return report

    plan = _plan(rows, kind=kind)
    if not dry_run:
        try:
            _write(plan, kind=kind, filename=filename)
        except IntegrityError:
            # Only a concurrent change to the same codes gets past the checks above.
            report.errors.append(
                RowError(
                    0,
                    "",
                    _(
                        "The registry changed while the file was imported (another import or "
                        "edit of the same codes); nothing was written. Please try again."
                    ),
                )
            )
            return report
    report.created = len(plan.new)
    report.updated = len(plan.changed)
    report.unchanged = plan.unchanged
    return report


def summary(report: ImportReport) -> str:
    """One line saying what the import did (or, on a dry run, would do)."""
    counts = {
        "rows": ngettext("%(n)d row", "%(n)d rows", report.rows) % {"n": report.rows},
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    }
    if report.dry_run:
        return (
            _(
                "Dry run, nothing written. %(rows)s: %(created)d would be created, "
                "%(updated)d updated, %(unchanged)d unchanged."
            )
            % counts
        )
    return (
        _("%(rows)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % counts
    )


def describe_error(error: RowError) -> str:
    """An error as the command prints it: "row N, column C: reason" (a file problem: the reason)."""
    if error.row == 0:
        return error.reason
    return _("row %(row)d, column %(column)s: %(reason)s") % {
        "row": error.row,
        "column": error.column,
        "reason": error.reason,
    }
