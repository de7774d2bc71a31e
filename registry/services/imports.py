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

Reading the file, the header, the cells and the report are the import pipeline's
(`registry.imports`); this module declares each kind's columns (COLUMNS), checks the rows
(`_check`) and plans and writes them (`_plan`, `_write`).

Columns: an optional column may be left out, which leaves that field of existing entities as it
is (new ones get the default); an empty cell in an optional column sets the default (no clan, no
head of clan, area type "other").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_bulk
from registry.access import can_edit_registry
from registry.hooks import entities_counted_from, entities_renamed, wards_changed
from registry.imports import cells
from registry.imports.cells import BadCell
from registry.imports.kinds import RegisteredKind, register_kind
from registry.imports.pipeline import (
    WARD_ALIASES,
    Column,
    ImportKind,
    Progress,
    Row,
    User,
    chunks,
    duplicates,
    metered,
    references_resolve,
    resolve_wards,
    run_import,
    ward_column,
)
from registry.imports.report import ImportReport, RowError
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
from registry.spreadsheets import Cell

KINDS = ("families", "clans", "communities", "units", "citizens")

KIND_OF: dict[str, Kind] = {
    "families": Kind.FAMILY,
    "clans": Kind.CLAN,
    "communities": Kind.COMMUNITY,
    "units": Kind.UNIT,
    "citizens": Kind.CITIZEN,
}

_WARD_ALIASES = WARD_ALIASES

