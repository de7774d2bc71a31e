"""Importing a year's registrations, with evidence and, for past years, their outcomes.

Columns (DESIGN section 4): `kind` (family, clan, community, unit, citizen), `ward`, `code`;
optional `c.<CRITERION>` evidence columns; optional historical `outcome` (recognized,
outstanding, not_recognized) with `decision_no` and `decision_date`. Vietnamese headers and
cell words are accepted as documented in HEADER_ALIASES, KIND_WORDS and OUTCOME_WORDS.

What the module keeps:

- **All or nothing.** Every row is checked before anything is written, the writes are one
  transaction, and the report names every bad row, column and reason at once.
- **Idempotent.** A registration is identified by (entity, year). Importing the same file again
  changes nothing: every row counts as unchanged.
- **Evidence columns speak for the criteria they name.** A file may mix kinds, so a `c.` column
  applies to the rows whose criteria set in force has that criterion (codes compared ignoring
  case) and is ignored, when empty, for the others. A filled cell is validated against its
  criterion's type; an empty cell is missing evidence (it clears a value stored before); a
  scale value above the maximum is kept and counts as the maximum, with a note naming the cell;
  criteria without a column in the file keep what is stored. A filled cell for a criterion the
  set does not have, or for a share criterion (derived from recognitions), is a bad row.
- **Decided is decided.** An approved, rejected or recognised registration is the officials'
  work: an import may repeat exactly what is stored, never change it. A signed-off
  ward-year is frozen: a row that would create or change anything in it is a bad row.
- **Through the workflow.** New rows with evidence are submitted, without evidence
  registered; every state and event is written by `titles.workflow`.
- **Outcomes are history.** Recognised and outstanding rows need their decision's number and
  date; one number is one decision of one ward and year, with one date. A user who is not an
  administrator may import outcomes of past years only: this year's go through review.
- **Scoped.** With a `user` (the web upload) only staff and administrators may import, every
  row's ward must be in their scope, and new registrations of this year or later need the
  province's registration window open, exactly as when registering one entity.
- **A few bulk queries whatever the file's size**: wards, entities, registrations, decisions and
  criteria sets are read in chunks, registrations bulk-created and bulk-updated.

Reading the file, the header, the cells and the report are the import pipeline's
(`registry.imports`); this module declares the columns (REGISTRATIONS), checks the rows
(`_check`) and plans and writes them (`_plan`, `_write`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_bulk
from registry.access import can_register, grant_of
from registry.imports import cells
from registry.imports.cells import BadCell
from registry.imports.pipeline import (
    NAMED_KINDS,
    WARD_ALIASES,
    Column,
    ExtraColumns,
    Header,
    ImportKind,
    Progress,
    Row,
    chunks,
    duplicates,
    reference_refusal,
    references_find,
    resolve_wards,
    run_import,
    ward_column,
)
from registry.imports.report import ImportReport, RowError
from registry.models import KIND_MODELS, AdministrativeUnit, Entity, Kind, Role
from registry.services.divisions import WardCodeResolution, split_entities_place
from registry.spreadsheets import Cell, as_text, is_blank
from titles import workflow
from titles.models import Decision, Registration, State
from titles.rules import evaluation, explain
from titles.rules.criteria_file import FIRST_YEAR, LAST_YEAR
from titles.rules.evaluation import CriterionType, EvidenceError, check_evidence
from titles.services.certificates import certificates_number
from titles.services.criteria import criteria_in_force, parsed
from titles.services.registrations import RegistrationError, registration_window_check
from titles.services.rollups import rollups_refresh

# Vietnamese headers accepted for each contract column. Matching ignores case, diacritics,
# "_"/"-" versus spaces and spaces around "/" ("MA PHUONG / XA" is "Mã phường/xã"); no header
# means two columns (a test holds this); the first header of a column is its template's.
# Evidence columns are `c.<CRITERION>`, or `tc.<CRITERION>` (tiêu chí), the prefix in any case.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "kind": ("Loại đối tượng", "Loại", "Danh hiệu", "Danh hiệu đăng ký"),
    "ward": WARD_ALIASES,
    "code": ("Mã đối tượng", "Mã", "Mã số"),
    "outcome": ("Kết quả", "Kết quả công nhận"),
    "decision_no": ("Số quyết định", "Số QĐ", "Quyết định số"),
    "decision_date": ("Ngày quyết định", "Ngày QĐ", "Ngày ký quyết định"),
}
EVIDENCE_PREFIXES = ("c.", "tc.")

# Cell words for `kind` and `outcome`, matched like headers (any case, with or without
# diacritics, "_" as a space).
KIND_WORDS: dict[str, str] = {
    "family": Kind.FAMILY,
    "families": Kind.FAMILY,
    "gia đình": Kind.FAMILY,
    "hộ gia đình": Kind.FAMILY,
    "gia đình học tập": Kind.FAMILY,
    "clan": Kind.CLAN,
    "clans": Kind.CLAN,
    "dòng họ": Kind.CLAN,
    "dòng họ học tập": Kind.CLAN,
    "community": Kind.COMMUNITY,
    "communities": Kind.COMMUNITY,
    "cộng đồng": Kind.COMMUNITY,
    "cộng đồng học tập": Kind.COMMUNITY,
    "unit": Kind.UNIT,
    "units": Kind.UNIT,
    "đơn vị": Kind.UNIT,
    "đơn vị học tập": Kind.UNIT,
    "citizen": Kind.CITIZEN,
    "citizens": Kind.CITIZEN,
    "công dân": Kind.CITIZEN,
    "công dân học tập": Kind.CITIZEN,
}
RECOGNIZED, OUTSTANDING, NOT_RECOGNIZED = "recognized", "outstanding", "not_recognized"
OUTCOME_WORDS: dict[str, str] = {
    "recognized": RECOGNIZED,
    "recognised": RECOGNIZED,
    "công nhận": RECOGNIZED,
    "được công nhận": RECOGNIZED,
    "đạt": RECOGNIZED,
    "outstanding": OUTSTANDING,
    "tiêu biểu": OUTSTANDING,
    "not_recognized": NOT_RECOGNIZED,
    "not_recognised": NOT_RECOGNIZED,
    "không công nhận": NOT_RECOGNIZED,
    "không được công nhận": NOT_RECOGNIZED,
    "không đạt": NOT_RECOGNIZED,
    "chưa đạt": NOT_RECOGNIZED,
}
DECIDED = (State.APPROVED, State.REJECTED, State.RECOGNIZED)

# What a bad evidence cell is told, by criterion type (EvidenceError's reason is English).
_EXPECTED: dict[CriterionType, Promise] = {
    CriterionType.BOOLEAN: gettext_lazy(
        "“%(value)s” is not valid for %(code)s: expected yes/no (có/không, 1/0, true/false)"
    ),
    CriterionType.NUMBER: gettext_lazy(
        "“%(value)s” is not valid for %(code)s: expected a number of 0 or more, such as 3 or "
        "2,5 (no thousands separator)"
    ),
    CriterionType.SCALE: gettext_lazy(
        "“%(value)s” is not valid for %(code)s: expected points of 0 or more, such as 7 or 7,5 "
        "(counted up to %(max)s)"
    ),
}

_BATCH = 500
_CODE_MAX = Entity._meta.get_field("code").max_length
_DECISION_NO = cells.text(Decision._meta.get_field("number").max_length)


_CONFLICT = gettext_lazy(
    "The registrations changed while the file was imported (another import or a review); "
    "nothing was written. Please try again."
)

REGISTRATIONS = ImportKind(
    name="registrations",
    what=gettext_lazy("registrations"),
    columns=(
        Column(
            "kind",
            cells.choice(
                KIND_WORDS,
                gettext_lazy("“%(value)s” is not a kind: family, clan, community, unit or citizen"),
            ),
            aliases=HEADER_ALIASES["kind"],
            example="Gia đình",
            allowed="gia đình, dòng họ, cộng đồng, đơn vị, công dân",
        ),
        ward_column(),
        Column(
            "code",
            cells.text(_CODE_MAX),
            aliases=HEADER_ALIASES["code"],
            example="HGD001",
            allowed=gettext_lazy(
                "The code of the family, clan, residential area, unit or citizen in the "
                "commune/ward; a residential area, clan or unit may be named by its exact name."
            ),
        ),
        Column(
            "outcome",
            cells.choice(
                OUTCOME_WORDS,
                gettext_lazy(
                    "“%(value)s” is not an outcome: recognized, outstanding or not_recognized"
                ),
            ),
            aliases=HEADER_ALIASES["outcome"],
            required=False,
            allowed=gettext_lazy(
                "Past years only: công nhận, tiêu biểu or không công nhận; leave it empty for "
                "this year's registrations."
            ),
        ),
        # Checked with the outcome (`_check_outcome`): a recognition needs them, others not.
        Column(
            "decision_no",
            cells.raw,
            aliases=HEADER_ALIASES["decision_no"],
            required=False,
            allowed=gettext_lazy("The number of the recognition decision, with an outcome."),
        ),
        Column(
            "decision_date",
            cells.raw,
            aliases=HEADER_ALIASES["decision_date"],
            required=False,
            allowed=gettext_lazy("The decision's date, as 15/12/2024."),
        ),
    ),
    extra=ExtraColumns(
        prefixes=EVIDENCE_PREFIXES,
        label="c.<CRITERION>",
        header=gettext_lazy("tc.<criterion code>"),
        missing_key=gettext_lazy("an evidence column needs a criterion code, like c.F1"),
        same_key=gettext_lazy("columns “%(first)s” and “%(second)s” are the same criterion"),
        allowed=gettext_lazy(
            "Evidence for a criterion, e.g. c.F1a: yes/no (có/không, 1/0) or a number; an empty "
            "cell is missing evidence."
        ),
    ),
    conflict=_CONFLICT,
)


@dataclass
class _Row(Row):
    decision_no: str = ""
    decision_date: dt.date | None = None
    ward: AdministrativeUnit | None = None
    entity_id: int | None = None
    # Criterion code -> evidence text to store, or None to clear it (an empty cell).
    evidence: dict[str, str | None] = field(default_factory=dict)
    evidence_columns: dict[str, str] = field(default_factory=dict)  # criterion code -> header

    @property
    def kind(self) -> str | None:
        return self.values.get("kind")

    @property
    def ward_code(self) -> str | None:
        return self.values.get("ward")

    @property
    def code(self) -> str:
        return self.values.get("code") or ""

    @property
    def outcome(self) -> str | None:
        return self.values.get("outcome")


def _quote(cell: Cell, limit: int = 40) -> str:
    return cells.shown(cell, limit)


def _check_outcome(row: _Row, *, year: int, today: dt.date, report: ImportReport) -> None:
    """The outcome and its decision: recognitions need both, other rows neither."""
    if "outcome" in row.bad:
        return
    raw_number = row.values.get("decision_no")
    raw_date = row.values.get("decision_date")
    if row.outcome not in (RECOGNIZED, OUTSTANDING):
        reason = (
            _(
                "a registration that was not recognised has no recognition decision; leave this "
                "cell empty"
            )
            if row.outcome == NOT_RECOGNIZED
            else _(
                "a decision without an outcome; fill in the outcome (recognized or outstanding) "
                "or leave this cell empty"
            )
        )
        for column, raw in (("decision_no", raw_number), ("decision_date", raw_date)):
            if not is_blank(raw):
                row.refuse(report, column, reason)
        return
    if is_blank(raw_number):
        row.refuse(report, "decision_no", _("a recognition needs the number of its decision"))
    else:
        try:
            row.decision_no = _DECISION_NO(raw_number)
        except BadCell as exc:
            row.refuse(report, "decision_no", str(exc))
    if is_blank(raw_date):
        row.refuse(report, "decision_date", _("a recognition needs the date of its decision"))
        return
    row.decision_date = cells.calendar_date(raw_date)
    if row.decision_date is None:
        row.refuse(
            report,
            "decision_date",
            _("“%(value)s” is not a date; write it as 2024-12-15 or 15/12/2024")
            % {"value": _quote(raw_date)},
        )
    elif not dt.date(year, 1, 1) <= row.decision_date <= today:
        row.refuse(
            report,
            "decision_date",
            _(
                "%(date)s cannot be the date of a decision on %(year)d: it must fall between "
                "01/01/%(year)d and today"
            )
            % {"date": row.decision_date.strftime("%d/%m/%Y"), "year": year},
        )


# --- Checking against the database ----------------------------------------------------------


def _place_in_split(
    rows: list[_Row], resolved: dict[str, WardCodeResolution]
) -> dict[int, AdministrativeUnit]:
    """A row naming a commune split on 1 July 2025 goes to the one ward of the split that has
    its entity (by kind and code); other rows of a split commune stay refused."""
    keyed = [row for row in rows if row.kind and row.code]
    placed = split_entities_place(
        ((row.ward_code, row.kind, row.code) for row in keyed), resolved=resolved
    )
    return {
        row.number: ward
        for row in keyed
        if (ward := placed.get((row.ward_code, row.kind, row.code))) is not None
    }


def _resolve_entities(rows: list[_Row], *, report: ImportReport) -> None:
    """Find each row's entity by (kind, ward, code), or for a residential area, clan or unit by
    its exact name in the ward (`references_find`); refuse unknown ones and repeated rows."""
    keyed = [row for row in rows if row.kind and row.ward and row.code and "code" not in row.bad]

    def refuse_repeated(row: _Row, first: int) -> None:
        assert row.kind is not None and row.ward is not None
        row.refuse(
            report,
            "code",
            _("the same %(kind)s as row %(row)d (%(code)s of commune/ward %(ward)s)")
            % {
                "kind": KIND_MODELS[row.kind]._meta.verbose_name,
                "row": first,
                "code": row.code,
                "ward": row.ward.code,
            },
        )

    duplicates(keyed, key=lambda row: (row.kind, row.ward.pk, row.code), refuse=refuse_repeated)
    by_kind: dict[str, list[_Row]] = defaultdict(list)
    for row in keyed:
        if "code" not in row.bad:
            by_kind[row.kind].append(row)
    for kind, kind_rows in by_kind.items():
        found = references_find(kind, ((row.ward.pk, row.code) for row in kind_rows))
        for row in kind_rows:
            reference = found[(row.ward.pk, row.code)]
            row.entity_id = reference.pk
            if row.entity_id is None and kind in NAMED_KINDS:
                row.refuse(
                    report,
                    "code",
                    reference_refusal(kind, row.code, ward=row.ward, found=reference),
                )
            elif row.entity_id is None:
                row.refuse(
                    report,
                    "code",
                    _("no %(kind)s with the code “%(code)s” in commune/ward %(ward)s")
                    % {
                        "kind": KIND_MODELS[kind]._meta.verbose_name,
                        "code": row.code,
                        "ward": row.ward.code,
                    },
                )
    # One entity named by its code on one row and by its name on another is repeated too.
    found_rows = [row for row in keyed if row.entity_id is not None and "code" not in row.bad]
    duplicates(found_rows, key=lambda row: row.entity_id, refuse=refuse_repeated)


def _evidence_text(raw: Cell) -> str:
    """What is stored for a valid cell: the text as entered, trimmed; numbers without ".0"."""
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if isinstance(raw, float):
        return as_text(raw) if raw.is_integer() else repr(raw)
    return re.sub(r"\s+", " ", as_text(raw).strip())


def _bad_evidence(criterion: evaluation.Criterion, raw: Cell) -> str:
    return _EXPECTED[criterion.type] % {
        "value": _quote(raw),
        "code": criterion.code,
        "max": format(criterion.max.normalize(), "f") if criterion.max is not None else "",
    }


def _check_evidence(rows: list[_Row], header: Header, *, year: int, report: ImportReport) -> None:
    """Validate each row's evidence cells against its kind's criteria set in force in `year`."""
    if not header.extra:
        return
    sets: dict[tuple[str, int], evaluation.CriteriaSet | None] = {}
    for row in rows:
        if row.entity_id is None or row.ward is None or row.kind is None:
            continue
        key = (row.kind, row.ward.parent_id)
        if key not in sets:
            found = criteria_in_force(title=row.kind, year=year, province_id=row.ward.parent_id)
            sets[key] = parsed(found) if found is not None else None
        rules = sets[key]
        by_code = {c.code.casefold(): c for c in rules.criteria} if rules is not None else {}
        for written, (position, column) in header.extra.items():
            raw = row.cell(position)
            criterion = by_code.get(written.casefold())
            if is_blank(raw):
                if criterion is not None and criterion.type is not CriterionType.SHARE:
                    row.evidence[criterion.code] = None
                    row.evidence_columns[criterion.code] = column
                continue
            reason = _evidence_problem(row, rules, criterion, written, raw, year=year)
            if reason is None:
                assert criterion is not None
                row.evidence[criterion.code] = _evidence_text(raw)
                row.evidence_columns[criterion.code] = column
                if check_evidence(criterion, _evidence_value(raw), cap=True).capped:
                    report.notes.append(
                        explain.capped_note(
                            row=row.number, column=column, criterion=criterion, raw=raw
                        )
                    )
                continue
            row.refuse(report, column, reason)


def _evidence_problem(
    row: _Row,
    rules: evaluation.CriteriaSet | None,
    criterion: evaluation.Criterion | None,
    written: str,
    raw: Cell,
    *,
    year: int,
) -> str | None:
    """Why a filled evidence cell is refused, or None when it is valid."""
    assert row.kind is not None
    if rules is None:
        return _(
            "no criteria set for %(kind)s is in force in %(year)d, so this evidence cannot be "
            "checked"
        ) % {"kind": Kind(row.kind).label, "year": year}
    if criterion is None:
        return _("%(code)s is not a criterion of %(set)s, the set for %(kind)s in %(year)d") % {
            "code": written,
            "set": rules.code,
            "kind": Kind(row.kind).label,
            "year": year,
        }
    if criterion.type is CriterionType.SHARE:
        return _(
            "%(code)s is a share criterion, computed from the members' recognitions; leave this "
            "cell empty"
        ) % {"code": criterion.code}
    try:
        check_evidence(criterion, _evidence_value(raw), cap=True)
    except EvidenceError:
        return _bad_evidence(criterion, raw)
    return None


def _evidence_value(raw: Cell) -> Cell:
    return raw.strip() if isinstance(raw, str) else raw


def _check_outcome_rights(rows: list[_Row], *, year: int, user, report: ImportReport) -> None:
    """Only an administrator (or the command) imports outcomes of this year or later."""
    if user is None or year < timezone.localdate().year:
        return
    grant = grant_of(user)
    if grant is not None and grant.role == Role.ADMIN:
        return
    reason = _(
        "only outcomes of past years can be imported; %(year)d's are decided through review"
    ) % {"year": year}
    for row in rows:
        if row.outcome is not None:
            row.refuse(report, "outcome", reason)


# --- Planning ----------------------------------------------------------------------------------


@dataclass
class _New:
    row: _Row
    state: str
    outstanding: bool
    evidence: dict[str, str]


@dataclass
class _Change:
    row: _Row
    registration: Registration
    to_state: str
    before: dict[str, str]


@dataclass
class _Plan:
    new: list[_New] = field(default_factory=list)
    changed: list[_Change] = field(default_factory=list)
    unchanged: int = 0
    decisions: dict[tuple[int, str], Decision] = field(default_factory=dict)


def _target(row: _Row) -> tuple[str, bool]:
    """The (state, outstanding) a row's outcome means."""
    if row.outcome in (RECOGNIZED, OUTSTANDING):
        return State.RECOGNIZED, row.outcome == OUTSTANDING
    return State.REJECTED, False


