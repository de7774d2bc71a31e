"""Running the evaluation rules over stored registrations and saving the results.

Bottom-up: citizens and families first, then clans, communities and units, whose share
criteria count member recognitions of the same year (a clan's and a community's households
recognised as Learning Families, a unit's staff recognised as Learning Citizens). Only
undecided registrations (registered, submitted, evaluated) are evaluated; each becomes
`evaluated`. Results are written with one UPDATE per chunk that matches each row's version as
read, so an approval that lands meanwhile is never overwritten: that row is simply left out.
Each written row gets one `evaluate` event, inserted by one statement per chunk. A result that
is the same as the one stored writes nothing.

Each distinct result (the per-criterion explanation) is stored once, in `EvaluationResult`,
under the SHA-256 of its canonical JSON text; a registration points at it. So a registration's
write is a few narrow columns whatever the size of the explanation.

Speed (measured in bench/evaluate_bench.py): `_Memo` remembers, within a run, the result of
each stored evidence text, of each parsed evidence pattern and of each criterion's value, so
the rules and the JSON encoding run once per distinct input; a chunk's rows travel as one
JSON document parameter instead of thousands of bound values.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from audit.services import record_bulk
from registry.models import Citizen, Family, Kind, Unit
from titles import evaluation
from titles.models import (
    CriteriaSet,
    EvaluationResult,
    Override,
    Registration,
    RegistrationEvent,
    State,
)
from titles.selectors_signoff import frozen_ward_ids
from titles.services.criteria import criteria_in_force, parsed

BOTTOM_UP = (Kind.CITIZEN, Kind.FAMILY, Kind.CLAN, Kind.COMMUNITY, Kind.UNIT)
EVALUABLE = (State.REGISTERED, State.SUBMITTED, State.EVALUATED)
CHUNK = 5000
"""Registrations read, evaluated and written per transaction. A chunk's rows travel to the
database as one JSON parameter (about 200 bytes per registration), so SQLite's bound-parameter
limit does not bound it; memory does."""
MEMO_SIZE = 50_000
"""Distinct results (and distinct evidence texts) remembered within a run (see `_Memo`)."""
STORE_BATCH = 500
"""New distinct results inserted, and their ids read back, per statement."""


@dataclass(frozen=True)
class EvaluationRow:
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
        "reason": c.reason,
    }


def result_json(result: evaluation.Evaluation, overridden: Iterable[str]) -> dict:
    """The stored, self-explaining form of a result (what the registration page shows)."""
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


def result_text(body: dict) -> str:
    """The canonical JSON text of a stored result: keys sorted, no spaces. Equal results have
    equal texts, so the SHA-256 of the text (`result_digest`) identifies a result. Migration
    0004 keeps a frozen copy of this function: the two must not diverge."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def result_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _result_text_from_parts(result: evaluation.Evaluation, criteria_texts: Iterable[str]) -> str:
    """`result_text(result_json(result, ...))`, spliced from each criterion's canonical text
    (already encoded once per distinct criterion result) instead of encoding the whole result
    again. The members are in sorted key order, as `result_text` writes them."""
    return (
        f'{{"criteria":[{",".join(criteria_texts)}],'
        f'"failed_required":{_dumps(list(result.failed_required))},'
        f'"max_points":{_dumps(str(result.max_points))},'
        f'"missing":{_dumps(list(result.missing))},'
        f'"outstanding":{_dumps(result.outstanding)},'
        f'"passed":{_dumps(result.passed)},'
        f'"points":{_dumps(str(result.points))}}}'
    )


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


@dataclass(frozen=True)
class _Scored:
    """One distinct result of a run, computed and encoded once however many registrations
    share it.

    `digest` names its `EvaluationResult` row. `columns`: the JSON members (no braces) stored
    with it on the registration: criteria set, points, passed, outstanding. `event_detail`:
    the event's detail, JSON.
    """

    points: Decimal
    passed: bool
    outstanding: bool
    missing: tuple[str, ...]
    failed_required: tuple[str, ...]
    digest: str
    columns: str
    event_detail: str


