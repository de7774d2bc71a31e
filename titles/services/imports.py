"""Importing a year's registrations, with evidence and, for past years, their outcomes.

Columns: kind (family, clan, community, unit, citizen), ward, code; optional `c.<CRITERION>`
evidence columns; optional historical `outcome` (recognized, outstanding, not_recognized) with
`decision_no` and `decision_date`. Like the registry import it is all or nothing: every row is
checked first, any bad row means nothing is written and the report names row, column and
reason. A registration is identified by (entity, year): importing it again updates undecided
evidence and leaves an identical row unchanged; a decided registration's outcome never changes
through an import (that is the officials' review).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from registry.access import can_register, ward_units
from registry.models import AdministrativeUnit, Entity, Kind
from registry.spreadsheets import (
    Cell,
    ImportFileError,
    ImportReport,
    RowError,
    as_text,
    is_blank,
    match_key,
    normalize_ward_code,
    read_rows,
)
from titles.evaluation import CriterionType, EvidenceError, parse_evidence
from titles.models import Decision, Registration, RegistrationEvent, State
from titles.services.criteria import criteria_in_force, parsed

KIND_WORDS = {
    "family": Kind.FAMILY,
    "gia dinh": Kind.FAMILY,
    "ho gia dinh": Kind.FAMILY,
    "clan": Kind.CLAN,
    "dong ho": Kind.CLAN,
    "community": Kind.COMMUNITY,
    "cong dong": Kind.COMMUNITY,
    "unit": Kind.UNIT,
    "don vi": Kind.UNIT,
    "citizen": Kind.CITIZEN,
    "cong dan": Kind.CITIZEN,
}
OUTCOME_WORDS = {
    "recognized": "recognized",
    "recognised": "recognized",
    "cong nhan": "recognized",
    "dat": "recognized",
    "outstanding": "outstanding",
    "tieu bieu": "outstanding",
    "not recognized": "not_recognized",
    "not recognised": "not_recognized",
    "not_recognized": "not_recognized",
    "khong cong nhan": "not_recognized",
    "khong dat": "not_recognized",
}
HEADER_ALIASES = {
    "kind": ("Loại", "Danh hiệu"),
    "ward": ("Mã phường/xã", "Mã xã/phường", "Phường/xã", "Xã/phường"),
    "code": ("Mã",),
    "outcome": ("Kết quả",),
    "decision_no": ("Số quyết định", "Số QĐ"),
    "decision_date": ("Ngày quyết định", "Ngày QĐ"),
}
REQUIRED = ("kind", "ward", "code")
EVIDENCE_PREFIX = "c."
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


@dataclass
class _Row:
    number: int
    kind: str | None = None
    ward: AdministrativeUnit | None = None
    code: str = ""
    entity_id: int | None = None
    province_id: int | None = None
    evidence: dict[str, str] = field(default_factory=dict)
    outcome: str | None = None
    decision_no: str = ""
    decision_date: dt.date | None = None
    ward_cell: Cell = None
    cells: list[Cell] = field(default_factory=list)


def _header_map(header: list[Cell], report: ImportReport) -> tuple[dict[str, int], dict[str, int]]:
    """(contract column -> position, criterion code -> position of its c.<CODE> column)."""
    keys = {match_key(name): name for name in HEADER_ALIASES}
    for name, aliases in HEADER_ALIASES.items():
        keys.update({match_key(alias): name for alias in aliases})
    columns: dict[str, int] = {}
    evidence: dict[str, int] = {}
    for position, cell in enumerate(header):
        text = as_text(cell).strip()
        if not text:
            continue
        if text.lower().startswith(EVIDENCE_PREFIX):
            evidence[text[len(EVIDENCE_PREFIX) :].strip()] = position
            continue
        name = keys.get(match_key(text))
        if name is None:
            report.notes.append(_("Column “%(name)s” is not used.") % {"name": text})
        elif name in columns:
            report.errors.append(RowError(1, name, _("This column appears twice in the header.")))
        else:
            columns[name] = position
    for name in REQUIRED:
        if name not in columns:
            report.errors.append(RowError(1, name, _("Required column is missing.")))
    return columns, evidence


def _date(cell: Cell) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    text = as_text(cell).strip()
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(text)


def _cell(row: list[Cell], position: int | None) -> Cell:
    if position is None or position >= len(row):
        return None
    return row[position]


def _parse(table: list[list[Cell]], columns: dict[str, int], report: ImportReport) -> list[_Row]:
    rows = []
    for index, cells in enumerate(table[1:], start=2):
        if all(is_blank(c) for c in cells):
            continue
        row = _Row(number=index, cells=cells)
        raw_kind = _cell(cells, columns.get("kind"))
        if is_blank(raw_kind):
            report.errors.append(RowError(index, "kind", _("This cell is empty.")))
        else:
            row.kind = KIND_WORDS.get(match_key(as_text(raw_kind)))
            if row.kind is None:
                report.errors.append(
                    RowError(
                        index,
                        "kind",
                        _("“%(value)s” is not a kind: family, clan, community, unit or citizen.")
                        % {"value": as_text(raw_kind)[:40]},
                    )
                )
        for name in ("ward", "code"):
            if is_blank(_cell(cells, columns.get(name))):
                report.errors.append(RowError(index, name, _("This cell is empty.")))
        row.code = as_text(_cell(cells, columns.get("code"))).strip()
        raw_outcome = _cell(cells, columns.get("outcome"))
        if not is_blank(raw_outcome):
            row.outcome = OUTCOME_WORDS.get(match_key(as_text(raw_outcome)).replace("_", " "))
            if row.outcome is None:
                report.errors.append(
                    RowError(
                        index,
                        "outcome",
                        _(
                            "“%(value)s” is not an outcome: recognized, outstanding or "
                            "not_recognized."
                        )
                        % {"value": as_text(raw_outcome)[:40]},
                    )
                )
        row.decision_no = as_text(_cell(cells, columns.get("decision_no"))).strip()
        raw_date = _cell(cells, columns.get("decision_date"))
        if not is_blank(raw_date):
            try:
                row.decision_date = _date(raw_date)
            except ValueError:
                report.errors.append(
                    RowError(
                        index,
                        "decision_date",
                        _("“%(value)s” is not a date; write it as 2024-12-15 or 15/12/2024.")
                        % {"value": as_text(raw_date)[:40]},
                    )
                )
        if row.outcome in ("recognized", "outstanding"):
            if not row.decision_no:
                report.errors.append(
                    RowError(index, "decision_no", _("A recognition needs its decision number."))
                )
            if row.decision_date is None and is_blank(raw_date):
                report.errors.append(
                    RowError(index, "decision_date", _("A recognition needs its decision date."))
                )
        row.ward_cell = _cell(cells, columns.get("ward"))
        row.cells = cells
        rows.append(row)
    return rows


def _resolve(rows: list[_Row], *, user, report: ImportReport) -> None:
    """Find each row's ward and entity with one query per kind; report what is not there."""
    codes = {}
    for row in rows:
        raw = row.ward_cell
        if not is_blank(raw):
            codes[row.number] = normalize_ward_code(as_text(raw).strip())
    wards = AdministrativeUnit.objects.filter(
        level=AdministrativeUnit.Level.WARD, valid_to__isnull=True, code__in=set(codes.values())
    )
    if user is not None:
        wards = wards.filter(pk__in=ward_units(user).values("pk"))
    by_code = {w.code: w for w in wards}
    for row in rows:
        if row.number in codes:
            row.ward = by_code.get(codes[row.number])
            if row.ward is None:
                report.errors.append(
                    RowError(
                        row.number,
                        "ward",
                        _("No commune/ward with code “%(code)s” (in your area).")
                        % {"code": codes[row.number]},
                    )
                )
    wanted: dict[str, Q] = defaultdict(Q)
    for row in rows:
        if row.kind and row.ward and row.code:
            wanted[row.kind] |= Q(ward=row.ward, code=row.code)
    found = {}
    for kind, condition in wanted.items():
        for pk, ward_id, code, province_id in Entity.objects.filter(
            condition, kind=kind
        ).values_list("pk", "ward_id", "code", "province_id"):
            found[(kind, ward_id, code)] = (pk, province_id)
    seen: dict[tuple, int] = {}
    for row in rows:
        if not (row.kind and row.ward and row.code):
            continue
        key = (row.kind, row.ward.pk, row.code)
        if key in seen:
            report.errors.append(
                RowError(
                    row.number,
                    "code",
                    _("Same kind, ward and code as row %(row)d.") % {"row": seen[key]},
                )
            )
            continue
        seen[key] = row.number
        if key not in found:
            report.errors.append(
                RowError(
                    row.number,
                    "code",
                    _("No %(kind)s with code “%(code)s” in this commune/ward.")
                    % {"kind": Kind(row.kind).label, "code": row.code},
                )
            )
            continue
        row.entity_id, row.province_id = found[key]