def _merged(stored: dict[str, str], row: _Row) -> dict[str, str]:
    """The stored evidence with the file's columns applied (an empty cell clears its value)."""
    merged = {code: value for code, value in stored.items() if code not in row.evidence}
    merged.update((code, value) for code, value in row.evidence.items() if value is not None)
    return merged


def _decisions(
    rows: list[_Row], *, year: int, user, report: ImportReport
) -> dict[tuple[int, str], Decision]:
    """The decisions the recognised rows name: stored ones, or new ones to create.

    One number is one decision of a ward: every row naming it must give the same date, and a
    stored decision must be of the same year and date.
    """
    naming = [
        row
        for row in rows
        if row.outcome in (RECOGNIZED, OUTSTANDING)
        and row.ward is not None
        and not {"decision_no", "decision_date"} & row.bad
    ]
    numbers: dict[int, set[str]] = defaultdict(set)
    for row in naming:
        numbers[row.ward.pk].add(row.decision_no)
    stored: dict[tuple[int, str], Decision] = {}
    for ward_id, wanted in numbers.items():
        for chunk in chunks(sorted(wanted)):
            for decision in Decision.objects.filter(ward_id=ward_id, number__in=chunk):
                stored[(ward_id, decision.number)] = decision
    decisions: dict[tuple[int, str], Decision] = {}
    first_row: dict[tuple[int, str], int] = {}
    for row in naming:
        assert row.ward is not None and row.decision_date is not None
        key = (row.ward.pk, row.decision_no)
        decision = decisions.get(key) or stored.get(key)
        if decision is None:
            decisions[key] = Decision(
                ward=row.ward,
                province_id=row.ward.parent_id,
                year=year,
                number=row.decision_no,
                date=row.decision_date,
                issued_by=user,
            )
            first_row[key] = row.number
            continue
        decisions[key] = decision
        if decision.pk is not None and decision.year != year:
            reason = _(
                "decision %(no)s of commune/ward %(ward)s is a decision on %(other)d, not %(year)d"
            ) % {"no": row.decision_no, "ward": row.ward.code, "other": decision.year, "year": year}
            report.errors.append(RowError(row.number, "decision_no", reason))
        elif decision.date != row.decision_date and decision.pk is not None:
            reason = _("decision %(no)s is already recorded with the date %(date)s") % {
                "no": row.decision_no,
                "date": decision.date.strftime("%d/%m/%Y"),
            }
            report.errors.append(RowError(row.number, "decision_date", reason))
        elif decision.date != row.decision_date:
            reason = _("decision %(no)s is dated %(date)s on row %(row)d") % {
                "no": row.decision_no,
                "date": decision.date.strftime("%d/%m/%Y"),
                "row": first_row[key],
            }
            report.errors.append(RowError(row.number, "decision_date", reason))
    return decisions