def _parse_or_missing(criterion: evaluation.Criterion, raw: object) -> evaluation.EvidenceValue:
    try:
        return evaluation.parse_evidence(criterion, raw)
    except evaluation.EvidenceError:
        return None


class _Memo:
    """The pure rules, memoised for one run.

    `evaluation.parse_evidence`, `evaluation.score_criterion` and `evaluation.combine` are
    pure, so a result depends only on the criteria set (its digest), the parsed evidence, the
    derived share and the overrides in force; households with the same evidence get the same
    result, computed once. Four levels, each a dict lookup when it hits:

    * a registration's stored evidence, as the database's text of it, with its share and
      overrides → its result (most households repeat an evidence entry already seen);
    * the parsed evidence pattern → its result ("1" and "có" are the same evidence);
    * one criterion's parsed value, share and override → its part of the result and its
      canonical JSON text (a new pattern is mostly known values in a new combination);
    * one evidence cell's text → its parsed value.

    Parsed numbers are keyed by their exact Decimal form (sign, digits, exponent), not by
    value: 2.5 and 2.50 print differently in a result, so they are different keys. A memoised
    result is therefore identical to a fresh `evaluation.evaluate`, reason texts included. At
    most MEMO_SIZE results and as many evidence texts are kept; a full memo starts afresh, so
    memory stays bounded whatever the run's size.

    Results new to the database wait in `pending` (digest → canonical text) until the chunk
    stores them (`_store_results`); `ids` maps the digests stored so far to their rows.
    """

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, str, str], tuple[evaluation.EvidenceValue, Hashable]] = {}
        self._criteria: dict[tuple, tuple[evaluation.CriterionResult, bool, str]] = {}
        self._scored: dict[tuple, _Scored] = {}
        self._by_text: dict[tuple, _Scored] = {}
        self.pending: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    def parse(
        self, digest: str, criterion: evaluation.Criterion, raw: object
    ) -> tuple[evaluation.EvidenceValue, Hashable]:
        """The parsed value of a stored evidence cell and its exact memo key.

        A stored value the set in force cannot read (the set was replaced and the criterion
        changed type since it was entered) counts as missing evidence: it stays stored, the
        criterion is listed as missing, and the rest of the run goes on.
        """
        if not isinstance(raw, str):  # stored evidence is text; anything else is parsed as is
            value = _parse_or_missing(criterion, raw)
            return value, _exact(value)
        key = (digest, criterion.code, raw)
        if key not in self._parsed:
            value = _parse_or_missing(criterion, raw)
            self._parsed[key] = value, _exact(value)
        return self._parsed[key]

    def score_text(
        self,
        criteria_set: CriteriaSet,
        evidence_text: str | None,
        share: evaluation.Share | None,
        overrides: dict[str, bool],
    ) -> _Scored:
        """The result of evidence stored as `evidence_text` (a JSON object as the database
        returns it), looked up by that text before the evidence is even decoded."""
        key = (criteria_set.pk, criteria_set.digest, evidence_text, share)
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
        found = {
            criterion.code: self.parse(digest, criterion, raw)
            for criterion in rules.criteria
            if criterion.type != evaluation.CriterionType.SHARE
            and (raw := stored.get(criterion.code)) is not None
        }
        key = (
            criteria_set.pk,
            digest,
            tuple((code, exact) for code, (_value, exact) in found.items()),
            share,
            tuple(sorted(overrides.items())),
        )
        scored = self._scored.get(key)
        if scored is None:
            if len(self._scored) >= MEMO_SIZE:
                self._scored.clear()
                self._criteria.clear()
                self._parsed.clear()
            scored = self._scored[key] = self._compute(criteria_set, rules, found, share, overrides)
        return scored

    def _compute(
        self,
        criteria_set: CriteriaSet,
        rules: evaluation.CriteriaSet,
        found: dict[str, tuple[evaluation.EvidenceValue, Hashable]],
        share: evaluation.Share | None,
        overrides: dict[str, bool],
    ) -> _Scored:
        """`evaluation.evaluate` criterion by criterion, each criterion's part memoised."""
        results, missing, texts = [], [], []
        for criterion in rules.criteria:
            value, exact = found.get(criterion.code, (None, None))
            crit_share = share if criterion.type == evaluation.CriterionType.SHARE else None
            override = overrides.get(criterion.code)
            key = (criteria_set.digest, criterion.code, exact, crit_share, override)
            part = self._criteria.get(key)
            if part is None:
                result, is_missing = evaluation.score_criterion(
                    criterion, value, crit_share, override
                )
                text = result_text(_criterion_json(result, override is not None))
                part = self._criteria[key] = result, is_missing, text
            results.append(part[0])
            texts.append(part[2])
            if part[1]:
                missing.append(criterion.code)
        result = evaluation.combine(rules, results, missing)
        text = _result_text_from_parts(result, texts)
        digest = result_digest(text)
        if digest not in self.ids:
            self.pending[digest] = text
        return _Scored(
            points=result.points,
            passed=result.passed,
            outstanding=result.outstanding,
            missing=result.missing,
            failed_required=result.failed_required,
            digest=digest,
            columns=_json_members(
                criteria_set_id=criteria_set.pk,
                criteria_digest=criteria_set.digest,
                points=str(result.points),
                passed=result.passed,
                outstanding=result.outstanding,
            ),
            event_detail=json.dumps({"points": str(result.points), "passed": result.passed}),
        )


