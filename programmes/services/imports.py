"""Importing programmes, contributions, beneficiaries and deliveries through the one pipeline.

Each kind declares its columns (English names, Vietnamese aliases), checks the rows against the
database (`_check_*`) and plans the upserts (`_apply`): a programme is identified by its code,
a contribution and a delivery by (programme, ref), a beneficiary by (programme, ward, code).
All or nothing, a dry run writes nothing, a rerun of the same file changes nothing, cells that
look like formulas are stored as the text they are (`registry.imports`). The summaries of every
programme touched are recomputed in the import's transaction; the import is one audit entry.

Without a user (the commands) every unit in force is open; with one (the upload pages) the
rows must be within what the user may change (`programmes.access`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_bulk
from programmes import access
from programmes.models import (
    CODE_VALIDATOR,
    Beneficiary,
    Contribution,
    Delivery,
    DeliveryKind,
    Programme,
    ProgrammeKind,
)
from programmes.services.tallies import tallies_refresh
from registry.imports import cells
from registry.imports.cells import BadCell
from registry.imports.pipeline import (
    Column,
    ImportKind,
    Progress,
    Row,
    User,
    chunks,
    duplicates,
    resolve_wards,
    run_import,
    ward_column,
)
from registry.imports.report import ImportReport
from registry.models import AdministrativeUnit, Unit
from registry.spreadsheets import Cell
from registry.text import fold

KINDS = ("programmes", "contributions", "beneficiaries", "deliveries")
_BATCH = 500
_MAX_AMOUNT = 9_000_000_000_000_000  # fits a signed 64-bit column
_MAX_COUNT = 2_147_483_647
FIRST_BIRTH_YEAR = 1900

# --- cells -------------------------------------------------------------------------------------


def _date(cell: Cell) -> dt.date:
    value = cells.calendar_date(cell)
    if value is None:
        raise BadCell(
            _("%(value)s is not a date (dd/mm/yyyy or yyyy-mm-dd)") % {"value": cells.quote(cell)}
        )
    if not dt.date(1900, 1, 1) <= value <= dt.date(2100, 12, 31):
        raise BadCell(_("%(value)s is not a plausible date") % {"value": cells.quote(cell)})
    return value


_THOUSANDS = re.compile(r"\d{1,3}(?:([.,\s])\d{3})(?:\1\d{3})*")


def _whole(limit: int, minimum: int = 0) -> Callable[[Cell], int]:
    """A whole number; in text, thousands may be grouped as people write them (6.800,
    1,500,000 or 1 500 000)."""

    def parse(cell: Cell) -> int:
        if isinstance(cell, str):
            text = cell.strip().replace("\u00a0", " ")
            if _THOUSANDS.fullmatch(text):
                cell = re.sub(r"[.,\s]", "", text)
        number = cells.whole_number(cell)
        if number < minimum:
            raise BadCell(
                _("must be at least %(min)d, not %(value)s") % {"min": minimum, "value": number}
            )
        if number > limit:
            raise BadCell(_("%(value)s is too large") % {"value": number})
        return number

    return parse


_AMOUNT = _whole(_MAX_AMOUNT)
_COUNT = _whole(_MAX_COUNT)
_POSITIVE = _whole(_MAX_COUNT, minimum=1)


def _birth_year(cell: Cell) -> int:
    year = cells.whole_number(cell)
    this_year = timezone.localdate().year
    if not FIRST_BIRTH_YEAR <= year <= this_year:
        raise BadCell(
            _("must be a year from %(first)d to %(last)d, not %(value)s")
            % {"first": FIRST_BIRTH_YEAR, "last": this_year, "value": year}
        )
    return year


YES_NO = {
    "yes": True,
    "có": True,
    "co": True,
    "1": True,
    "true": True,
    "x": True,
    "no": False,
    "không": False,
    "khong": False,
    "0": False,
    "false": False,
}


def _yes_no(cell: Cell) -> bool:
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float) and cell in (0, 1):
        return bool(cell)
    return cells.choice({k: k for k in YES_NO})(cell) in {k for k, v in YES_NO.items() if v}


PROGRAMME_KIND_WORDS = {
    **{k.value: k.value for k in ProgrammeKind},
    "bữa ăn": "meals",
    "bữa trưa": "meals",
    "thiết bị": "devices",
    "máy tính bảng": "devices",
    "sữa": "milk",
    "học bổng": "scholarship",
    "xây trường": "school_building",
    "quỹ": "fund",
    "khác": "other",
}
DELIVERY_KIND_WORDS = {
    **{k.value: k.value for k in DeliveryKind},
    "bữa ăn": "meals",
    "hiện vật": "items",
    "tiền mặt": "cash",
    "công trình": "works",
}


def _text(model: type[models.Model], name: str) -> Callable[[Cell], str]:
    return cells.text(model._meta.get_field(name).max_length)


def _programme_code(cell: Cell) -> str:
    value = _text(Programme, "code")(cell)
    try:
        CODE_VALIDATOR(value)
    except ValidationError as exc:
        raise BadCell(exc.messages[0]) from exc
    return value


def _province_code(cell: Cell) -> str:
    value = cells.text(10)(cell)
    return value.zfill(2) if value.isdigit() and len(value) < 2 else value


_PROGRAMME = Column(
    "programme", _text(Programme, "code"), aliases=("Chương trình", "Mã chương trình")
)
_REF = Column("ref", _text(Delivery, "ref"), aliases=("Số chứng từ", "Mã phiếu", "Số phiếu"))
_DATE = Column("date", _date, aliases=("Ngày",))
_SCHOOL_TEXT = cells.text(
    Unit._meta.get_field("entity").related_model._meta.get_field("name").max_length
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "programmes": (
        Column("code", _programme_code, aliases=("Mã", "Mã chương trình")),
        Column("name", _text(Programme, "name"), aliases=("Tên", "Tên chương trình")),
        Column("organiser", _text(Programme, "organiser"), aliases=("Đơn vị tổ chức", "Tổ chức")),
        Column("province", _province_code, aliases=("Tỉnh", "Mã tỉnh", "Tỉnh/thành phố")),
        Column("kind", cells.choice(PROGRAMME_KIND_WORDS), aliases=("Loại", "Loại chương trình")),
        Column("starts", _date, aliases=("Bắt đầu", "Ngày bắt đầu", "Từ ngày")),
        Column("ends", _date, aliases=("Kết thúc", "Ngày kết thúc", "Đến ngày"), required=False),
        Column(
            "daily_rate_vnd",
            _POSITIVE,
            aliases=("Định mức ngày", "Định mức (đồng/ngày)", "Mức ăn/ngày"),
            required=False,
        ),
        Column(
            "target_beneficiaries",
            _POSITIVE,
            aliases=("Số người hưởng mục tiêu", "Chỉ tiêu"),
            required=False,
        ),
        Column(
            "public_note",
            cells.text(2000),
            aliases=("Mục đích", "Ghi chú công khai"),
            required=False,
            empty="",
        ),
    ),
    "contributions": (
        _PROGRAMME,
        _REF,
        _DATE,
        Column("donor", _text(Contribution, "donor"), aliases=("Nhà tài trợ", "Người ủng hộ")),
        Column(
            "amount_vnd", _AMOUNT, aliases=("Số tiền", "Số tiền (đồng)"), required=False, empty=0
        ),
        Column(
            "item", _text(Contribution, "item"), aliases=("Hiện vật",), required=False, empty=""
        ),
        Column("quantity", _COUNT, aliases=("Số lượng",), required=False, empty=0),
        Column(
            "donor_public",
            _yes_no,
            aliases=("Công khai tên", "Đồng ý công khai"),
            required=False,
            empty=False,
        ),
    ),
    "beneficiaries": (
        _PROGRAMME,
        ward_column(),
        Column("code", _text(Beneficiary, "code"), aliases=("Mã", "Mã trẻ", "Mã số")),
        Column("full_name", _text(Beneficiary, "full_name"), aliases=("Họ và tên", "Họ tên")),
        Column("birth_year", _birth_year, aliases=("Năm sinh",)),
        Column("school", _SCHOOL_TEXT, aliases=("Trường", "Mã trường", "Tên trường")),
        Column("starts", _date, aliases=("Bắt đầu", "Từ ngày")),
        Column("ends", _date, aliases=("Kết thúc", "Đến ngày"), required=False),
    ),
    "deliveries": (
        _PROGRAMME,
        _REF,
        _DATE,
        ward_column(),
        Column("school", _SCHOOL_TEXT, aliases=("Trường", "Mã trường", "Tên trường")),
        Column("kind", cells.choice(DELIVERY_KIND_WORDS), aliases=("Loại", "Hình thức")),
        Column(
            "beneficiary",
            _text(Beneficiary, "code"),
            aliases=("Mã trẻ", "Người hưởng"),
            required=False,
        ),
        Column(
            "days", _COUNT, aliases=("Số suất", "Số ngày ăn", "Ngày ăn"), required=False, empty=0
        ),
        Column("item", _text(Delivery, "item"), aliases=("Hiện vật",), required=False, empty=""),
        Column("quantity", _COUNT, aliases=("Số lượng",), required=False, empty=0),
        Column("amount_vnd", _AMOUNT, aliases=("Số tiền", "Thành tiền", "Số tiền (đồng)")),
    ),
}

_CONFLICT = gettext_lazy(
    "The programme's records changed while the file was imported; nothing was written. "
    "Please try again."
)
WHAT = {
    "programmes": gettext_lazy("programmes"),
    "contributions": gettext_lazy("contributions"),
    "beneficiaries": gettext_lazy("beneficiaries"),
    "deliveries": gettext_lazy("deliveries"),
}
IMPORT_KINDS = {
    kind: ImportKind(name=kind, columns=COLUMNS[kind], what=WHAT[kind], conflict=_CONFLICT)
    for kind in KINDS
}
MODELS: dict[str, type[models.Model]] = {
    "programmes": Programme,
    "contributions": Contribution,
    "beneficiaries": Beneficiary,
    "deliveries": Delivery,
}


@dataclass
class _Row(Row):
    programme: Programme | None = None
    ward: AdministrativeUnit | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


def _ok(row: _Row, *names: str) -> bool:
    return not (set(names) & row.bad) and all(row.values.get(n) is not None for n in names)


# --- checks ------------------------------------------------------------------------------------


def _period(row: _Row, report: ImportReport, starts: str = "starts", ends: str = "ends") -> None:
    if _ok(row, starts, ends) and row.values[ends] < row.values[starts]:
        row.refuse(report, ends, _("ends before it starts"))


def _refuse_repeats(rows: list[_Row], report: ImportReport, names: tuple[str, ...]) -> None:
    column = names[-1]

    def refuse(row: _Row, first: int) -> None:
        row.refuse(
            report,
            column,
            _("the same %(column)s is already on row %(row)d")
            % {
                "column": column,
                "row": first,
            },
        )

    duplicates(
        rows,
        key=lambda row: tuple(row.values[n] for n in names) if _ok(row, *names) else None,
        refuse=refuse,
    )


def _resolve_programmes(
    rows: list[_Row], report: ImportReport, *, user: User | None, need: str
) -> None:
    """Each row's programme by code; with a user, one they may write to (`need`)."""
    codes = {row.values["programme"] for row in rows if _ok(row, "programme")}
    found = {p.code: p for p in Programme.objects.filter(code__in=codes)}
    allowed: dict[str, bool] = {}
    for row in rows:
        if not _ok(row, "programme"):
            continue
        programme = found.get(row.values["programme"])
        if programme is not None and user is not None and need == "manage":
            if programme.code not in allowed:
                allowed[programme.code] = access.can_manage(user, programme)
            if not allowed[programme.code]:
                programme = None
        if programme is None:
            reason = (
                _("no programme has the code %(code)s")
                if user is None
                else _("no programme you may change has the code %(code)s")
            )
            row.refuse(report, "programme", reason % {"code": cells.quote(row.values["programme"])})
            continue
        row.programme = programme


