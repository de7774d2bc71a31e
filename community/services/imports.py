"""Importing groups, members and activities: three kinds of file of the one import pipeline.

Same rules as the registry files (`registry.imports.pipeline`): all or nothing, a report naming
row, column and reason, Vietnamese headers, formula-looking cells stored as text, old ward codes
read by `resolve_wards`, and a rerun of the same file changes nothing. A group is identified by
(ward, code), a member by (ward, group, code), an activity by (ward, group, ref). Every import
refreshes the summaries of the wards it wrote in its own transaction and is audited as one bulk
entry.

Column rules beyond the registry's:
- `community` (groups) and `citizen`/`citizens` (members, activities) are codes of entities of
  the row's own ward; `group` (members, activities) is the code of a group of that ward.
- Dates are 2025-03-15, 15/03/2025 or a date cell; a member's `left` is not before `joined`; an
  activity's date is not in the future.
- `services` and `citizens` are `;`-separated (a `,` is accepted too); a repeated value counts
  once. `people_helped` left empty is the number of citizens listed; given, it is at least that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_bulk
from community.models import Activity, ActivityCitizen, ActivityType, Group, GroupType, Member
from community.services.summaries import summaries_refresh
from registry.access import can_edit_registry
from registry.imports import cells
from registry.imports.cells import BadCell
from registry.imports.pipeline import (
    Column,
    ImportKind,
    Progress,
    Row,
    User,
    chunks,
    codes_in_wards,
    duplicates,
    resolve_wards,
    run_import,
    ward_column,
)
from registry.imports.report import ImportReport
from registry.models import AdministrativeUnit, Kind
from registry.spreadsheets import Cell, as_text, match_key
from registry.text import sort_key

KINDS = ("groups", "members", "activities")

GROUP_TYPE_WORDS: dict[str, str] = {
    **{t.value: t.value for t in GroupType},
    "CLB phát triển cộng đồng": GroupType.COMMUNITY_CLUB,
    "câu lạc bộ phát triển cộng đồng": GroupType.COMMUNITY_CLUB,
    "trung tâm học tập cộng đồng": GroupType.LEARNING_CENTRE,
    "TTHTCĐ": GroupType.LEARNING_CENTRE,
    "tổ công nghệ số cộng đồng": GroupType.DIGITAL_TEAM,
    "đội/tổ lưu động Bình dân học vụ số": GroupType.MOBILE_TEAM,
    "tổ lưu động": GroupType.MOBILE_TEAM,
    "đội lưu động": GroupType.MOBILE_TEAM,
    "nhóm sở thích": GroupType.INTEREST_GROUP,
    "nhóm tương tự": GroupType.INTEREST_GROUP,
    "khác": GroupType.OTHER,
}
ACTIVITY_TYPE_WORDS: dict[str, str] = {
    **{t.value: t.value for t in ActivityType},
    "họp": ActivityType.MEETING,
    "sinh hoạt": ActivityType.MEETING,
    "lớp học": ActivityType.CLASS,
    "tập huấn": ActivityType.TRAINING,
    "hỗ trợ tại nhà": ActivityType.HOME_VISIT,
    "đến nhà": ActivityType.HOME_VISIT,
    "điểm lưu động": ActivityType.MOBILE_POINT,
    "khác": ActivityType.OTHER,
}
SERVICE_WORDS: dict[str, str] = {
    "vneid": "vneid",
    "ihanoi": "ihanoi",
    "etax": "etax",
    "etax mobile": "etax",
    "vssid": "vssid",
    "public_portal": "public_portal",
    "cổng dịch vụ công": "public_portal",
    "binhdanhocvuso": "binhdanhocvuso",
    "bình dân học vụ số": "binhdanhocvuso",
    "other": "other",
    "khác": "other",
}
SERVICE_ORDER = ("vneid", "ihanoi", "etax", "vssid", "public_portal", "binhdanhocvuso", "other")

_COMMUNITY_ALIASES = ("Tổ dân phố", "Thôn/Tổ dân phố", "Mã thôn", "Mã tổ dân phố", "Thôn")
_GROUP_ALIASES = ("Mã nhóm", "Nhóm", "Mã CLB", "Mã câu lạc bộ", "Câu lạc bộ/nhóm")

_MAX_COUNT = 2_147_483_647
_BATCH = 500
_CONFLICT = gettext_lazy(
    "The groups changed while the file was imported (another import or edit of the same "
    "codes); nothing was written. Please try again."
)
FIRST_YEAR = 1900


# --- Cells -------------------------------------------------------------------------------------


def _text(model: type, field: str) -> cells.Parser:
    return cells.text(model._meta.get_field(field).max_length)


def _date(cell: Cell) -> dt.date:
    value = cells.calendar_date(cell)
    if value is None:
        raise BadCell(
            _("%(value)s is not a date such as 15/03/2025 or 2025-03-15")
            % {"value": cells.quote(cell)}
        )
    if value.year < FIRST_YEAR:
        raise BadCell(_("%(value)s is too early") % {"value": cells.quote(cell)})
    return value


def _past_date(cell: Cell) -> dt.date:
    value = _date(cell)
    if value > timezone.localdate():
        raise BadCell(
            _("%(value)s is in the future: record an activity once it has taken place")
            % {"value": value.strftime("%d/%m/%Y")}
        )
    return value


def _count(cell: Cell) -> int:
    number = cells.whole_number(cell)
    if number < 0:
        raise BadCell(_("must not be negative, not %(value)s") % {"value": number})
    if number > _MAX_COUNT:
        raise BadCell(_("%(value)s is too large") % {"value": number})
    return number


def _split(cell: Cell) -> list[str]:
    text = as_text(cell).replace(",", ";")
    return [part.strip() for part in text.split(";") if part.strip()]


def _services(cell: Cell) -> list[str]:
    folded = {match_key(word): value for word, value in SERVICE_WORDS.items()}
    found: set[str] = set()
    for part in _split(cell):
        value = folded.get(match_key(part))
        if value is None:
            raise BadCell(
                _("%(value)s is not a service: %(choices)s")
                % {"value": cells.quote(part), "choices": ", ".join(SERVICE_ORDER)}
            )
        found.add(value)
    return [s for s in SERVICE_ORDER if s in found]


_CITIZEN_CODE = _text(Member, "code")


def _codes(cell: Cell) -> list[str]:
    codes: list[str] = []
    for part in _split(cell):
        code = _CITIZEN_CODE(part)
        if code not in codes:
            codes.append(code)
    return codes


# --- Columns -----------------------------------------------------------------------------------

_WARD = ward_column()
# What the columns take, in the template's guide (`registry.imports.templates`).
_CODE_HELP = gettext_lazy("The code of the record in the commune/ward, unique in it.")
_TEXT_HELP = gettext_lazy("Text.")
_DATE_HELP = gettext_lazy("A date (dd/mm/yyyy).")
_COUNT_HELP = gettext_lazy("A whole number, 0 or more.")
_GROUP_HELP = gettext_lazy("The code of a group or club entered before.")


# The services as the guide lists them: the apps by their own names, the rest in Vietnamese.
_SERVICE_NAMES = (
    "VNeID",
    "iHanoi",
    "eTax Mobile",
    "VssID",
    *(word for word in SERVICE_WORDS if not word.isascii()),
)


def _words(words: dict[str, str]) -> str:
    """The Vietnamese cell words of a choice column, for the template's guide."""
    return ", ".join(word for word in words if not word.isascii())


