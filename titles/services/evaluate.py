"""Running the evaluation rules over stored registrations and saving the results.

Bottom-up: citizens and families first, then clans, communities and units, whose share
criteria count member recognitions of the same year (a clan's and a community's households
recognised as Learning Families, a unit's staff recognised as Learning Citizens). Only
registrations ready for it are evaluated (`titles.workflow.READY`: submitted, evaluated, or
registered with evidence); each becomes `evaluated`. Registrations without evidence stay
registered and are counted as not yet submitted; signed-off ward-years are left alone.
Results are written (by `titles.workflow`) with one UPDATE per chunk that matches each row's
version as read, so an approval that lands meanwhile is never overwritten: that row is
simply left out. Each written row gets one `evaluate` event, inserted with the UPDATE. A
result that is the same as the one stored writes nothing.

Storage: a result is its criteria set (row and version) and each criterion's outcome. Each
distinct outcome is stored once (`CriterionOutcome`, a few hundred rows per set), each
distinct result once (`EvaluationResult`: the totals and the outcome ids, about 150 bytes), and
a registration points at its result. So a registration's write is a few narrow columns, and
a new result costs one small row.

Speed (measured in bench/evaluate_bench.py): `_Memo` remembers, within a run, the result of
each stored evidence text, of each combination of outcomes and each criterion's outcome, so
the rules run once per distinct input; on PostgreSQL a chunk's rows travel as a few array
parameters, and the UPDATE and its events are one statement. `registrations_evaluate(...,
workers=N)` shares each title's registrations among N processes on PostgreSQL, by the hash of
their evidence, so that each distinct result is computed and stored by one of them.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import traceback
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from multiprocessing.connection import wait
from typing import NamedTuple

from django.db import connection, connections, transaction
from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from audit.services import record_bulk
from registry.models import Citizen, Family, Kind, Unit
from titles import workflow
from titles.models import (
    CriteriaSet,
    CriterionOutcome,
    EvaluationResult,
    Override,
    Registration,
    State,
)
from titles.rules import evaluation, explain
from titles.services.counts import ward_counts
from titles.services.criteria import criteria_in_force, parsed

BOTTOM_UP = (Kind.CITIZEN, Kind.FAMILY, Kind.CLAN, Kind.COMMUNITY, Kind.UNIT)
_LINES = workflow.LINES
CHUNK = 5000

Progress = Callable[[int, int | None], None]
"""A `progress(done, total)` callback: registrations done so far of the total."""
"""Registrations read, evaluated and written per transaction. A chunk's rows travel to the
database as a few parameters (arrays on PostgreSQL, one JSON document on SQLite), so the
database's bound-parameter limit does not bound it; memory does."""
MEMO_SIZE = 100_000
"""Distinct results (and distinct evidence texts) remembered within a run (see `_Memo`):
about 100 MB at most."""
PARALLEL_MIN = 2 * CHUNK
"""A title's registrations are shared among worker processes only from this many on: below
it, starting the processes costs more than it saves."""


class EvaluationRow(NamedTuple):
    """One line of `evaluate --output`: the contract's columns."""

    registration_id: int
    kind: str
    ward: str
    code: str
    points: Decimal
    passed: bool
    outstanding: bool
    missing: tuple[str, ...]
    failed_required: tuple[str, ...]


@dataclass
class EvaluationRun:
    rows: list[EvaluationRow]
    no_criteria: dict[str, int]  # kind -> registrations left unevaluated for want of a set
    changed_meanwhile: int  # rows someone else changed while they were being evaluated
    not_submitted: int = 0  # registered without evidence: left registered, not evaluated
    frozen: int = 0  # undecided registrations of signed-off ward-years, left as they were

    def add(self, other: EvaluationRun) -> None:
        self.rows.extend(other.rows)
        self.changed_meanwhile += other.changed_meanwhile
        for kind, count in other.no_criteria.items():
            self.no_criteria[kind] = self.no_criteria.get(kind, 0) + count


def _criterion_json(c: evaluation.CriterionResult, overridden: bool) -> dict:
    return {
        "code": c.code,
        "type": str(c.type),
        "earned": str(c.earned),
        "possible": str(c.possible),
        "met": c.met,
        "evidence": None if c.evidence is None else str(c.evidence).lower(),
        "derived": (
            None
            if c.derived is None
            else {"numerator": c.derived.numerator, "denominator": c.derived.denominator}
        ),
        "overridden": overridden,
        "reason": explain.record(c),
    }