def _exact(value: evaluation.EvidenceValue) -> Hashable:
    return value.as_tuple() if isinstance(value, Decimal) else value


def _json_members(**values) -> str:
    """JSON object members without the braces (`"a": 1, "b": "x"`), to be spliced into each
    row of a chunk's JSON document next to the row's own id and version."""
    return json.dumps(values, ensure_ascii=False)[1:-1]


def _json_rows(columns: dict[str, str]) -> str:
    """SQL for a table of `columns` (name → PostgreSQL type) read from one parameter: a JSON
    array of objects. A whole chunk is one parameter, so the statement text never changes and
    SQLite's bound-parameter limit does not bound the chunk size. Only the fixed names and
    types of `_RESULT_COLUMNS` and `_EVENT_COLUMNS` are interpolated."""
    if connection.vendor == "postgresql":
        spec = ", ".join(f"{name} {type_}" for name, type_ in columns.items())
        return f"SELECT * FROM jsonb_to_recordset(CAST(%s AS jsonb)) AS t({spec})"  # noqa: S608
    fields = ", ".join(f"json_extract(value, '$.{name}') AS {name}" for name in columns)
    return f"SELECT {fields} FROM json_each(%s)"  # noqa: S608


_RESULT_COLUMNS = {
    "registration_id": "bigint",
    "version": "integer",
    "evaluation_id": "bigint",
    "points": "numeric",
    "passed": "boolean",
    "outstanding": "boolean",
    "criteria_set_id": "bigint",
    "criteria_digest": "text",
}
_EVENT_COLUMNS = {"registration_id": "bigint", "from_state": "text", "detail": "jsonb"}