def _resolve_row_wards(
    rows: list[_Row], report: ImportReport, *, user: User | None, organisers: bool
) -> None:
    """Each row's ward (in force, in the programme's province, and one the user records in)."""
    wards = resolve_wards(rows, user=user, report=report)
    organised: dict[int, bool] = {}
    for row in rows:
        ward = wards.get(row.number)
        if ward is None:
            continue
        if row.programme is not None and ward.parent_id != row.programme.province_id:
            row.refuse(
                report,
                "ward",
                _("commune/ward %(ward)s is not in the programme's province") % {"ward": ward.code},
            )
            continue
        if user is not None and row.programme is not None:
            ok = access.can_record_in_ward(user, ward)
            if not ok and organisers:
                pid = row.programme.pk
                if pid not in organised:
                    organised[pid] = access.is_organiser(user, row.programme)
                ok = organised[pid]
            if not ok:
                row.refuse(
                    report,
                    "ward",
                    _("you may not record in commune/ward %(ward)s") % {"ward": ward.code},
                )
                continue
        row.ward = ward


def _resolve_schools(rows: list[_Row], report: ImportReport) -> None:
    """`school`: a unit of type school of the row's ward, by code or exact name."""
    ward_ids = {row.ward.pk for row in rows if row.ward is not None}
    by_code: dict[tuple[int, str], int] = {}
    by_name: dict[tuple[int, str], list[int]] = defaultdict(list)
    for chunk in chunks(sorted(ward_ids)):
        for pk, ward_id, code, name in Unit.objects.filter(
            unit_type=Unit.UnitType.SCHOOL, entity__ward_id__in=chunk
        ).values_list("pk", "entity__ward_id", "entity__code", "entity__name"):
            by_code[(ward_id, code)] = pk
            by_name[(ward_id, name)].append(pk)
    for row in rows:
        if row.ward is None or not _ok(row, "school"):
            continue
        value = row.values["school"]
        pk = by_code.get((row.ward.pk, value))
        if pk is None:
            named = by_name.get((row.ward.pk, value), [])
            if len(named) > 1:
                row.refuse(
                    report,
                    "school",
                    _("two schools of commune/ward %(ward)s are named %(name)s; use the code")
                    % {"ward": row.ward.code, "name": cells.quote(value)},
                )
                continue
            pk = named[0] if named else None
        if pk is None:
            row.refuse(
                report,
                "school",
                _("no school with the code or name %(value)s in commune/ward %(ward)s")
                % {"value": cells.quote(value), "ward": row.ward.code},
            )
            continue
        row.attrs["school_id"] = pk