def _with_aliases(aliases: dict[str, tuple[str, ...]], *columns: Column) -> tuple[Column, ...]:
    return tuple(replace(c, aliases=aliases.get(c.name, c.aliases)) for c in columns)


GROUP_COLUMNS = _with_aliases(
    {
        "code": ("Mã", "Mã nhóm", "Mã CLB", "Mã câu lạc bộ"),
        "name": ("Tên", "Tên nhóm", "Tên CLB", "Tên câu lạc bộ", "Tên CLB/nhóm"),
        "group_type": ("Loại", "Loại nhóm", "Loại hình"),
        "community": _COMMUNITY_ALIASES,
        "founded": ("Ngày thành lập", "Thành lập"),
        "leader_name": ("Trưởng nhóm", "Chủ nhiệm", "Người phụ trách"),
    },
    _WARD,
    Column("code", _text(Group, "code"), example="CLB01", allowed=_CODE_HELP),
    Column("name", _text(Group, "name"), example="CLB Bình dân học vụ số", allowed=_TEXT_HELP),
    Column(
        "group_type",
        cells.choice(GROUP_TYPE_WORDS),
        example="CLB phát triển cộng đồng",
        allowed=_words(GROUP_TYPE_WORDS),
    ),
    Column(
        "community",
        _text(Group, "code"),
        required=False,
        example="TDP01",
        allowed=gettext_lazy("The code of a residential area entered before."),
    ),
    Column("founded", _date, required=False, example="15/03/2025", allowed=_DATE_HELP),
    Column(
        "leader_name",
        _text(Group, "leader_name"),
        required=False,
        empty="",
        example="Nguyễn Thị Lan",
        allowed=_TEXT_HELP,
    ),
)
MEMBER_COLUMNS = _with_aliases(
    {
        "group": _GROUP_ALIASES,
        "code": ("Mã", "Mã thành viên"),
        "full_name": ("Họ và tên", "Họ tên"),
        "citizen": ("Mã công dân", "Công dân"),
        "role": ("Vai trò", "Chức vụ"),
        "joined": ("Ngày tham gia", "Ngày vào"),
        "left": ("Ngày rời", "Ngày thôi tham gia"),
    },
    _WARD,
    Column("group", _text(Group, "code"), example="CLB01", allowed=_GROUP_HELP),
    Column("code", _text(Member, "code"), example="TV001", allowed=_CODE_HELP),
    Column("full_name", _text(Member, "full_name"), example="Trần Văn Bình", allowed=_TEXT_HELP),
    Column(
        "citizen",
        _text(Member, "code"),
        required=False,
        allowed=gettext_lazy("The code of a citizen entered before (may be left blank)."),
    ),
    Column(
        "role",
        _text(Member, "role"),
        required=False,
        empty="",
        example="Thành viên",
        allowed=_TEXT_HELP,
    ),
    Column("joined", _date, required=False, example="01/04/2025", allowed=_DATE_HELP),
    Column("left", _date, required=False, allowed=_DATE_HELP),
)
ACTIVITY_COLUMNS = _with_aliases(
    {
        "group": _GROUP_ALIASES,
        "ref": ("Số hiệu", "Mã hoạt động", "Mã"),
        "date": ("Ngày", "Ngày hoạt động"),
        "activity_type": ("Loại hoạt động", "Hoạt động", "Hình thức"),
        "participants": ("Số người tham gia", "Người tham gia"),
        "people_helped": ("Số người được hỗ trợ", "Số người được giúp"),
        "services": ("Dịch vụ", "Dịch vụ hỗ trợ", "Ứng dụng"),
        "dossiers": ("Số hồ sơ", "Số hồ sơ trực tuyến", "Hồ sơ trực tuyến"),
        "citizens": ("Công dân được hỗ trợ", "Mã công dân được hỗ trợ"),
        "note": ("Ghi chú",),
    },
    _WARD,
    Column("group", _text(Group, "code"), example="CLB01", allowed=_GROUP_HELP),
    Column(
        "ref",
        _text(Activity, "ref"),
        example="HD001",
        allowed=gettext_lazy("The activity's own code in the group, unique in it."),
    ),
    Column(
        "date",
        _past_date,
        example="20/04/2025",
        allowed=gettext_lazy("A date (dd/mm/yyyy), not in the future."),
    ),
    Column(
        "activity_type",
        cells.choice(ACTIVITY_TYPE_WORDS),
        example="lớp học",
        allowed=_words(ACTIVITY_TYPE_WORDS),
    ),
    Column("participants", _count, example=25, allowed=_COUNT_HELP),
    Column("people_helped", _count, required=False, example=10, allowed=_COUNT_HELP),
    Column(
        "services",
        _services,
        required=False,
        empty=[],
        example="VNeID; eTax Mobile",
        allowed=format_lazy(
            "{} {}", gettext_lazy("Services separated by “;”:"), ", ".join(_SERVICE_NAMES)
        ),
    ),
    Column("dossiers", _count, required=False, empty=0, example=3, allowed=_COUNT_HELP),
    Column(
        "citizens",
        _codes,
        required=False,
        empty=[],
        allowed=gettext_lazy("Codes of citizens entered before, separated by “;”."),
    ),
    Column("note", cells.text(2000), required=False, empty="", allowed=_TEXT_HELP),
)