def result_json(result: evaluation.Evaluation, overridden: Iterable[str]) -> dict:
    """The self-explaining form of a result: what `Registration.result` reads and the
    registration page shows."""
    overridden = set(overridden)
    return {
        "points": str(result.points),
        "max_points": str(result.max_points),
        "passed": result.passed,
        "outstanding": result.outstanding,
        "missing": list(result.missing),
        "failed_required": list(result.failed_required),
        "criteria": [_criterion_json(c, c.code in overridden) for c in result.criteria],
    }


_dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def canonical_text(body: dict) -> str:
    """The canonical JSON text of a stored body: keys sorted, no spaces. Equal bodies have
    equal texts, so the SHA-256 of the text identifies a criterion outcome."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def result_digest(
    *, criteria_set_id: int, criteria_digest: str, outcome_digests: Iterable[str]
) -> str:
    """What identifies a result: the criteria set (row and version) and its criteria's
    outcomes in the set's order. The totals, the missing and the failed required criteria
    follow from those by the rules, so they are not hashed."""
    return _sha256(f"{criteria_set_id}:{criteria_digest}:{','.join(outcome_digests)}")


def _recognized(kind: str, year: int) -> Exists:
    """Whether the member (the outer row's entity) is recognised in `year`: one probe of the
    (entity, year) unique index per member. (An IN over every recognised registration of the
    year makes PostgreSQL hash or, when the estimate is large, rescan all of them per member.)"""
    return Exists(
        Registration.objects.filter(
            entity_id=OuterRef("pk"), year=year, kind=kind, state=State.RECOGNIZED
        )
    )


def shares_for(*, kind: str, year: int, entity_ids: list[int]) -> dict[int, evaluation.Share]:
    """Derived figures per entity: recognised members of the year out of all members.

    Clan and community: households (families) recognised as Learning Families out of all their
    households. Unit: staff recognised as Learning Citizens out of the unit's declared staff
    (or of the citizens linked to it, if more are linked than declared).
    """
    if kind in (Kind.CLAN, Kind.COMMUNITY):
        member_fk = "clan_id" if kind == Kind.CLAN else "community_id"
        figures = (
            Family.objects.filter(**{f"{member_fk}__in": entity_ids})
            .values(member_fk)
            .annotate(
                total=Count("pk"),
                recognized=Count("pk", filter=_recognized(Kind.FAMILY, year)),
            )
        )
        shares = {
            row[member_fk]: evaluation.Share(row["recognized"], row["total"]) for row in figures
        }
        return {pk: shares.get(pk, evaluation.Share(0, 0)) for pk in entity_ids}
    if kind == Kind.UNIT:
        linked = {
            row["unit_id"]: row
            for row in Citizen.objects.filter(unit_id__in=entity_ids)
            .values("unit_id")
            .annotate(
                total=Count("pk"),
                recognized=Count("pk", filter=_recognized(Kind.CITIZEN, year)),
            )
        }
        shares = {}
        for pk, staff in Unit.objects.filter(pk__in=entity_ids).values_list("pk", "staff"):
            row = linked.get(pk, {"total": 0, "recognized": 0})
            shares[pk] = evaluation.Share(row["recognized"], max(staff, row["total"]))
        return shares
    return {}


class _Outcome(NamedTuple):
    """One distinct criterion outcome of a run: the rules' result for it, whether it counts
    as missing, and its stored form (canonical text) and digest."""

    result: evaluation.CriterionResult
    missing: bool
    text: str
    digest: str


class _Scored(NamedTuple):
    """One distinct result of a run, computed once however many registrations share it.

    `digest` names its `EvaluationResult` row (`result_digest`); `outcomes` are its criteria's,
    in the set's order, to store it if it is new. `points_text` is the points exactly as the
    result prints them ("95" and "95.0" differ); `event_detail` is the event's detail, JSON.
    """

    points: Decimal
    max_points: Decimal
    passed: bool
    outstanding: bool
    missing: tuple[str, ...]
    failed_required: tuple[str, ...]
    criteria_set_id: int
    criteria_digest: str
    outcomes: tuple[_Outcome, ...]
    digest: str
    points_text: str
    event_detail: str


def _parse_or_missing(criterion: evaluation.Criterion, raw: object) -> evaluation.EvidenceValue:
    try:
        return evaluation.parse_evidence(criterion, raw)
    except evaluation.EvidenceError:
        return None


class _Memo:
    """The pure rules, memoised for one run.

    `evaluation.parse_evidence`, `evaluation.score_criterion` and `evaluation.combine` are
    pure, so a criterion's outcome depends only on the criteria set (its digest), the parsed
    value, the derived share and the override in force, and a result only on the set and its
    criteria's outcomes (`result_digest`); households with the same evidence get the same
    result, computed once. Four levels, each a dict lookup when it hits:

    * a registration's stored evidence, as the database's text of it, with its share and
      overrides → its result (most households repeat an evidence entry already seen);
    * its criteria's outcomes → its result (a new entry is mostly a known result: "1" and
      "có" are the same evidence);
    * one criterion's cell as stored, share and override → its outcome;
    * one criterion's parsed value, share and override → its outcome.

    Parsed numbers are keyed by their exact Decimal form (sign, digits, exponent), not by
    value: 2.5 and 2.50 print differently in a result, so they are different outcomes. A
    memoised result is therefore identical to a fresh `evaluation.evaluate`, reason texts
    included. At most MEMO_SIZE results and as many evidence texts are kept; a full memo starts
    afresh, so memory stays bounded whatever the run's size.

    `outcome_ids` and `result_ids` map the digests stored so far to their rows; the outcomes
    computed since the last store and not stored yet wait in `unstored_outcomes` (digest →
    canonical text).
    """

    def __init__(self) -> None:
        self._cells: dict[tuple, _Outcome] = {}
        self._outcomes: dict[tuple, _Outcome] = {}
        self._scored: dict[tuple, _Scored] = {}
        self._by_text: dict[tuple, _Scored] = {}
        self._details: dict[tuple[str, bool], str] = {}
        self.outcome_ids: dict[str, int] = {}
        self.unstored_outcomes: dict[str, str] = {}
        self.result_ids: dict[str, int] = {}

    def score_text(
        self,
        criteria_set: CriteriaSet,
        evidence_text: str | None,
        share: evaluation.Share | None,
        overrides: dict[str, bool],
    ) -> _Scored:
        """The result of evidence stored as `evidence_text` (a JSON object as the database
        returns it), looked up by that text before the evidence is even decoded."""
        key = (criteria_set.id, criteria_set.digest, evidence_text, share)
        if overrides:
            key += tuple(sorted(overrides.items()))
        scored = self._by_text.get(key)
        if scored is None:
            stored = json.loads(evidence_text) if evidence_text is not None else None
            scored = self.score(criteria_set, stored or {}, share, overrides)
            if len(self._by_text) >= MEMO_SIZE:
                self._by_text.clear()
            self._by_text[key] = scored
        return scored

    def score(
        self,
        criteria_set: CriteriaSet,
        stored: dict,
        share: evaluation.Share | None,
        overrides: dict[str, bool],
    ) -> _Scored:
        """The result of `stored` evidence (criterion code → text as entered)."""
        rules = parsed(criteria_set)
        digest = criteria_set.digest
        outcomes = tuple(
            [
                self.outcome(digest, criterion, None, share, overrides.get(criterion.code))
                if criterion.type is evaluation.CriterionType.SHARE
                else self.outcome(
                    digest,
                    criterion,
                    stored.get(criterion.code),
                    None,
                    overrides.get(criterion.code),
                )
                for criterion in rules.criteria
            ]
        )
        key = (criteria_set.id, digest, tuple([outcome.digest for outcome in outcomes]))
        scored = self._scored.get(key)
        if scored is None:
            if len(self._scored) >= MEMO_SIZE:
                self._scored.clear()
                self._outcomes.clear()
                self._cells.clear()
            scored = self._scored[key] = self._compute(criteria_set, rules, outcomes, key[2])
        return scored

    def outcome(
        self,
        digest: str,
        criterion: evaluation.Criterion,
        raw: object,
        share: evaluation.Share | None,
        override: bool | None,
    ) -> _Outcome:
        """The outcome of one criterion with the cell `raw` as stored (None for a share
        criterion: its value is derived), its share and its override.

        A stored value the set in force cannot read (the set was replaced and the criterion
        changed type since it was entered) counts as missing evidence: it stays stored, the
        criterion is listed as missing, and the rest of the run goes on.
        """
        if raw is not None and type(raw) is not str:  # stored evidence is text; else no memo
            return self._parsed_outcome(
                digest, criterion, _parse_or_missing(criterion, raw), share, override
            )
        key = (digest, criterion.code, raw, share, override)
        outcome = self._cells.get(key)
        if outcome is None:
            value = _parse_or_missing(criterion, raw)
            outcome = self._cells[key] = self._parsed_outcome(
                digest, criterion, value, share, override
            )
        return outcome

    def _parsed_outcome(
        self,
        digest: str,
        criterion: evaluation.Criterion,
        value: evaluation.EvidenceValue,
        share: evaluation.Share | None,
        override: bool | None,
    ) -> _Outcome:
        key = (digest, criterion.code, _exact(value), share, override)
        outcome = self._outcomes.get(key)
        if outcome is None:
            result, is_missing = evaluation.score_criterion(criterion, value, share, override)
            text = canonical_text(_criterion_json(result, override is not None))
            outcome = self._outcomes[key] = _Outcome(result, is_missing, text, _sha256(text))
            if outcome.digest not in self.outcome_ids:
                self.unstored_outcomes[outcome.digest] = text
        return outcome

    def _compute(
        self,
        criteria_set: CriteriaSet,
        rules: evaluation.CriteriaSet,
        outcomes: tuple[_Outcome, ...],
        outcome_digests: tuple[str, ...],
    ) -> _Scored:
        """`evaluation.combine` over the criteria's outcomes."""
        result = evaluation.combine(
            rules, [o.result for o in outcomes], [o.result.code for o in outcomes if o.missing]
        )
        points = str(result.points)  # exact: 9 and 9.0 are different texts
        detail = self._details.get((points, result.passed))
        if detail is None:
            detail = self._details[points, result.passed] = json.dumps(
                {"points": points, "passed": result.passed}
            )
        return _Scored(
            points=result.points,
            max_points=result.max_points,
            passed=result.passed,
            outstanding=result.outstanding,
            missing=result.missing,
            failed_required=result.failed_required,
            criteria_set_id=criteria_set.pk,
            criteria_digest=criteria_set.digest,
            outcomes=outcomes,
            digest=result_digest(
                criteria_set_id=criteria_set.pk,
                criteria_digest=criteria_set.digest,
                outcome_digests=outcome_digests,
            ),
            points_text=points,
            event_detail=detail,
        )