def _check_programmes(rows: list[_Row], report: ImportReport, *, user: User | None) -> None:
    _refuse_repeats(rows, report, ("code",))
    codes = {row.values["province"] for row in rows if _ok(row, "province")}
    provinces = {
        p.code: p
        for p in AdministrativeUnit.objects.filter(
            level=AdministrativeUnit.Level.PROVINCE, valid_to__isnull=True, code__in=codes
        )
    }
    existing = {
        p.code: p
        for p in Programme.objects.filter(
            code__in={row.values["code"] for row in rows if _ok(row, "code")}
        )
    }
    for row in rows:
        _period(row, report)
        if not _ok(row, "province"):
            continue
        province = provinces.get(row.values["province"])
        if province is None or (
            user is not None and not access.is_programme_admin(user, province.pk)
        ):
            reason = (
                _("no province in force has the code %(code)s")
                if user is None
                else _("no province you administer has the code %(code)s")
            )
            row.refuse(report, "province", reason % {"code": cells.quote(row.values["province"])})
            continue
        old = existing.get(row.values.get("code"))
        if old is not None and old.province_id != province.pk:
            row.refuse(
                report,
                "province",
                _("programme %(code)s belongs to another province; it cannot move")
                % {"code": old.code},
            )
            continue
        row.attrs["province_id"] = province.pk