IMPORT_KINDS: dict[str, ImportKind] = {
    "groups": ImportKind("groups", GROUP_COLUMNS, Group._meta.verbose_name_plural, None, _CONFLICT),
    "members": ImportKind(
        "members", MEMBER_COLUMNS, Member._meta.verbose_name_plural, None, _CONFLICT
    ),
    "activities": ImportKind(
        "activities", ACTIVITY_COLUMNS, Activity._meta.verbose_name_plural, None, _CONFLICT
    ),
}

# The columns as the upload page's help lists them (optional ones in brackets).
COLUMNS_HELP = {
    kind: ", ".join(c.name if c.required else f"[{c.name}]" for c in IMPORT_KINDS[kind].columns)
    for kind in KINDS
}


@dataclass
class _Row(Row):
    ward: AdministrativeUnit | None = None
    group_id: int | None = None


# --- Checks ------------------------------------------------------------------------------------


def _ok(row: _Row, *columns: str) -> bool:
    return row.ward is not None and not (set(columns) & row.bad)


def _resolve_groups(rows: list[_Row], report: ImportReport) -> dict[int, str]:
    """Each row's group (by the `group` code in its ward); returns group id -> group type."""
    wanted = [row for row in rows if _ok(row, "group")]
    found: dict[tuple[int, str], tuple[int, str]] = {}
    by_ward: dict[int, set[str]] = {}
    for row in wanted:
        by_ward.setdefault(row.ward.pk, set()).add(row.values["group"])
    for ward_id, codes in by_ward.items():
        for chunk in chunks(sorted(codes)):
            for pk, code, group_type in Group.objects.filter(
                ward_id=ward_id, code__in=chunk
            ).values_list("pk", "code", "group_type"):
                found[(ward_id, code)] = (pk, group_type)
    types: dict[int, str] = {}
    for row in wanted:
        hit = found.get((row.ward.pk, row.values["group"]))
        if hit is None:
            row.refuse(
                report,
                "group",
                _("no group with the code %(code)s in commune/ward %(ward)s")
                % {"code": cells.quote(row.values["group"]), "ward": row.ward.code},
            )
            continue
        row.group_id = hit[0]
        types[hit[0]] = hit[1]
    return types