def _exact(value: evaluation.EvidenceValue) -> Hashable:
    return value.as_tuple() if isinstance(value, Decimal) else value


def _result_body(scored: _Scored, outcome_ids: dict[str, int]) -> str:
    """The stored body of a result (see `EvaluationResult`), as its canonical JSON text:
    written out member by member, in sorted key order, as `canonical_text` would give it."""
    ids = ",".join([str(outcome_ids[o.digest]) for o in scored.outcomes])
    return (
        f'{{"criteria":[{ids}],"failed_required":{_dumps(scored.failed_required)},'
        f'"max_points":"{scored.max_points}","missing":{_dumps(scored.missing)},'
        f'"outstanding":{_JSON_BOOL[scored.outstanding]},"passed":{_JSON_BOOL[scored.passed]},'
        f'"points":"{scored.points_text}"}}'
    )


_JSON_BOOL = {True: "true", False: "false"}


def _insert_new(model, columns: dict[str, str], rows: list[tuple]) -> dict[str, int]:
    """Insert the rows (`digest` first, then the other `columns`: name → PostgreSQL type) that
    are not stored yet; returns every row's id by digest, stored now or before.

    Outcomes and results are content-addressed and never change, so a row another run stores
    meanwhile is simply found. The rows go in digest order: two runs at once that insert the
    same rows wait for each other in the same order, never each for the other.
    """
    if not rows:
        return {}
    rows = sorted(rows)
    table = model._meta.db_table
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(_LINES for _ in columns)
            values = ", ".join(f"CAST(v.{name} AS {type_})" for name, type_ in columns.items())
            cursor.execute(
                f"INSERT INTO {table} ({names}) "  # noqa: S608 - fixed names and types only
                f"SELECT {values} FROM unnest({arrays}) AS v({names}) ORDER BY v.digest "
                "ON CONFLICT (digest) DO NOTHING RETURNING digest, id",
                ["\n".join(str(row[i]) for row in rows) for i in range(len(columns))],
            )
            ids = dict(cursor.fetchall())
            wanted = [row[0] for row in rows if row[0] not in ids]
            if wanted:
                cursor.execute(
                    f"SELECT digest, id FROM {table} WHERE digest = ANY({_LINES})",  # noqa: S608
                    ["\n".join(wanted)],
                )
                ids.update(cursor.fetchall())
            return ids
        values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
        cursor.execute(
            f"INSERT INTO {table} ({names}) "  # noqa: S608 - fixed names only
            f"SELECT {values} FROM json_each(%s) WHERE true ORDER BY 1 "
            "ON CONFLICT (digest) DO NOTHING RETURNING digest, id",
            [json.dumps(rows, ensure_ascii=False)],
        )
        ids = dict(cursor.fetchall())
    wanted = [row[0] for row in rows if row[0] not in ids]
    if wanted:
        ids.update(model.objects.filter(digest__in=wanted).values_list("digest", "pk"))
    return ids