def _check_contributions(rows: list[_Row], report: ImportReport, *, user: User | None) -> None:
    _resolve_programmes(rows, report, user=user, need="manage")
    _refuse_repeats(rows, report, ("programme", "ref"))
    for row in rows:
        _money_or_items(row, report, money_required=False)


def _money_or_items(row: _Row, report: ImportReport, *, money_required: bool) -> None:
    item, quantity = row.values.get("item"), row.values.get("quantity")
    if "item" in row.bad or "quantity" in row.bad or "amount_vnd" in row.bad:
        return
    if item and not quantity:
        row.refuse(report, "quantity", _("an item needs a quantity"))
    elif quantity and not item:
        row.refuse(report, "item", _("a quantity needs the item it counts"))
    elif not money_required and not row.values.get("amount_vnd") and not item:
        row.refuse(report, "amount_vnd", _("neither an amount nor an item is given"))


def _check_beneficiaries(rows: list[_Row], report: ImportReport, *, user: User | None) -> None:
    _resolve_programmes(rows, report, user=user, need="see")
    _resolve_row_wards(rows, report, user=user, organisers=False)
    _resolve_schools(rows, report)
    _refuse_repeats(rows, report, ("programme", "ward", "code"))
    for row in rows:
        _period(row, report)


def _check_deliveries(rows: list[_Row], report: ImportReport, *, user: User | None) -> None:
    _resolve_programmes(rows, report, user=user, need="see")
    _resolve_row_wards(rows, report, user=user, organisers=True)
    _resolve_schools(rows, report)
    _refuse_repeats(rows, report, ("programme", "ref"))
    wanted = {
        (row.programme.pk, row.ward.pk, row.values["beneficiary"])
        for row in rows
        if row.programme is not None and row.ward is not None and _ok(row, "beneficiary")
    }
    found: dict[tuple[int, int, str], tuple[int, int]] = {}
    by_programme: dict[int, set[str]] = defaultdict(set)
    for programme_id, _ward, code in wanted:
        by_programme[programme_id].add(code)
    for programme_id, codes in by_programme.items():
        for chunk in chunks(sorted(codes)):
            for pk, ward_id, code, school_id in Beneficiary.objects.filter(
                programme_id=programme_id, code__in=chunk
            ).values_list("pk", "ward_id", "code", "school_id"):
                found[(programme_id, ward_id, code)] = (pk, school_id)
    for row in rows:
        kind = row.values.get("kind")
        if kind == DeliveryKind.MEALS and "days" not in row.bad and not row.values.get("days"):
            row.refuse(report, "days", _("meals need the child-days served"))
        if kind != DeliveryKind.MEALS and row.values.get("days"):
            row.refuse(report, "days", _("child-days are for meals only"))
        _money_or_items(row, report, money_required=True)
        if "beneficiary" not in row.values:
            continue  # no such column: existing deliveries keep theirs
        if row.programme is None or row.ward is None or not _ok(row, "beneficiary"):
            row.attrs["beneficiary_id"] = None
            continue
        match = found.get((row.programme.pk, row.ward.pk, row.values["beneficiary"]))
        if match is None:
            row.refuse(
                report,
                "beneficiary",
                _("no beneficiary of the programme with the code %(code)s in commune/ward %(ward)s")
                % {"code": cells.quote(row.values["beneficiary"]), "ward": row.ward.code},
            )
            continue
        row.attrs["beneficiary_id"] = match[0]