def _plan(rows: list[_Row], *, year: int, user, lock: bool, report: ImportReport) -> _Plan:
    """Sort the rows into new, changed and unchanged registrations, refusing changes to decided
    ones. Changed registrations are updated in memory here; nothing is written."""
    plan = _Plan(decisions=_decisions(rows, year=year, user=user, report=report))
    existing: dict[int, Registration] = {}
    queryset = Registration.objects.select_related("decision")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    for chunk in chunks(row.entity_id for row in rows):
        existing.update(
            (reg.entity_id, reg) for reg in queryset.filter(year=year, entity_id__in=chunk)
        )
    now = timezone.now()
    for row in rows:
        current = existing.get(row.entity_id)  # type: ignore[arg-type]
        if current is None:
            evidence = _merged({}, row)
            state, outstanding = (
                _target(row) if row.outcome else (workflow.evidence_target(evidence), False)
            )
            plan.new.append(_New(row, state, outstanding, evidence))
            continue
        evidence = _merged(current.evidence or {}, row)
        if current.state in DECIDED:
            if _refuse_decided_change(row, current, evidence, report):
                continue
            plan.unchanged += 1
            continue
        if row.outcome is None and evidence == current.evidence:
            plan.unchanged += 1
            continue
        change = _Change(row, current, current.state, dict(current.evidence or {}))
        if evidence != current.evidence:
            current.evidence = evidence
            current.evidence_self_assessed = False
            # New evidence hands it (back) over for evaluation: a result no longer matches it.
            change.to_state = workflow.evidence_target(evidence)
        if row.outcome is not None:
            change.to_state, current.outstanding = _target(row)
            if change.to_state == State.RECOGNIZED:
                assert row.ward is not None
                current.decision = plan.decisions[(row.ward.pk, row.decision_no)]
            else:
                current.rejection_reason = _("Not recognised (imported outcome)")
        current.version += 1
        current.updated_at = now
        plan.changed.append(change)
    return plan