_OUTCOME_COLUMNS = {"digest": "varchar", "body": "jsonb"}
_RESULT_COLUMNS = {
    "digest": "varchar",
    "criteria_set_id": "bigint",
    "criteria_digest": "varchar",
    "body": "jsonb",
}


def _store_results(evaluated: list[tuple], memo: _Memo) -> None:
    """Make sure every result of `evaluated` and every outcome in it has its row, so that
    `memo.result_ids` knows each result's id."""
    new = {
        scored.digest: scored for _row, scored in evaluated if scored.digest not in memo.result_ids
    }
    if not new:
        return
    if memo.unstored_outcomes:
        outcomes = list(memo.unstored_outcomes.items())
        memo.outcome_ids.update(_insert_new(CriterionOutcome, _OUTCOME_COLUMNS, outcomes))
        memo.unstored_outcomes.clear()
    rows = [
        (digest, s.criteria_set_id, s.criteria_digest, _result_body(s, memo.outcome_ids))
        for digest, s in new.items()
    ]
    memo.result_ids.update(_insert_new(EvaluationResult, _RESULT_COLUMNS, rows))
    if len(memo.result_ids) >= MEMO_SIZE:  # keep what this chunk needs
        memo.result_ids = {s.digest: memo.result_ids[s.digest] for _row, s in evaluated}