# --- plan and write ----------------------------------------------------------------------------


def _attrs(kind: str, row: _Row) -> dict[str, Any]:
    """The model fields a row sets (only the optional columns the file has)."""
    v = row.values
    a = dict(row.attrs)
    skip = {"programme", "ward", "school", "beneficiary", "province"}
    for column in COLUMNS[kind]:
        if column.name in skip or column.name not in v:
            continue
        a[column.name] = v[column.name]
    if row.programme is not None:
        a["programme_id"] = row.programme.pk
        a["province_id"] = row.programme.province_id
    if row.ward is not None:
        a["ward_id"] = row.ward.pk
    if kind == "beneficiaries":
        a["search_text"] = fold(f"{v['full_name']} {v['code']}")[:400]
    return a


def _key(kind: str, attrs: dict[str, Any]) -> tuple:
    if kind == "programmes":
        return (attrs["code"],)
    if kind == "beneficiaries":
        return (attrs["programme_id"], attrs["ward_id"], attrs["code"])
    return (attrs["programme_id"], attrs["ref"])


def _existing(kind: str, keys: list[tuple]) -> dict[tuple, models.Model]:
    model = MODELS[kind]
    found: dict[tuple, models.Model] = {}
    if kind == "programmes":
        for chunk in chunks([k[0] for k in keys]):
            found.update(((p.code,), p) for p in model.objects.filter(code__in=chunk))
        return found
    by_programme: dict[int, set[str]] = defaultdict(set)
    for key in keys:
        by_programme[key[0]].add(key[-1])
    field_name = "code" if kind == "beneficiaries" else "ref"
    for programme_id, values in by_programme.items():
        for chunk in chunks(sorted(values)):
            for obj in model.objects.filter(
                programme_id=programme_id, **{f"{field_name}__in": chunk}
            ):
                attrs = {"programme_id": obj.programme_id, field_name: getattr(obj, field_name)}
                if kind == "beneficiaries":
                    attrs["ward_id"] = obj.ward_id
                found[_key(kind, attrs)] = obj
    return found