def _resolve_entities(
    rows: list[_Row], report: ImportReport, *, column: str, kind: str, many: bool = False
) -> None:
    """Replace entity codes in `column` by ids; each must be an entity of `kind` of the ward."""
    wanted = [row for row in rows if _ok(row, column) and row.values.get(column)]
    pairs = [
        (row.ward.pk, code)
        for row in wanted
        for code in (row.values[column] if many else [row.values[column]])
    ]
    found = codes_in_wards(kind, pairs)
    message = (
        _("no residential area with the code %(code)s in commune/ward %(ward)s")
        if kind == Kind.COMMUNITY
        else _("no citizen with the code %(code)s in commune/ward %(ward)s")
    )
    for row in wanted:
        codes = row.values[column] if many else [row.values[column]]
        ids = []
        for code in codes:
            pk = found.get((row.ward.pk, code))
            if pk is None:
                row.refuse(
                    report, column, message % {"code": cells.quote(code), "ward": row.ward.code}
                )
                break
            ids.append(pk)
        else:
            row.values[column] = ids if many else ids[0]


def _refuse_duplicates(
    rows: list[_Row], report: ImportReport, *, key: Callable[[_Row], Any], column: str
) -> None:
    def refuse(row: _Row, first: int) -> None:
        row.refuse(
            report,
            column,
            _("%(value)s is already on row %(row)d")
            % {"value": cells.quote(row.values[column]), "row": first},
        )

    duplicates(rows, key=key, refuse=refuse)


def _check_groups(rows: list[_Row], report: ImportReport) -> None:
    _resolve_entities(rows, report, column="community", kind=Kind.COMMUNITY)
    _refuse_duplicates(
        rows,
        report,
        key=lambda r: (r.ward.pk, r.values["code"]) if _ok(r, "code") else None,
        column="code",
    )