def _write_results(evaluated: list[tuple], now, result_ids: dict[str, int], user) -> set[int]:
    """Hand each row's result to the workflow, which writes it (and its `evaluate` event) only
    if the row still has the version it was read with and the result differs from the one
    stored. Returns the ids written."""
    return workflow.registrations_record_evaluations(
        [
            (row.id, row.version, row.state, result_ids[s.digest], s.points_text, s.passed,
             s.outstanding, s.event_detail)
            for row, s in evaluated
        ],
        now=now,
        user=user,
    )  # fmt: skip


def _unchanged(evaluated: list[tuple], written: set[int]) -> set[int]:
    """Of the rows not written, those still at the version read: their result was the same.

    The others changed meanwhile (someone acted on them) and were rightly left alone.
    """
    versions = {row.id: row.version for row, _scored in evaluated if row.id not in written}
    if not versions:
        return set()
    current = Registration.objects.filter(pk__in=list(versions)).values_list("pk", "version")
    return {pk for pk, version in current if versions[pk] == version}


class _Row(NamedTuple):
    """A registration as `_load_chunk` reads it: the fields are the queryset's column names,
    in the order of its SQL (model fields, then the one annotation)."""

    id: int
    version: int
    state: str
    entity_id: int
    province_id: int
    ward__code: str
    entity__code: str
    evidence_text: str | None