def _apply(kind: str, rows: list[_Row], report: ImportReport, *, filename: str) -> None:
    model = MODELS[kind]
    planned = [_attrs(kind, row) for row in rows]
    existing = _existing(kind, [_key(kind, a) for a in planned])
    new, changed, fields = [], [], set()
    defaults = {
        c.name: c.empty for c in COLUMNS[kind] if not c.required and c.name != "beneficiary"
    }
    for attrs in planned:
        obj = existing.get(_key(kind, attrs))
        if obj is None:
            values = {**defaults, **attrs}
            if kind == "deliveries":
                values.setdefault("beneficiary_id", None)
            new.append(model(**values))
            continue
        diff = [f for f, value in attrs.items() if getattr(obj, f) != value]
        if diff:
            for f in diff:
                setattr(obj, f, attrs[f])
            changed.append(obj)
            fields.update(diff)
        else:
            report.unchanged += 1
    report.created, report.updated = len(new), len(changed)
    if report.dry_run or not (new or changed):
        return
    model.objects.bulk_create(new, batch_size=_BATCH)
    if changed:
        now = timezone.now()
        for obj in changed:
            obj.updated_at = now
        model.objects.bulk_update(changed, sorted(fields | {"updated_at"}), batch_size=_BATCH)
    touched = new + changed
    programme_ids = {obj.pk if kind == "programmes" else obj.programme_id for obj in touched}
    tallies_refresh(programme_ids=programme_ids)
    record_bulk(
        "programmes_import",
        model=model,
        ward_ids={obj.ward_id for obj in touched}
        if kind in ("beneficiaries", "deliveries")
        else (),
        province_ids={obj.province_id for obj in touched},
        kind=kind,
        file=filename,
        created=len(new),
        updated=len(changed),
    )


CHECKS = {
    "programmes": _check_programmes,
    "contributions": _check_contributions,
    "beneficiaries": _check_beneficiaries,
    "deliveries": _check_deliveries,
}


def programmes_import(
    *,
    file: BinaryIO,
    filename: str,
    kind: str,
    dry_run: bool,
    user: User | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check and (unless dry_run or any error) upsert every row of the file in one transaction.

    With `user` (the upload pages) the rows must be within what the user may change; a user who
    may change nothing of the kind is refused before the file is read (PermissionDenied).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if user is not None and not may_upload(user, kind):
        raise PermissionDenied

    def check(rows: list[_Row], _header, report: ImportReport) -> None:
        CHECKS[kind](rows, report, user=user)

    return run_import(
        kind=IMPORT_KINDS[kind],
        file=file,
        filename=filename,
        dry_run=dry_run,
        row_type=_Row,
        check=check,
        apply=lambda rows, report: _apply(kind, rows, report, filename=filename),
        progress=progress,
    )


def may_upload(user, kind: str) -> bool:
    """Whether the user may upload a file of this kind at all (rows are checked one by one)."""
    if kind == "programmes":
        return access.can_create_programme(user)
    if kind == "contributions":
        return access.can_create_programme(user) or access.organises_any(user)
    if kind == "beneficiaries":
        return access.can_record_any(user)
    return access.can_record_any(user) or access.organises_any(user)