def _store_results(evaluated: list[tuple], memo: _Memo) -> None:
    """Make sure every result of `evaluated` has its `EvaluationResult` row; new ones are
    inserted (a result another run stored meanwhile is kept, not duplicated) and the ids of
    all of them land in `memo.ids`."""
    wanted = {scored.digest for _row, scored in evaluated} - memo.ids.keys()
    new = [(digest, memo.pending[digest]) for digest in wanted if digest in memo.pending]
    table = EvaluationResult._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(new), STORE_BATCH):
            batch = new[start : start + STORE_BATCH]
            values = ", ".join(["(%s, %s)"] * len(batch))
            cursor.execute(
                f"INSERT INTO {table} (digest, body) VALUES {values} "  # noqa: S608
                "ON CONFLICT (digest) DO NOTHING RETURNING digest, id",
                [value for pair in batch for value in pair],
            )
            memo.ids.update(cursor.fetchall())
    digests = list(wanted - memo.ids.keys())  # stored before, by this run or another
    for start in range(0, len(digests), STORE_BATCH):
        batch = digests[start : start + STORE_BATCH]
        memo.ids.update(
            EvaluationResult.objects.filter(digest__in=batch).values_list("digest", "pk")
        )
    for digest in wanted:
        memo.pending.pop(digest, None)
    if len(memo.ids) >= MEMO_SIZE:
        memo.ids = {scored.digest: memo.ids[scored.digest] for _row, scored in evaluated}


def _write_results(evaluated: list[tuple], now, ids: dict[str, int]) -> set[int]:
    """Store results, each only if the row still has the version it was read with and the
    result differs from the one stored.

    `evaluated` rows: (registration row as read, _Scored); `ids`: the `EvaluationResult` row
    of each result's digest (`_store_results`). Returns the ids written.
    """
    if not evaluated:
        return set()
    payload = ",".join(
        f'{{"registration_id":{row.id},"version":{row.version},'
        f'"evaluation_id":{ids[scored.digest]},{scored.columns}}}'
        for row, scored in evaluated
    )
    sql = f"""
        UPDATE titles_registration AS r SET
            state = %s,
            points = v.points,
            passed = v.passed,
            eval_outstanding = v.outstanding,
            evaluation_id = v.evaluation_id,
            criteria_set_id = v.criteria_set_id,
            criteria_digest = v.criteria_digest,
            evaluated_at = %s,
            updated_at = %s,
            version = r.version + 1
        FROM ({_json_rows(_RESULT_COLUMNS)}) AS v
        WHERE r.id = v.registration_id AND r.version = v.version
            AND NOT (
                r.state = %s AND r.criteria_digest = v.criteria_digest
                AND COALESCE(r.evaluation_id, 0) = v.evaluation_id
            )
        RETURNING id
    """  # noqa: S608 - only fixed names and types are interpolated
    now = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [State.EVALUATED, now, now, f"[{payload}]", State.EVALUATED])
        return {row[0] for row in cursor.fetchall()}


def _unchanged(evaluated: list[tuple], written: set[int]) -> set[int]:
    """Of the rows not written, those still at the version read: their result was the same.

    The others changed meanwhile (someone acted on them) and were rightly left alone.
    """
    versions = {row.id: row.version for row, _scored in evaluated if row.id not in written}
    if not versions:
        return set()
    current = Registration.objects.filter(pk__in=list(versions)).values_list("pk", "version")
    return {pk for pk, version in current if versions[pk] == version}