def _refuse_decided_change(
    row: _Row, current: Registration, evidence: dict[str, str], report: ImportReport
) -> bool:
    """Report (and return True) if the row would change a decided registration."""
    decided = _("the registration is already decided (%(state)s); an import cannot change it") % {
        "state": current.get_state_display()
    }
    refused = False
    if row.outcome is not None:
        state, outstanding = _target(row)
        if (current.state, current.outstanding) != (state, outstanding):
            report.errors.append(RowError(row.number, "outcome", decided))
            refused = True
        elif state == State.RECOGNIZED and current.decision.number != row.decision_no:
            report.errors.append(
                RowError(
                    row.number,
                    "decision_no",
                    _(
                        "the registration was recognised by decision %(no)s; an import cannot "
                        "change it"
                    )
                    % {"no": current.decision.number},
                )
            )
            refused = True
    if evidence != current.evidence:
        changed = sorted(
            code
            for code in row.evidence
            if (current.evidence or {}).get(code) != evidence.get(code)
        )
        report.errors.append(RowError(row.number, row.evidence_columns[changed[0]], decided))
        refused = True
    return refused


def _check_window(plan: _Plan, *, year: int, user, report: ImportReport) -> None:
    """New registrations of this year or later by a user need the registration window open."""
    if user is None or year < timezone.localdate().year:
        return
    provinces = sorted({new.row.ward.parent_id for new in plan.new if new.row.ward is not None})
    for province_id in provinces:
        try:
            registration_window_check(user=user, province_id=province_id, year=year)
        except RegistrationError as exc:
            report.errors.append(RowError(0, "", str(exc)))
            return