def _check_members(rows: list[_Row], report: ImportReport) -> None:
    _resolve_groups(rows, report)
    _resolve_entities(rows, report, column="citizen", kind=Kind.CITIZEN)
    for row in rows:
        joined, left = row.values.get("joined"), row.values.get("left")
        if joined and left and left < joined and not {"joined", "left"} & row.bad:
            row.refuse(
                report,
                "left",
                _("%(left)s is before the date the member joined (%(joined)s)")
                % {"left": left.strftime("%d/%m/%Y"), "joined": joined.strftime("%d/%m/%Y")},
            )
    _refuse_duplicates(
        rows,
        report,
        key=lambda r: (r.group_id, r.values["code"]) if r.group_id and _ok(r, "code") else None,
        column="code",
    )


def _check_activities(rows: list[_Row], report: ImportReport) -> None:
    _resolve_groups(rows, report)
    _resolve_entities(rows, report, column="citizens", kind=Kind.CITIZEN, many=True)
    for row in rows:
        if {"citizens", "people_helped"} & row.bad:
            continue
        listed = len(row.values.get("citizens") or [])
        helped = row.values.get("people_helped")
        if helped is None:
            row.values["people_helped"] = listed
        elif helped < listed:
            row.refuse(
                report,
                "people_helped",
                _("%(helped)d is fewer than the %(listed)d citizens listed as helped")
                % {"helped": helped, "listed": listed},
            )
    _refuse_duplicates(
        rows,
        report,
        key=lambda r: (r.group_id, r.values["ref"]) if r.group_id and _ok(r, "ref") else None,
        column="ref",
    )


CHECKS = {"groups": _check_groups, "members": _check_members, "activities": _check_activities}


# --- Writes ------------------------------------------------------------------------------------


def _fields(row: _Row, kind: str) -> dict[str, Any]:
    """The model fields a row sets (a column left out of the file is left as stored)."""
    v = row.values
    if kind == "groups":
        names = {"name": "name", "group_type": "group_type", "community": "community_id"}
        names |= {"founded": "founded", "leader_name": "leader_name"}
    elif kind == "members":
        names = {"full_name": "full_name", "citizen": "citizen_id", "role": "role"}
        names |= {"joined": "joined", "left": "left"}
    else:
        names = {
            "date": "date",
            "activity_type": "activity_type",
            "participants": "participants",
            "people_helped": "people_helped",
            "services": "services",
            "dossiers": "dossiers",
            "note": "note",
        }
    fields = {attr: v[column] for column, attr in names.items() if column in v}
    if kind == "activities":
        fields["year"] = v["date"].year
    return fields


def _existing(kind: str, rows: list[_Row]) -> dict[tuple, Any]:
    found: dict[tuple, Any] = {}
    if kind == "groups":
        by_ward: dict[int, set[str]] = {}
        for row in rows:
            by_ward.setdefault(row.ward.pk, set()).add(row.values["code"])
        for ward_id, codes in by_ward.items():
            for chunk in chunks(sorted(codes)):
                for obj in Group.objects.filter(ward_id=ward_id, code__in=chunk):
                    found[(ward_id, obj.code)] = obj
        return found
    model, key = (Member, "code") if kind == "members" else (Activity, "ref")
    by_group: dict[int, set[str]] = {}
    for row in rows:
        by_group.setdefault(row.group_id, set()).add(row.values[key])
    for group_id, codes in by_group.items():
        for chunk in chunks(sorted(codes)):
            for obj in model.objects.filter(group_id=group_id, **{f"{key}__in": chunk}):
                found[(group_id, getattr(obj, key))] = obj
    if kind == "activities" and found:
        helped: dict[int, set[int]] = {}
        ids = [obj.pk for obj in found.values()]
        for chunk in chunks(ids):
            for activity_id, citizen_id in ActivityCitizen.objects.filter(
                activity_id__in=chunk
            ).values_list("activity_id", "citizen_id"):
                helped.setdefault(activity_id, set()).add(citizen_id)
        for obj in found.values():
            obj._helped = helped.get(obj.pk, set())
    return found