def _load_chunk(queryset) -> list[_Row]:
    """The first CHUNK registrations of `queryset` (ordered by id).

    The evidence comes as the database's JSON text, undecoded: `_Memo.score_text` looks a
    result up by that text and decodes only evidence it has not seen in the run. The rows are
    fetched at once from the queryset's SQL (its columns need no conversion), not a hundred
    at a time through the queryset's iterator.
    """
    sql, params = (
        queryset.annotate(evidence_text=Cast("evidence", output_field=TextField()))
        .values_list(*_Row._fields)[:CHUNK]
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(map(_Row._make, cursor.fetchall()))


def _evaluate_rows(
    rows: list[_Row],
    sets: dict[int, CriteriaSet | None],
    shares: dict[int, evaluation.Share],
    overrides: dict[int, dict[str, bool]],
    memo: _Memo,
) -> tuple[list[tuple], int]:
    """Apply the rules to each row; returns ((row, _Scored) per row, rows without a set)."""
    evaluated, unevaluated = [], 0
    for row in rows:
        criteria_set = sets[row.province_id]
        if criteria_set is None:
            unevaluated += 1
            continue
        row_overrides = overrides.get(row.id, {})
        if row_overrides:
            codes = {c.code for c in parsed(criteria_set).criteria}
            row_overrides = {k: v for k, v in row_overrides.items() if k in codes}
        scored = memo.score_text(
            criteria_set, row.evidence_text, shares.get(row.entity_id), row_overrides
        )
        evaluated.append((row, scored))
    return evaluated, unevaluated


def _evaluate_chunk(
    rows: list[_Row],
    kind: str,
    year: int,
    sets: dict[int, CriteriaSet | None],
    user,
    memo: _Memo,
) -> tuple[list[EvaluationRow], int, int]:
    """Evaluate one chunk of registrations of one kind; returns (rows, unevaluated, lost).

    New outcomes and results are stored first, outside the chunk's transaction when the
    caller holds none (they are content-addressed and never change, so a result stored for a
    chunk that then fails is only found again later); the registrations and their events are
    written in one transaction.
    """
    needs_shares = any(
        s is not None and any(c.type == "share" for c in parsed(s).criteria) for s in sets.values()
    )
    shares = (
        shares_for(kind=kind, year=year, entity_ids=[r.entity_id for r in rows])
        if needs_shares
        else {}
    )
    # The chunk's id range rather than its ids: no statement with thousands of parameters.
    # Overrides of registrations in the range but not in the chunk are never looked up.
    overrides: dict[int, dict[str, bool]] = defaultdict(dict)
    for reg_id, criterion, met in Override.objects.filter(
        registration_id__gte=rows[0].id, registration_id__lte=rows[-1].id, superseded=False
    ).values_list("registration_id", "criterion", "met"):
        overrides[reg_id][criterion] = met
    evaluated, unevaluated = _evaluate_rows(rows, sets, shares, overrides, memo)
    _store_results(evaluated, memo)
    with transaction.atomic():
        written = _write_results(evaluated, timezone.now(), memo.result_ids, user)
        # A re-evaluation that changes nothing writes nothing: no new version, no event, so a
        # page an official has open stays current.
        same = _unchanged(evaluated, written)
        if written:
            written_rows = [row for row in rows if row.id in written]
            record_bulk(
                "evaluate",
                model=Registration,
                province_ids={row.province_id for row in written_rows},
                year=year,
                kind=kind,
                evaluated=len(written),
                wards=sorted({row.ward__code for row in written_rows}),
            )
    kept = written | same
    out = [
        EvaluationRow(
            row.id, kind, row.ward__code, row.entity__code, scored.points, scored.passed,
            scored.outstanding, scored.missing, scored.failed_required,
        )
        for row, scored in evaluated
        if row.id in kept
    ]  # fmt: skip
    return out, unevaluated, len(evaluated) - len(written) - len(same)


def _evaluate_kind(
    qs, *, kind: str, year: int, user, memo: _Memo, report: Callable[[EvaluationRun], None]
) -> None:
    """Evaluate the registrations of `qs` (one kind, ordered by id) chunk by chunk, handing
    what each chunk did to `report` as soon as it is committed."""
    sets: dict[int, CriteriaSet | None] = {}
    for rows in _chunks(qs):
        for province_id in {r.province_id for r in rows} - sets.keys():
            sets[province_id] = criteria_in_force(title=kind, year=year, province_id=province_id)
        done, unevaluated, lost = _evaluate_chunk(rows, kind, year, sets, user, memo)
        report(
            EvaluationRun(
                rows=done,
                no_criteria={kind: unevaluated} if unevaluated else {},
                changed_meanwhile=lost,
            )
        )


def _chunks(qs) -> Iterator[list[_Row]]:
    """`qs` CHUNK rows at a time, each chunk read when the previous one is done with.

    A worker's part (`_parts`) is read by id ranges of CHUNK of its rows, from the list of its
    ids: with only "id after the last one" to go by, PostgreSQL cannot tell how far it would
    have to read the id index to find a chunk of the part, and scans the table instead.
    """
    if "part" not in qs.query.annotations:
        last = 0
        while rows := _load_chunk(qs.filter(pk__gt=last)):
            last = rows[-1].id
            yield rows
        return
    ids = list(qs.values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        bounded = qs.filter(pk__gte=ids[start], pk__lte=ids[min(start + CHUNK, len(ids)) - 1])
        if rows := _load_chunk(bounded):
            yield rows


def _can_share_out(workers: int) -> bool:
    """Whether the work may go to worker processes: asked for, on PostgreSQL (SQLite has one
    writer at a time), with fork available, and with no transaction held by the caller (the
    workers' own connections could not see what it has not committed)."""
    return (
        workers > 1
        and connection.vendor == "postgresql"
        and "fork" in multiprocessing.get_all_start_methods()
        and not connection.in_atomic_block
    )


def _parts(qs, workers: int) -> list:
    """`qs` shared among `workers` by the hash of each registration's evidence, so that
    households with the same evidence, which share a result, go to the same process and each
    distinct result is computed and stored by one process only; the parts come out about the
    same size. One part if `qs` is too small to be worth sharing out."""
    if qs.count() < PARALLEL_MIN:
        return [qs]
    part = Func(
        F("evidence"),
        template=f"abs(mod(jsonb_hash(%(expressions)s), {int(workers)}))",
        output_field=IntegerField(),
    )
    return [qs.alias(part=part).filter(part=k) for k in range(workers)]


_INHERITED: list = []
"""In a worker, the parent's connection wrappers it inherited: kept, never used nor closed."""


def _forget_inherited_connections() -> None:
    """Give this (forked) process new, unconnected database connection wrappers.

    What fork copied is the parent's: its socket must never be used here (the processes would
    read each other's answers) nor closed (that would end the parent's session). The parent
    keeps its session open across the fork, and code that ran in another context of the same
    thread (a greenlet of the browser tests, say) may hold one of its own, which this process
    would otherwise pick up (the tests saw it happen). So every alias gets a fresh wrapper, and
    the inherited ones are kept out of reach of the garbage collector until the process ends
    with os._exit.
    """
    for alias in connections:
        _INHERITED.append(connections[alias])
        connections[alias] = connections.create_connection(alias)


def _worker(pipe, qs, kind: str, year: int, user) -> None:
    """A worker process: evaluate `qs` as `_evaluate_kind` does, sending each chunk's part of
    the run up `pipe` as it is committed (its rows packed by `_pack`, which pickles fast), then
    ("done", None); ("error", text) if it fails. The process ends with os._exit: nothing it
    inherited is cleaned up twice."""

    def send(part: EvaluationRun) -> None:
        pipe.send(("part", (_pack(part.rows), part.no_criteria, part.changed_meanwhile)))

    try:
        try:
            _forget_inherited_connections()
            _evaluate_kind(qs, kind=kind, year=year, user=user, memo=_Memo(), report=send)
            pipe.send(("done", None))
        except BaseException:
            pipe.send(("error", traceback.format_exc()))
        finally:
            connections.close_all()
            pipe.close()
    finally:
        os._exit(0)


def _pack(rows: list[EvaluationRow]) -> tuple:
    """`rows` as a few flat lists, cheap to pickle: the registrations' own columns, and for
    each row the index of its figures among the chunk's distinct ones (many rows share them)."""
    totals: dict[tuple, int] = {}
    which = [
        totals.setdefault(
            (r.kind, r.points, r.passed, r.outstanding, r.missing, r.failed_required), len(totals)
        )
        for r in rows
    ]
    return (
        [r.registration_id for r in rows],
        [r.ward for r in rows],
        [r.code for r in rows],
        which,
        list(totals),
    )


def _unpack(packed: tuple) -> list[EvaluationRow]:
    ids, wards, codes, which, totals = packed
    return [
        EvaluationRow(pk, kind, ward, code, points, passed, outstanding, missing, failed)
        for pk, ward, code, (kind, points, passed, outstanding, missing, failed) in zip(
            ids, wards, codes, [totals[i] for i in which], strict=True
        )
    ]


class EvaluationWorkerError(RuntimeError):
    """A worker process failed; what it had committed before stays (as a run stopped by an
    error in a chunk leaves the chunks before it)."""


def _evaluate_in_parallel(parts: list, *, kind: str, year: int, user, run: EvaluationRun) -> None:
    """Evaluate each part (a queryset) in a process of its own, each with its own connection,
    and add what they did to `run`. They write disjoint registrations; outcomes and results
    they both need are content-addressed (see `_insert_new`). Raises EvaluationWorkerError
    once all have stopped if any failed."""
    context = multiprocessing.get_context("fork")
    readers, processes = [], []
    for part in parts:
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(
            target=_worker, args=(writer, part, kind, year, user), daemon=True
        )
        process.start()
        writer.close()
        readers.append(reader)
        processes.append(process)
    failures = []
    pending = set(readers)
    while pending:
        for reader in wait(list(pending)):
            try:
                what, item = reader.recv()
            except EOFError:
                what, item = "error", "the worker process stopped without a word"
            if what == "part":
                rows, no_criteria, changed_meanwhile = item
                run.add(EvaluationRun(_unpack(rows), no_criteria, changed_meanwhile))
                continue
            if what == "error":
                failures.append(item)
            pending.discard(reader)
            reader.close()
    for process in processes:
        process.join()
    if failures:
        raise EvaluationWorkerError("an evaluation worker failed:\n" + "\n".join(failures))


def _ready(queryset, *, year: int, frozen: set[int]):
    """The registrations of `queryset` that evaluating `year` takes: ready for it
    (`workflow.READY`) and not of a signed-off ward-year, whose figures stay as signed off."""
    return queryset.filter(workflow.READY, year=year).exclude(ward_id__in=frozen)


def _not_submitted(queryset, *, year: int, frozen: set[int]) -> int:
    """How many of them wait without evidence (they stay registered)."""
    return queryset.filter(workflow.NOT_SUBMITTED, year=year).exclude(ward_id__in=frozen).count()


@dataclass(frozen=True)
class EvaluationPreview:
    """What evaluating a ward's year would do, for its confirmation."""

    ready: dict[str, int]  # kind -> registrations it would evaluate
    not_submitted: int  # registered without evidence: they would stay registered
    no_criteria: list[str]  # kinds with registrations to evaluate but no criteria set in force


def evaluation_preview(*, year: int, ward) -> EvaluationPreview:
    """Count what `registrations_evaluate(year=year, ward=ward)` would take, by title, with
    the same selection it runs on; nothing is evaluated."""
    ready: dict[str, int] = {}
    not_submitted = 0
    # Summed from the ward's counts (titles.services.counts), not counted from its rows. A
    # signed-off year is left out, as the evaluation leaves it.
    if ward.pk not in workflow.frozen_ward_ids(year=year):
        counts = ward_counts(ward_id=ward.pk, year=year)
        ready = {
            row["kind"]: row["total"]
            for row in counts.filter(workflow.READY_COUNTED)
            .values("kind")
            .annotate(total=Sum("n"))
            .order_by()
            if row["total"]
        }
        not_submitted = (
            counts.filter(workflow.NOT_SUBMITTED_COUNTED).aggregate(total=Sum("n"))["total"] or 0
        )
    no_criteria = [
        kind
        for kind in BOTTOM_UP
        if ready.get(kind)
        and criteria_in_force(title=kind, year=year, province_id=ward.parent_id) is None
    ]
    return EvaluationPreview(ready=ready, not_submitted=not_submitted, no_criteria=no_criteria)


def _evaluate(
    queryset, *, year: int, user, workers: int = 1, progress: Progress | None = None
) -> EvaluationRun:
    run = EvaluationRun(rows=[], no_criteria={}, changed_meanwhile=0)
    memo = _Memo()
    # A signed-off ward-year's figures are frozen: its results stay as they were signed off.
    frozen = workflow.frozen_ward_ids(year=year)
    run.not_submitted = _not_submitted(queryset, year=year, frozen=frozen)
    if frozen:
        run.frozen = queryset.filter(workflow.READY, year=year, ward_id__in=frozen).count()
    total = _ready(queryset, year=year, frozen=frozen).count() if progress else None
    done = 0

    def report(part: EvaluationRun) -> None:
        nonlocal done
        run.add(part)
        if progress is not None:
            # Every registration of the chunk: kept, left without criteria, or changed meanwhile.
            done += len(part.rows) + sum(part.no_criteria.values()) + part.changed_meanwhile
            progress(done, total)

    for kind in BOTTOM_UP:
        qs = _ready(queryset, year=year, frozen=frozen).filter(kind=kind).order_by("pk")
        parts = _parts(qs, workers) if _can_share_out(workers) else [qs]
        if len(parts) > 1:
            before = len(run.rows) + sum(run.no_criteria.values()) + run.changed_meanwhile
            _evaluate_in_parallel(parts, kind=kind, year=year, user=user, run=run)
            after = len(run.rows) + sum(run.no_criteria.values()) + run.changed_meanwhile
            if progress is not None:
                done += after - before
                progress(done, total)
        else:
            _evaluate_kind(qs, kind=kind, year=year, user=user, memo=memo, report=report)
    if progress is not None:
        progress(total, total)
    return run


def registrations_evaluate(
    *, year: int, ward=None, user=None, workers: int = 1, progress: Progress | None = None
) -> EvaluationRun:
    """Evaluate every undecided registration of `year` (in `ward` if given), bottom-up.

    With `workers` > 1, on PostgreSQL and outside a transaction, each title's registrations
    are shared among that many processes (all of one title before the next title starts).
    `progress(done, total)` is called after each chunk with the registrations done so far.
    """
    queryset = Registration.objects.all()
    if ward is not None:
        queryset = queryset.filter(ward=ward)
    return _evaluate(queryset, year=year, user=user, workers=workers, progress=progress)


def registration_reevaluate(*, registration: Registration, user=None) -> EvaluationRun:
    """Evaluate one registration now (after an override or new evidence)."""
    return _evaluate(
        Registration.objects.filter(pk=registration.pk), year=registration.year, user=user
    )