def _check_frozen(plan: _Plan, *, year: int, report: ImportReport) -> None:
    """A row that would write into a signed-off ward-year is a bad row (repeating what is
    stored is fine: it writes nothing)."""
    frozen = workflow.frozen_ward_ids(year=year)
    if not frozen:
        return
    rows = [new.row for new in plan.new] + [change.row for change in plan.changed]
    for row in rows:
        if row.ward is not None and row.ward.pk in frozen:
            report.errors.append(RowError(row.number, "ward", workflow.frozen_message(year)))


# --- Writing -----------------------------------------------------------------------------------


def _write(plan: _Plan, *, year: int, user, filename: str = "") -> None:
    """Apply the plan (inside the caller's transaction).

    Decisions get full_clean() (they are few); registrations are bulk-written without it, every
    field having been checked above, the database's constraints remaining the safety net.
    """
    for decision in plan.decisions.values():
        if decision.pk is None:
            decision.full_clean(validate_unique=False)
            decision.save()
    news = [new for new in plan.new if new.row.ward is not None]
    workflow.registrations_create(
        registrations=[
            Registration(
                entity_id=new.row.entity_id,
                year=year,
                kind=new.row.kind,
                ward=new.row.ward,
                province_id=new.row.ward.parent_id,
                outstanding=new.outstanding,
                evidence=new.evidence,
                decision=(
                    plan.decisions[(new.row.ward.pk, new.row.decision_no)]
                    if new.state == State.RECOGNIZED
                    else None
                ),
                rejection_reason=(
                    _("Not recognised (imported outcome)") if new.state == State.REJECTED else ""
                ),
                created_by=user,
            )
            for new in news
        ],
        states=[new.state for new in news],
        user=user,
        move=workflow.IMPORT,
        details=[_event_detail(new.row, after=new.evidence) for new in news],
    )
    workflow.registrations_update(
        changes=[
            workflow.Change(
                registration=change.registration,
                to_state=change.to_state,
                detail=_event_detail(
                    change.row, before=change.before, after=change.registration.evidence
                ),
            )
            for change in plan.changed
        ],
        fields=[
            "evidence",
            "evidence_self_assessed",
            "outstanding",
            "decision",
            "rejection_reason",
            "version",
            "updated_at",
        ],
        user=user,
        move=workflow.IMPORT,
    )
    # The decisions' certificates are numbered as they are recorded: printing only reads.
    for decision in sorted(plan.decisions.values(), key=lambda d: (d.date, d.pk)):
        certificates_number(decision=decision)
    wards = {new.row.ward.pk for new in plan.new} | {
        change.registration.ward_id for change in plan.changed
    }
    rollups_refresh(ward_ids=wards, years=[year])
    record_bulk(
        "registrations_import",
        model=Registration,
        ward_ids=wards,
        year=year,
        file=filename,
        created=len(plan.new),
        updated=len(plan.changed),
    )