def _write_events(written: list[tuple], now, user) -> None:
    """One `evaluate` event per written registration, in id order, all at `now`.

    `written` rows: (registration row as read, _Scored). One INSERT of the JSON-encoded chunk
    instead of `bulk_create`, which spent more time building model instances than the
    database spent storing them.
    """
    if not written:
        return
    payload = ",".join(
        f'{{"registration_id":{row.id},"from_state":{json.dumps(row.state)},'
        f'"detail":{scored.event_detail}}}'
        for row, scored in written
    )
    sql = f"""
        INSERT INTO titles_registrationevent
            (registration_id, action, from_state, to_state, reason, detail, user_id, at)
        SELECT v.registration_id, %s, v.from_state, %s, '', v.detail, %s, %s
        FROM ({_json_rows(_EVENT_COLUMNS)}) AS v
        ORDER BY v.registration_id
    """  # noqa: S608 - only fixed names and types are interpolated
    params = [
        RegistrationEvent.Action.EVALUATE,
        State.EVALUATED,
        user.pk if user is not None else None,
        connection.ops.adapt_datetimefield_value(now),
        f"[{payload}]",
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _load_chunk(queryset, after: int) -> list:
    """The next CHUNK registrations by id after `after`, as named rows.

    The evidence comes as the database's JSON text, undecoded: `_Memo.score_text` looks a
    result up by that text and decodes only evidence it has not seen in the run.
    """
    fields = (
        "id",
        "version",
        "state",
        "entity_id",
        "province_id",
        "evidence_text",
        "ward__code",
        "entity__code",
    )
    return list(
        queryset.filter(pk__gt=after)
        .annotate(evidence_text=Cast("evidence", output_field=TextField()))
        .values_list(*fields, named=True)[:CHUNK]
    )


def _evaluate_rows(
    rows: list,
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
    rows: list,
    kind: str,
    year: int,
    sets: dict[int, CriteriaSet | None],
    user,
    memo: _Memo,
) -> tuple[list[EvaluationRow], int, int]:
    """Evaluate one chunk of registrations of one kind; returns (rows, unevaluated, lost)."""
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
    now = timezone.now()
    _store_results(evaluated, memo)
    written = _write_results(evaluated, now, memo.ids)
    # A re-evaluation that changes nothing writes nothing: no new version, no event, so a page
    # an official has open stays current.
    same = _unchanged(evaluated, written)
    _write_events([(row, scored) for row, scored in evaluated if row.id in written], now, user)
    if written:
        record_bulk(
            "evaluate",
            model=Registration,
            province_ids={row.province_id for row in rows if row.id in written},
            year=year,
            kind=kind,
            evaluated=len(written),
            wards=sorted({row.ward__code for row in rows if row.id in written}),
        )
    kept = written | same
    done = [(row, scored) for row, scored in evaluated if row.id in kept]
    out = [
        EvaluationRow(
            registration_id=row.id,
            kind=kind,
            ward=row.ward__code,
            code=row.entity__code,
            points=scored.points,
            passed=scored.passed,
            outstanding=scored.outstanding,
            missing=scored.missing,
            failed_required=scored.failed_required,
        )
        for row, scored in done
    ]
    return out, unevaluated, len(evaluated) - len(written) - len(same)


def _evaluate(queryset, *, year: int, user) -> EvaluationRun:
    run = EvaluationRun(rows=[], no_criteria={}, changed_meanwhile=0)
    memo = _Memo()
    # A signed-off ward-year's figures are frozen: its results stay as they were signed off.
    frozen = frozen_ward_ids(year=year)
    for kind in BOTTOM_UP:
        qs = (
            queryset.filter(year=year, kind=kind, state__in=EVALUABLE)
            .exclude(ward_id__in=frozen)
            .order_by("pk")
        )
        sets: dict[int, CriteriaSet | None] = {}
        last_pk = 0
        while rows := _load_chunk(qs, last_pk):
            last_pk = rows[-1].id
            for province_id in {r.province_id for r in rows} - sets.keys():
                sets[province_id] = criteria_in_force(
                    title=kind, year=year, province_id=province_id
                )
            with transaction.atomic():
                done, unevaluated, lost = _evaluate_chunk(rows, kind, year, sets, user, memo)
            run.rows.extend(done)
            run.changed_meanwhile += lost
            if unevaluated:
                run.no_criteria[kind] = run.no_criteria.get(kind, 0) + unevaluated
    return run


def registrations_evaluate(*, year: int, ward=None, user=None) -> EvaluationRun:
    """Evaluate every undecided registration of `year` (in `ward` if given), bottom-up."""
    queryset = Registration.objects.all()
    if ward is not None:
        queryset = queryset.filter(ward=ward)
    return _evaluate(queryset, year=year, user=user)


def registration_reevaluate(*, registration: Registration, user=None) -> EvaluationRun:
    """Evaluate one registration now (after an override or new evidence)."""
    return _evaluate(
        Registration.objects.filter(pk=registration.pk), year=registration.year, user=user
    )