# Vietnamese headers accepted for each contract column, per kind. Matching ignores case,
# diacritics, "_"/"-" versus spaces and spaces around "/" ("ma ho", "MÃ HỘ" and "Mã  hộ" are all
# "Mã hộ"). Within a kind no header means two columns (a test holds this), so a header like
# "Mã đơn vị" may be the code in a units file and the unit in a citizens file. The first header
# of a column is the one its template writes.
HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "communities": {
        "ward": _WARD_ALIASES,
        "code": ("Mã khu dân cư", "Mã", "Mã thôn", "Mã tổ dân phố"),
        "name": ("Tên khu dân cư", "Tên", "Tên thôn/tổ dân phố", "Thôn/Tổ dân phố"),
        "area_type": ("Loại khu dân cư", "Loại", "Loại địa bàn"),
    },
    "families": {
        "ward": _WARD_ALIASES,
        "code": ("Mã hộ", "Mã", "Mã hộ gia đình"),
        "head_name": ("Họ tên chủ hộ", "Chủ hộ", "Tên chủ hộ"),
        "members": ("Số nhân khẩu", "Nhân khẩu", "Số thành viên"),
        "community": ("Thôn/Tổ dân phố", "Tổ dân phố", "Mã thôn", "Mã tổ dân phố", "Thôn"),
        "clan": ("Dòng họ", "Mã dòng họ"),
    },
    "clans": {
        "ward": _WARD_ALIASES,
        "code": ("Mã dòng họ", "Mã"),
        "name": ("Tên dòng họ", "Tên", "Dòng họ"),
        "head_name": ("Trưởng họ", "Họ tên trưởng họ"),
    },
    "units": {
        "ward": _WARD_ALIASES,
        "code": ("Mã đơn vị", "Mã"),
        "name": ("Tên đơn vị", "Tên", "Đơn vị"),
        "unit_type": ("Loại đơn vị", "Loại"),
        "staff": ("Số cán bộ", "Số người lao động", "Số cán bộ, công nhân viên"),
    },
    "citizens": {
        "ward": _WARD_ALIASES,
        "code": ("Mã công dân", "Mã"),
        "full_name": ("Họ và tên", "Họ tên"),
        "birth_year": ("Năm sinh",),
        "family": ("Hộ gia đình", "Mã hộ gia đình", "Mã hộ"),
        "unit": ("Đơn vị", "Mã đơn vị"),
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
_BATCH = 500


# --- Reading cells ---------------------------------------------------------------------------

_NAME = cells.text(Entity._meta.get_field("name").max_length)
_CODE = cells.text(Entity._meta.get_field("code").max_length)


def _count(cell: Cell) -> int:
    number = cells.whole_number(cell)
    if number < 1:
        raise BadCell(_("must be at least 1, not %(value)s") % {"value": number})
    if number > _MAX_COUNT:
        raise BadCell(_("%(value)s is too large") % {"value": number})
    return number


def _birth_year(cell: Cell) -> int:
    year = cells.whole_number(cell)
    this_year = timezone.localdate().year
    if not FIRST_BIRTH_YEAR <= year <= this_year:
        raise BadCell(
            _("must be a year from %(first)d to %(last)d, not %(value)s")
            % {"first": FIRST_BIRTH_YEAR, "last": this_year, "value": year}
        )
    return year


# --- The columns of each kind ----------------------------------------------------------------


def _columns(kind: str, *columns: Column) -> tuple[Column, ...]:
    """The kind's columns, each with its Vietnamese headers from HEADER_ALIASES."""
    return tuple(replace(c, aliases=HEADER_ALIASES[kind].get(c.name, ())) for c in columns)


_WARD = ward_column()


def _code_column(example: str) -> Column:
    return Column(
        "code",
        _CODE,
        example=example,
        allowed=gettext_lazy("The code of the record in the commune/ward, unique in it."),
    )


def _name_column(name: str, example: str) -> Column:
    return Column(name, _NAME, example=example, allowed=gettext_lazy("Text."))


def _words(words: dict[str, str]) -> str:
    """The Vietnamese cell words of a choice column, for the template's guide."""
    return ", ".join(word for word in words if not word.isascii())


_AREA_BY_CODE_OR_NAME = gettext_lazy(
    "The code, or the exact name in the commune/ward (any case, with or without diacritics), "
    "of a residential area entered before."
)
_CLAN_BY_CODE_OR_NAME = gettext_lazy(
    "The code, or the exact name in the commune/ward (any case, with or without diacritics), "
    "of a clan entered before."
)
_UNIT_BY_CODE_OR_NAME = gettext_lazy(
    "The code, or the exact name in the commune/ward (any case, with or without diacritics), "
    "of a unit entered before."
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "communities": _columns(
        "communities",
        _WARD,
        _code_column("TDP01"),
        _name_column("name", "Tổ dân phố 1"),
        Column(
            "area_type",
            cells.choice(AREA_TYPE_WORDS),
            required=False,
            empty=Community.AreaType.OTHER,
            example="Tổ dân phố",
            allowed=_words(AREA_TYPE_WORDS),
        ),
    ),
    "families": _columns(
        "families",
        _WARD,
        _code_column("HGD001"),
        _name_column("head_name", "Nguyễn Văn An"),
        Column(
            "members",
            _count,
            example=4,
            allowed=gettext_lazy("A whole number of 1 or more."),
        ),
        Column(
            "community",
            _CODE,
            refers_to=Kind.COMMUNITY,
            example="Tổ dân phố 1",
            allowed=_AREA_BY_CODE_OR_NAME,
        ),
        Column(
            "clan",
            _CODE,
            required=False,
            refers_to=Kind.CLAN,
            example="Dòng họ Nguyễn",
            allowed=_CLAN_BY_CODE_OR_NAME,
        ),
    ),
    "clans": _columns(
        "clans",
        _WARD,
        _code_column("DH001"),
        _name_column("name", "Dòng họ Nguyễn"),
        Column(
            "head_name",
            cells.text(Clan._meta.get_field("head_name").max_length),
            required=False,
            empty="",
            example="Nguyễn Văn Cường",
            allowed=gettext_lazy("Text."),
        ),
    ),
    "units": _columns(
        "units",
        _WARD,
        _code_column("DV001"),
        _name_column("name", "Trường Tiểu học Khương Đình"),
        Column(
            "unit_type",
            cells.choice(UNIT_TYPE_WORDS),
            example="Trường học",
            allowed=_words(UNIT_TYPE_WORDS),
        ),
        Column("staff", _count, example=45, allowed=gettext_lazy("A whole number of 1 or more.")),
    ),
    "citizens": _columns(
        "citizens",
        _WARD,
        _code_column("CD001"),
        _name_column("full_name", "Nguyễn Thị Bình"),
        Column(
            "birth_year",
            _birth_year,
            example=1990,
            allowed=gettext_lazy("A year from 1900 to this year."),
        ),
        Column(
            "family",
            _CODE,
            required=False,
            refers_to=Kind.FAMILY,
            example="HGD001",
            allowed=gettext_lazy("The code of a family entered before."),
        ),
        Column(
            "unit",
            _CODE,
            required=False,
            refers_to=Kind.UNIT,
            example="Trường Tiểu học Khương Đình",
            allowed=_UNIT_BY_CODE_OR_NAME,
        ),
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

_CONFLICT = gettext_lazy(
    "The registry changed while the file was imported (another import or edit of the same "
    "codes); nothing was written. Please try again."
)

IMPORT_KINDS: dict[str, ImportKind] = {
    kind: ImportKind(
        name=kind,
        columns=COLUMNS[kind],
        what=KIND_MODELS[KIND_OF[kind]]._meta.verbose_name_plural,
        conflict=_CONFLICT,
    )
    for kind in KINDS
}


def _kind_columns(kind: str) -> list[Column]:
    """The columns stored on the kind's own row (all but ward, code and the display name)."""
    return [c for c in COLUMNS[kind] if c.name not in ("ward", "code", NAME_COLUMN[kind])]


def _attname(column: Column) -> str:
    return f"{column.name}_id" if column.refers_to else column.name


@dataclass
class _Row(Row):
    ward: AdministrativeUnit | None = None


# --- Checking --------------------------------------------------------------------------------


def _check_duplicates(rows: list[_Row], *, report: ImportReport) -> None:
    def refuse(row: _Row, first: int) -> None:
        report.errors.append(
            RowError(
                row.number,
                "code",
                _("the code %(code)s of commune/ward %(ward)s is already on row %(row)d")
                % {
                    "code": cells.quote(row.values["code"]),
                    "ward": row.values["ward"],
                    "row": first,
                },
            )
        )

    duplicates(
        rows,
        key=lambda row: (
            None if {"ward", "code"} & row.bad else (row.values["ward"], row.values["code"])
        ),
        refuse=refuse,
    )


def _check(rows: list[_Row], *, kind: str, user: User | None, report: ImportReport) -> None:
    wards = resolve_wards(rows, user=user, report=report)
    for row in rows:
        row.ward = wards.get(row.number)
    references_resolve(rows, kind=IMPORT_KINDS[kind], report=report, ward_of=lambda row: row.ward)
    _check_duplicates(rows, report=report)


# --- Writing ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    new: list[tuple[Entity, dict[str, Any]]] = field(default_factory=list)
    changed: list[EntityKindModel] = field(default_factory=list)
    changed_fields: set[str] = field(default_factory=set)
    renamed: set[int] = field(default_factory=set)  # changed entities whose sort key moved
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
    for row in metered(rows):  # a pass over every row: the bar moves with it
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
        before_sort_key = entity.sort_key
        entity.name = name
        entity.refresh_search_text(
            *search_extra(
                entity_kind, {_attname(c): getattr(obj, _attname(c)) for c in kind_columns}
            )
        )
        if entity.sort_key != before_sort_key:
            plan.renamed.add(entity.pk)
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
            counted_from = entities_counted_from(
                ward_ids={entity.ward_id for entity, _attrs in plan.new},
                year=timezone.localdate().year,
            )
            for entity, _attrs in plan.new:
                entity.counted_from = counted_from[entity.ward_id]
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
            entities_renamed(entity_ids=plan.renamed)
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
    wards = {entity.ward_id for entity, _attrs in plan.new}
    wards |= {obj.entity.ward_id for obj in plan.changed}
    wards_changed(ward_ids=wards)


def registry_import(
    *,
    file: BinaryIO,
    filename: str,
    kind: str,
    dry_run: bool,
    user: User | None = None,
    progress: Progress | None = None,
    ward: str | None = None,
) -> ImportReport:
    """Parse, validate and (unless dry_run or any error) upsert all rows in one transaction.

    `kind` is one of KINDS; the file type comes from `filename`'s extension. With `user` (the
    web upload) the user must be allowed to edit the registry (else PermissionDenied, before the
    file is read) and every row's ward must be in their scope; without one (the command) every
    ward in force is open. `ward` (the command's --ward), or the user's only ward, is the
    file's: its ward column may be left out (`registry.imports.pipeline.ward_fill`). Problems
    never raise: they are the report's errors, sorted by row.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if user is not None and not can_edit_registry(user):
        raise PermissionDenied

    def apply(rows: list[_Row], report: ImportReport) -> None:
        plan = _plan(rows, kind=kind)
        if not report.dry_run:
            _write(plan, kind=kind, filename=filename)
        report.created = len(plan.new)
        report.updated = len(plan.changed)
        report.unchanged = plan.unchanged

    return run_import(
        kind=IMPORT_KINDS[kind],
        file=file,
        filename=filename,
        dry_run=dry_run,
        row_type=_Row,
        check=lambda rows, _header, report: _check(rows, kind=kind, user=user, report=report),
        apply=apply,
        progress=progress,
        user=user,
        ward=ward,
    )


def register_registry_kinds() -> None:
    """Offer the five registry kinds to `import_registry` and the upload page (at start-up)."""
    for kind in KINDS:
        register_kind(
            RegisteredKind(
                name=kind,
                label=capfirst(KIND_MODELS[KIND_OF[kind]]._meta.verbose_name_plural),
                run=lambda *, _kind=kind, **kwargs: registry_import(kind=_kind, **kwargs),
                done_url=lambda _kind=kind: reverse("entity_list", kwargs={"kind": _kind}),
                spec=IMPORT_KINDS[kind],
            )
        )