def _event_detail(row: _Row, *, after: dict[str, str], before: dict | None = None) -> dict:
    detail: dict[str, Any] = {"row": row.number, "after": after}
    if before is not None:
        detail["before"] = before
    if row.outcome is not None:
        detail["outcome"] = row.outcome
        if row.decision_no:
            detail["decision"] = row.decision_no
    return detail


# --- The service -------------------------------------------------------------------------------


def _check(rows: list[_Row], header: Header, *, year: int, user, report: ImportReport) -> None:
    """Each row's outcome, then the rows against the database: rights, wards, entities and
    the evidence against the criteria set in force."""
    today = timezone.localdate()
    for row in rows:
        _check_outcome(row, year=year, today=today, report=report)
    _check_outcome_rights(rows, year=year, user=user, report=report)
    wards = resolve_wards(rows, user=user, report=report, place_split=_place_in_split)
    for row in rows:
        row.ward = wards.get(row.number)
    _resolve_entities(rows, report=report)
    _check_evidence(rows, header, year=year, report=report)


def registrations_import(
    *,
    file: BinaryIO,
    filename: str,
    year: int,
    dry_run: bool,
    user=None,
    progress: Progress | None = None,
    ward: str | None = None,
) -> ImportReport:
    """Parse, check and (unless dry_run or any error) write all rows in one transaction.

    The file type comes from `filename`'s extension. With `user` (the web upload) the user must
    be allowed to register (else PermissionDenied, before the file is read) and every row's ward
    must be in their scope; without one (the command) every ward in force is open. `ward` (the
    command's --ward), or the user's only ward, is the file's: its ward column may be left out
    (`registry.imports.pipeline.ward_fill`). Problems never
    raise: they are the report's errors, sorted by row, and then nothing is written. On a dry
    run the counts say what a real run would do.
    """
    if user is not None and not can_register(user):
        raise PermissionDenied
    report = ImportReport(kind="registrations", dry_run=dry_run)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        report.errors.append(
            RowError(
                0,
                "",
                _("%(year)d is not a year between %(first)d and %(last)d.")
                % {"year": year, "first": FIRST_YEAR, "last": LAST_YEAR},
            )
        )
        return report

    def apply(rows: list[_Row], report: ImportReport) -> None:
        plan = _plan(rows, year=year, user=user, lock=not dry_run, report=report)
        _check_window(plan, year=year, user=user, report=report)
        _check_frozen(plan, year=year, report=report)
        if report.errors:
            return
        if not dry_run:
            try:
                with transaction.atomic():
                    _write(plan, year=year, user=user, filename=filename)
            except workflow.YearFrozen as exc:  # signed off while the file was being checked
                report.errors.append(RowError(0, "", str(exc)))
                return
        report.created, report.updated, report.unchanged = (
            len(plan.new),
            len(plan.changed),
            plan.unchanged,
        )

    return run_import(
        kind=REGISTRATIONS,
        file=file,
        filename=filename,
        dry_run=dry_run,
        row_type=_Row,
        check=lambda rows, header, report: _check(
            rows, header, year=year, user=user, report=report
        ),
        apply=apply,
        report=report,
        progress=progress,
        user=user,
        ward=ward,
    )