def _check_evidence(
    rows: list[_Row], evidence_columns: dict[str, int], *, year: int, report: ImportReport
) -> None:
    sets: dict[tuple[str, int], Any] = {}
    for row in rows:
        if row.entity_id is None:
            continue
        cells = row.cells
        filled = {
            code: _cell(cells, pos)
            for code, pos in evidence_columns.items()
            if not is_blank(_cell(cells, pos))
        }
        if not filled:
            continue
        key = (row.kind, row.province_id)
        if key not in sets:
            found = criteria_in_force(title=row.kind, year=year, province_id=row.province_id)
            sets[key] = parsed(found) if found is not None else None
        rules = sets[key]
        if rules is None:
            report.errors.append(
                RowError(
                    row.number,
                    EVIDENCE_PREFIX + next(iter(filled)),
                    _("No criteria set is in force for this kind in %(year)d.") % {"year": year},
                )
            )
            continue
        criteria = {c.code: c for c in rules.criteria if c.type != CriterionType.SHARE}
        for code, raw in filled.items():
            column = EVIDENCE_PREFIX + code
            if code not in criteria:
                report.errors.append(
                    RowError(
                        row.number,
                        column,
                        _("“%(code)s” is not an evidence criterion of the %(set)s set.")
                        % {"code": code, "set": rules.code},
                    )
                )
                continue
            text = _evidence_text(raw)
            try:
                parse_evidence(criteria[code], text)
            except EvidenceError as exc:
                report.errors.append(RowError(row.number, column, exc.reason))
                continue
            row.evidence[code] = text