def _apply(kind: str, rows: list[_Row], report: ImportReport, filename: str) -> None:
    existing = _existing(kind, rows)
    new: list[tuple[Any, _Row]] = []
    changed: list[tuple[Any, _Row]] = []
    changed_fields: set[str] = set()
    unchanged = 0
    for row in rows:
        fields = _fields(row, kind)
        key = (
            (row.ward.pk, row.values["code"])
            if kind == "groups"
            else (row.group_id, row.values["code" if kind == "members" else "ref"])
        )
        obj = existing.get(key)
        if obj is None:
            model = {"groups": Group, "members": Member, "activities": Activity}[kind]
            ident: dict[str, Any] = {"ward_id": row.ward.pk, "province_id": row.ward.parent_id}
            if kind == "groups":
                ident["code"] = row.values["code"]
            else:
                ident["group_id"] = row.group_id
                ident["code" if kind == "members" else "ref"] = key[1]
            obj = model(**ident, **fields)
            _derive(obj, kind)
            new.append((obj, row))
            continue
        diff = [f for f, value in fields.items() if getattr(obj, f) != value]
        for f in diff:
            setattr(obj, f, fields[f])
        citizens_moved = (
            kind == "activities"
            and "citizens" in row.values
            and (set(row.values["citizens"]) != obj._helped)
        )
        if diff or citizens_moved:
            _derive(obj, kind)
            changed.append((obj, row))
            changed_fields.update(diff)
        else:
            unchanged += 1
    report.created, report.updated, report.unchanged = len(new), len(changed), unchanged
    if report.dry_run:
        return
    _write(kind, new=new, changed=changed, changed_fields=changed_fields, filename=filename)


def _derive(obj: Any, kind: str) -> None:
    if kind == "groups":
        obj.refresh_search_text()
    elif kind == "members":
        obj.sort_key = sort_key(obj.full_name, person=True)


def _write(
    kind: str,
    *,
    new: list[tuple[Any, _Row]],
    changed: list[tuple[Any, _Row]],
    changed_fields: set[str],
    filename: str,
) -> None:
    model = {"groups": Group, "members": Member, "activities": Activity}[kind]
    if new:
        model.objects.bulk_create([obj for obj, _row in new], batch_size=_BATCH)
    if changed:
        derived = {"groups": ["search_text", "sort_key", "updated_at"], "members": ["sort_key"]}
        if kind in ("groups", "activities"):
            now = timezone.now()
            for obj, _row in changed:
                obj.updated_at = now
        update = sorted(changed_fields | set(derived.get(kind, ["updated_at"])))
        model.objects.bulk_update([obj for obj, _row in changed], update, batch_size=_BATCH)
    if kind == "activities":
        rewritten = [(obj, row) for obj, row in new + changed if "citizens" in row.values]
        ids = [obj.pk for obj, _row in rewritten]
        for chunk in chunks(ids):
            ActivityCitizen.objects.filter(activity_id__in=chunk).delete()
        ActivityCitizen.objects.bulk_create(
            [
                ActivityCitizen(activity_id=obj.pk, citizen_id=citizen_id)
                for obj, row in rewritten
                for citizen_id in row.values["citizens"]
            ],
            batch_size=_BATCH,
        )
    wards = {obj.ward_id for obj, _row in new + changed}
    summaries_refresh(ward_ids=wards)
    record_bulk(
        "community_import",
        model=model,
        ward_ids=wards,
        kind=kind,
        file=filename,
        created=len(new),
        updated=len(changed),
    )


def community_import(
    *,
    file: BinaryIO,
    filename: str,
    kind: str,
    dry_run: bool,
    user: User | None = None,
    progress: Progress | None = None,
    ward: str | None = None,
) -> ImportReport:
    """Check and (unless dry_run or any error) write a groups, members or activities file in one
    transaction. With a `user` (the web upload) only staff and administrators may import, and
    every row's ward must be in their scope; without one (the commands) every ward is open.
    `ward` (the command's --ward), or the user's only ward, is the file's: its ward column may
    be left out, as in every kind of the pipeline."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if user is not None and not can_edit_registry(user):
        raise PermissionDenied

    def check(rows: list[_Row], _header: Any, report: ImportReport) -> None:
        wards = resolve_wards(rows, user=user, report=report)
        for row in rows:
            row.ward = wards.get(row.number)
        CHECKS[kind](rows, report)

    return run_import(
        kind=IMPORT_KINDS[kind],
        file=file,
        filename=filename,
        dry_run=dry_run,
        row_type=_Row,
        check=check,
        apply=lambda rows, report: _apply(kind, rows, report, filename),
        progress=progress,
        user=user,
        ward=ward,
    )