def _evidence_text(raw: Cell) -> str:
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return re.sub(r"\s+", " ", as_text(raw).strip())


def _state_for(row: _Row) -> tuple[str, bool]:
    if row.outcome in ("recognized", "outstanding"):
        return State.RECOGNIZED, row.outcome == "outstanding"
    if row.outcome == "not_recognized":
        return State.REJECTED, False
    return State.REGISTERED, False


@transaction.atomic
def _write(rows: list[_Row], *, year: int, user, report: ImportReport) -> None:
    existing = {
        r.entity_id: r
        for r in Registration.objects.filter(
            year=year, entity_id__in=[row.entity_id for row in rows]
        )
    }
    decisions: dict[tuple[int, str], Decision] = {}
    for row in rows:
        if row.outcome in ("recognized", "outstanding") or (row.outcome and row.decision_no):
            key = (row.ward.pk, row.decision_no)
            if key in decisions:
                if row.decision_date and decisions[key].date != row.decision_date:
                    report.errors.append(
                        RowError(
                            row.number,
                            "decision_date",
                            _("Decision %(no)s already has the date %(date)s.")
                            % {"no": row.decision_no, "date": decisions[key].date.isoformat()},
                        )
                    )
                continue
            decision = Decision.objects.filter(ward=row.ward, number=row.decision_no).first()
            if decision is None:
                decision = Decision(
                    ward=row.ward,
                    province_id=row.province_id,
                    year=year,
                    number=row.decision_no,
                    date=row.decision_date,
                    issued_by=user,
                )
            elif row.decision_date and decision.date != row.decision_date:
                report.errors.append(
                    RowError(
                        row.number,
                        "decision_date",
                        _("Decision %(no)s already has the date %(date)s.")
                        % {"no": row.decision_no, "date": decision.date.isoformat()},
                    )
                )
            decisions[key] = decision
    new, changed, events = [], [], []
    for row in rows:
        state, outstanding = _state_for(row)
        current = existing.get(row.entity_id)
        if current is None:
            new.append((row, state, outstanding))
            continue
        decided = current.state in (State.APPROVED, State.REJECTED, State.RECOGNIZED)
        if decided:
            same = row.outcome is None or (
                current.state == state and current.outstanding == outstanding
            )
            if not same or (row.evidence and row.evidence != current.evidence):
                report.errors.append(
                    RowError(
                        row.number,
                        "outcome" if not same else EVIDENCE_PREFIX + next(iter(row.evidence)),
                        _(
                            "This registration is already decided (%(state)s); an import cannot "
                            "change it."
                        )
                        % {"state": current.get_state_display()},
                    )
                )
            else:
                report.unchanged += 1
            continue
        if row.evidence == current.evidence and row.outcome is None:
            report.unchanged += 1
            continue
        changed.append((row, current, state, outstanding))
    if report.errors:
        transaction.set_rollback(True)
        return
    report.created, report.updated = len(new), len(changed)
    if report.dry_run:
        return
    for decision in decisions.values():
        if decision.pk is None:
            decision.full_clean()
            decision.save()
    rows_by_entity = {row.entity_id: row for row in rows}
    created = Registration.objects.bulk_create(
        [
            Registration(
                entity_id=row.entity_id,
                year=year,
                kind=row.kind,
                ward=row.ward,
                province_id=row.province_id,
                state=state,
                outstanding=outstanding,
                evidence=row.evidence,
                decision=decisions.get((row.ward.pk, row.decision_no)) if row.outcome else None,
                rejection_reason=_("Not recognised (imported)") if state == State.REJECTED else "",
                created_by=user,
            )
            for row, state, outstanding in new
        ],
        batch_size=500,
    )
    for registration in created:
        row = rows_by_entity[registration.entity_id]
        events.append(
            RegistrationEvent(
                registration=registration,
                action=RegistrationEvent.Action.IMPORT,
                to_state=registration.state,
                user=user,
                detail={"row": row.number, "evidence": row.evidence, "outcome": row.outcome},
            )
        )
    for row, current, state, outstanding in changed:
        from_state = current.state
        current.evidence = row.evidence or current.evidence
        if row.outcome:
            current.state, current.outstanding = state, outstanding
            current.decision = decisions.get((row.ward.pk, row.decision_no))
            if state == State.REJECTED:
                current.rejection_reason = _("Not recognised (imported)")
        elif current.state == State.EVALUATED:
            current.state = State.SUBMITTED  # new evidence: the old result is out of date
        current.version += 1
        events.append(
            RegistrationEvent(
                registration=current,
                action=RegistrationEvent.Action.IMPORT,
                from_state=from_state,
                to_state=current.state,
                user=user,
                detail={"row": row.number, "evidence": row.evidence, "outcome": row.outcome},
            )
        )
    Registration.objects.bulk_update(
        [c for _r, c, _s, _o in changed],
        ["evidence", "state", "outstanding", "decision", "rejection_reason", "version"],
        batch_size=500,
    )
    RegistrationEvent.objects.bulk_create(events, batch_size=1000)


def registrations_import(
    *, file: BinaryIO, filename: str, year: int, dry_run: bool, user=None
) -> ImportReport:
    """Parse, check and (unless dry_run or any error) write all rows in one transaction."""
    if user is not None and not can_register(user):
        raise PermissionDenied
    report = ImportReport(kind="registrations", dry_run=dry_run)
    data = file.read(settings.IMPORT_MAX_BYTES + 1)
    if len(data) > settings.IMPORT_MAX_BYTES:
        report.errors.append(
            RowError(
                0,
                "",
                _("The file is larger than %(mb)d MB.")
                % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)},
            )
        )
        return report
    try:
        table = read_rows(data=data, filename=filename, notes=report.notes)
    except ImportFileError as exc:
        report.errors.append(RowError(0, "", str(exc)))
        return report
    if not table or all(is_blank(c) for c in table[0]):
        report.errors.append(RowError(0, "", _("The file is empty.")))
        return report
    columns, evidence_columns = _header_map(table[0], report)
    if report.errors:
        return report
    rows = _parse(table, columns, report)
    if not rows:
        report.errors.append(RowError(0, "", _("The file has a header but no rows.")))
        return report
    report.rows = len(rows)
    _resolve(rows, user=user, report=report)
    _check_evidence(rows, evidence_columns, year=year, report=report)
    if report.errors:
        return report
    _write(rows, year=year, user=user, report=report)
    if report.errors:
        report.created = report.updated = report.unchanged = 0
    return report
