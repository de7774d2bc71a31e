"""The registration workflow: every state a registration passes through, and the only writer of it.

States and moves (the transition table, `MOVES`)::

    (new) ──register──▶ registered ──evidence / submit──▶ submitted ──evaluate──▶ evaluated
                            ▲ evidence cleared              ▲ new evidence ◀──────────┘
    evaluated ──approve──▶ approved ──recognise (decision)──▶ recognised (+ outstanding mark)
    registered | submitted | evaluated | approved ──reject──▶ rejected

An import may also create a registration straight into `submitted` (it brought evidence) or,
for past years, into its historical outcome (`recognised` under a decision, or `rejected`).
`outstanding` is a mark on a recognised registration, not a state of its own.

What this module keeps, for one registration and for bulk moves alike:

- **It is the only code that changes `Registration.state` or writes a `RegistrationEvent`.**
  Services (review, registration, imports, evaluation) decide *what* should happen and call it;
  a test greps the code base for any other writer.
- **The sign-off freeze.** While a ward's year is signed off (its newest `WardSignOff` row is a
  sign-off), nothing that belongs to that ward-year is written: no registration created,
  changed or evaluated, no decision. `check_not_frozen` refuses with `YearFrozen`, holding the
  ward's row lock until the caller commits, so a sign-off cannot slip in between the check and
  the write. Behind it, database triggers (migration titles 0009) refuse any INSERT, UPDATE or
  DELETE of a registration or a decision of a frozen ward-year, whatever code issues it.
- **Who won.** Every single move is one conditional UPDATE naming the state and version the
  actor saw; the loser gets `ConcurrentChange` and nothing is written.
- **History.** Every write appends its event (who, when, from, to, why) in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import batched

from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.models import AdministrativeUnit, Entity
from registry.services.tallies import entities_count_in
from titles.models import Registration, RegistrationEvent, State, WardSignOff

Action = RegistrationEvent.Action


class WorkflowError(Exception):
    """A move that is not allowed now; the message says why, for the user."""


class ConcurrentChange(WorkflowError):
    """Someone else changed the registration first; nothing was written."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else changed this registration while you were looking at it. "
                "Nothing was saved; reload the page to see the current state."
            )
        )


class YearFrozen(WorkflowError):
    """The ward's year is signed off; nothing of it may be written."""

    def __init__(self, year: int) -> None:
        super().__init__(frozen_message(year))
        self.year = year


def frozen_message(year: int) -> str:
    """The sign-off message every refused write shows."""
    return _(
        "The ward's figures for %(year)s are signed off; a province administrator must "
        "reopen them first."
    ) % {"year": year}


# --- the transition table ---------------------------------------------------------------------

UNDECIDED = (State.REGISTERED, State.SUBMITTED, State.EVALUATED)
DECIDED = (State.APPROVED, State.REJECTED, State.RECOGNIZED)


@dataclass(frozen=True)
class Move:
    """One kind of move: the states it may start from and where it may lead."""

    name: str
    sources: tuple[str | None, ...]
    targets: tuple[str, ...]
    action: str


REGISTER = Move("register", (None,), (State.REGISTERED,), Action.REGISTER)
SUBMIT = Move("submit", (State.REGISTERED,), (State.SUBMITTED,), Action.STATE)
# New evidence hands a registration (back) over for evaluation; evidence cleared takes it back.
EVIDENCE = Move("evidence", UNDECIDED, (State.SUBMITTED, State.REGISTERED), Action.EVIDENCE)
SELF_ASSESS = Move("self", UNDECIDED, (State.SUBMITTED, State.REGISTERED), Action.SELF_ASSESSMENT)
EVALUATE = Move("evaluate", UNDECIDED, (State.EVALUATED,), Action.EVALUATE)
APPROVE = Move("approve", (State.EVALUATED,), (State.APPROVED,), Action.STATE)
REJECT = Move("reject", (*UNDECIDED, State.APPROVED), (State.REJECTED,), Action.STATE)
RECOGNISE = Move("recognise", (State.APPROVED,), (State.RECOGNIZED,), Action.STATE)
# Files: a new registration with its evidence or its historical outcome; an undecided one
# updated with new evidence or given its historical outcome.
IMPORT = Move(
    "import",
    (None, *UNDECIDED),
    (State.REGISTERED, State.SUBMITTED, State.REJECTED, State.RECOGNIZED),
    Action.IMPORT,
)
# Moves that leave the state as it is and only record what happened.
NOTE_OVERRIDE = Move("override", (State.EVALUATED,), (State.EVALUATED,), Action.OVERRIDE)
NOTE_CONFIRM = Move("confirm", UNDECIDED, UNDECIDED, Action.CONFIRM)

MOVES = (REGISTER, SUBMIT, EVIDENCE, SELF_ASSESS, EVALUATE, APPROVE, REJECT, RECOGNISE, IMPORT,
         NOTE_OVERRIDE, NOTE_CONFIRM)  # fmt: skip


def evidence_target(evidence: dict) -> str:
    """Where entering `evidence` takes an undecided registration: with some, it is submitted
    for evaluation; with none, it waits as registered."""
    return State.SUBMITTED if evidence else State.REGISTERED


def _allowed(move: Move, from_state: str | None, to_state: str) -> None:
    if from_state not in move.sources or to_state not in move.targets:
        if from_state is None:
            raise WorkflowError(_("A registration cannot be created in this state."))
        raise WorkflowError(
            _("A registration in state “%(state)s” cannot be moved to “%(to)s”.")
            % {"state": State(from_state).label, "to": State(to_state).label}
        )


# --- the freeze -------------------------------------------------------------------------------


def ward_year_frozen(*, ward_id: int, year: int) -> bool:
    """Whether the ward's figures for `year` are signed off (and not reopened since)."""
    newest = WardSignOff.objects.filter(ward_id=ward_id, year=year).order_by("-pk")
    return newest.values_list("action", flat=True).first() == WardSignOff.Action.SIGN_OFF


def ward_year_lock_frozen(*, ward_id: int, year: int) -> bool:
    """Lock the ward's row for the rest of the transaction and say whether `year` is frozen.

    Callers must be inside a transaction: the lock is what makes the answer hold until they
    commit. The lock and the read are two statements on purpose: under READ COMMITTED a
    statement reads the data committed when it started, so a read folded into the locking
    statement would miss the sign-off committed by the transaction it waited for. The lock is
    FOR NO KEY UPDATE: it queues behind the roll-up refresh's lock and other sign-off checks, but
    not behind transactions that merely insert rows referring to the ward.
    """
    locking = AdministrativeUnit.objects.select_for_update(no_key=True).filter(pk=ward_id)
    list(locking.values_list("pk"))
    return ward_year_frozen(ward_id=ward_id, year=year)


def check_not_frozen(*, ward_id: int, year: int) -> None:
    """Refuse any write to a ward-year whose figures are signed off (`YearFrozen`)."""
    if ward_year_lock_frozen(ward_id=ward_id, year=year):
        raise YearFrozen(year)


def frozen_ward_ids(*, year: int) -> set[int]:
    """Ids of the wards (any province) whose `year` is signed off and not reopened since."""
    newest = (
        WardSignOff.objects.filter(ward_id=OuterRef("ward_id"), year=year)
        .order_by("-pk")
        .values("pk")[:1]
    )
    return set(
        WardSignOff.objects.filter(year=year)
        .annotate(newest=Subquery(newest))
        .filter(pk=F("newest"), action=WardSignOff.Action.SIGN_OFF)
        .values_list("ward_id", flat=True)
    )


def _check_wards(pairs: Iterable[tuple[int, int]]) -> None:
    for ward_id, year in sorted(set(pairs)):
        check_not_frozen(ward_id=ward_id, year=year)


# --- one registration -------------------------------------------------------------------------


def _event(registration: Registration, move: Move, from_state, to_state, user, reason, detail):
    return RegistrationEvent(
        registration=registration,
        action=move.action,
        from_state=from_state or "",
        to_state=to_state,
        reason=reason,
        user=user,
        detail=detail or {},
    )


@transaction.atomic
def registration_move(
    *,
    registration: Registration,
    move: Move,
    to_state: str | None = None,
    user,
    reason: str = "",
    changes: dict | None = None,
    detail: dict | None = None,
) -> Registration:
    """Apply `move` to `registration` if it is still in the state and version it was read in.

    `to_state` defaults to the move's only target (a note keeps the state); `changes` are
    further fields written with the move (evidence, decision, rejection reason…).
    """
    from_state = registration.state
    if to_state is None:
        notes = (Action.OVERRIDE, Action.CONFIRM)
        to_state = from_state if move.action in notes else move.targets[0]
    try:
        _allowed(move, from_state, to_state)
    except WorkflowError:
        stored = Registration.objects.filter(pk=registration.pk).values_list("version", flat=True)
        if stored.first() != registration.version:
            raise ConcurrentChange() from None  # the page showed a state that has moved on
        raise
    check_not_frozen(ward_id=registration.ward_id, year=registration.year)
    updates = {
        **(changes or {}),
        "state": to_state,
        "version": F("version") + 1,
        "updated_at": timezone.now(),
    }
    changed = Registration.objects.filter(
        pk=registration.pk, version=registration.version, state=from_state
    ).update(**updates)
    if changed != 1:
        raise ConcurrentChange()
    _event(registration, move, from_state, to_state, user, reason, detail).save()
    registration.refresh_from_db()
    return registration


@transaction.atomic
def registrations_create(
    *,
    registrations: Sequence[Registration],
    user,
    move: Move = REGISTER,
    states: Sequence[str] | None = None,
    details: Sequence[dict] | None = None,
) -> list[Registration]:
    """Create new registrations (unsaved instances) in `states` (default: each move's first
    target), with their events; `details` gives each event's detail, in the same order."""
    states = list(states) if states is not None else [move.targets[0]] * len(registrations)
    for registration, state in zip(registrations, states, strict=True):
        _allowed(move, None, state)
        registration.state = state
    _check_wards((r.ward_id, r.year) for r in registrations)
    _copy_sort_keys(registrations)
    created = Registration.objects.bulk_create(registrations, batch_size=1000)
    # An entity registered for a year existed in it: the year counts it.
    for year in sorted({r.year for r in created}):
        entities_count_in(entity_ids=[r.entity_id for r in created if r.year == year], year=year)
    details = list(details) if details is not None else [{}] * len(created)
    RegistrationEvent.objects.bulk_create(
        [
            _event(r, move, None, r.state, user, "", detail)
            for r, detail in zip(created, details, strict=True)
        ],
        batch_size=1000,
    )
    return created


_LOOKUP_BATCH = 5000  # ids per query: well under SQLite's limit of bound parameters


def _copy_sort_keys(registrations: Sequence[Registration]) -> None:
    """Each new registration repeats its entity's sort key, the lists' order (one query per
    5,000 registrations whose entity was not loaded with them)."""
    entity_field = Registration._meta.get_field("entity")
    missing = []
    for registration in registrations:
        if entity_field.is_cached(registration):
            registration.sort_key = registration.entity.sort_key
        else:
            missing.append(registration)
    keys: dict[int, str] = {}
    for ids in batched(sorted({r.entity_id for r in missing}), _LOOKUP_BATCH):
        keys.update(Entity.objects.filter(pk__in=ids).values_list("pk", "sort_key"))
    for registration in missing:
        registration.sort_key = keys.get(registration.entity_id, "")


@dataclass
class Change:
    """A registration whose fields were changed in memory, the state it is to move to, and
    its event's detail."""

    registration: Registration
    to_state: str
    detail: dict


@transaction.atomic
def registrations_update(
    *, changes: Sequence[Change], fields: Sequence[str], user, move: Move = IMPORT
) -> None:
    """Write registrations changed in memory (`fields`) moving each to its `to_state`, with
    their events. The caller (an import) read the rows under lock, so no version check is
    needed; `version` and `updated_at` are the caller's to set among `fields`."""
    moves = []
    for change in changes:
        from_state = change.registration.state
        _allowed(move, from_state, change.to_state)
        moves.append(from_state)
    _check_wards((c.registration.ward_id, c.registration.year) for c in changes)
    for change in changes:
        change.registration.state = change.to_state
    Registration.objects.bulk_update(
        [change.registration for change in changes], [*fields, "state"], batch_size=500
    )
    RegistrationEvent.objects.bulk_create(
        [
            _event(c.registration, move, from_state, c.to_state, user, "", c.detail)
            for c, from_state in zip(changes, moves, strict=True)
        ],
        batch_size=500,
    )


# --- bulk loads -------------------------------------------------------------------------------


def loaded(state: str) -> dict[str, str]:
    """The state field of a registration bulk-loaded (demonstration data) in `state`: any
    state an import may create a registration in."""
    _allowed(IMPORT, None, state)
    return {"state": state}


def registrations_record_loaded(*, province_id: int, reason: str, at) -> None:
    """One `import` event for every registration of a province just bulk-loaded, in one
    statement (the province had none before the load). `at` is as the database takes it."""
    events = RegistrationEvent._meta.db_table
    registrations = Registration._meta.db_table
    sql = (
        f"INSERT INTO {events} "  # noqa: S608 - table names from the models only
        "(registration_id, action, from_state, to_state, reason, detail, user_id, at) "
        f"SELECT r.id, %s, '', r.state, %s, '{{}}', NULL, %s FROM {registrations} r "
        "WHERE r.province_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [Action.IMPORT, reason, at, province_id],
        )


# --- evaluation: one statement per chunk ------------------------------------------------------

LINES = "string_to_array(%s, E'\\n')"
"""An array parameter as one text of lines: joining strings is much cheaper than having the
driver quote each element of a list. Every value sent this way is free of raw line breaks
(numbers, codes, digests, and canonical JSON texts, in which JSON escapes them)."""

_WRITE_POSTGRESQL = f"""
    WITH v AS (
        SELECT * FROM unnest(
            CAST({LINES} AS bigint[]), CAST({LINES} AS integer[]),
            CAST({LINES} AS bigint[]), CAST({LINES} AS numeric[]),
            CAST({LINES} AS boolean[]), CAST({LINES} AS boolean[]), {LINES}, {LINES}
        ) AS v(id, version, evaluation_id, points, passed, outstanding, from_state, detail)
    ), written AS (
        UPDATE titles_registration AS r SET
            state = %s,
            points = v.points,
            passed = v.passed,
            eval_outstanding = v.outstanding,
            evaluation_id = v.evaluation_id,
            evaluated_at = %s,
            updated_at = %s,
            version = r.version + 1
        FROM v
        WHERE r.id = v.id AND r.version = v.version
            AND NOT (r.state = %s AND r.evaluation_id IS NOT DISTINCT FROM v.evaluation_id)
        RETURNING r.id
    ), events AS (
        INSERT INTO titles_registrationevent
            (registration_id, action, from_state, to_state, reason, detail, user_id, at)
        SELECT v.id, %s, v.from_state, %s, '', CAST(v.detail AS jsonb), %s, %s
        FROM v JOIN written ON written.id = v.id
        ORDER BY v.id
    )
    SELECT id FROM written
"""  # noqa: S608 - only the fixed LINES is interpolated

_UPDATE_SQLITE = """
    UPDATE titles_registration AS r SET
        state = %s,
        points = v.points,
        passed = v.passed,
        eval_outstanding = v.outstanding,
        evaluation_id = v.evaluation_id,
        evaluated_at = %s,
        updated_at = %s,
        version = r.version + 1
    FROM (
        SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS version,
            json_extract(value, '$[2]') AS evaluation_id, json_extract(value, '$[3]') AS points,
            json_extract(value, '$[4]') AS passed, json_extract(value, '$[5]') AS outstanding
        FROM json_each(%s)
    ) AS v
    WHERE r.id = v.id AND r.version = v.version
        AND NOT (r.state = %s AND r.evaluation_id IS v.evaluation_id)
    RETURNING id
"""

_EVENTS_SQLITE = """
    INSERT INTO titles_registrationevent
        (registration_id, action, from_state, to_state, reason, detail, user_id, at)
    SELECT json_extract(value, '$[0]'), %s, json_extract(value, '$[1]'), %s, '',
        json_extract(value, '$[2]'), %s, %s
    FROM json_each(%s)
    ORDER BY 1
"""


def registrations_record_evaluations(rows: Sequence[tuple], *, now, user) -> set[int]:
    """Move evaluated registrations to `evaluated` with their results, in one statement.

    `rows`: (id, version as read, state as read, result id, points text, passed, outstanding,
    event detail as JSON text). A row is written, with its `evaluate` event, only if it still
    has the version it was read with and the result differs from the one stored. Returns the
    ids written. The caller (the evaluation) reads only undecided registrations of wards not
    signed off; the database guard refuses the chunk if a sign-off committed meanwhile.
    """
    if not rows:
        return set()
    for row in rows:
        _allowed(EVALUATE, row[2], State.EVALUATED)
    now = connection.ops.adapt_datetimefield_value(now)
    user_id = user.pk if user is not None else None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            lines = "\n".join
            cursor.execute(
                _WRITE_POSTGRESQL,
                [
                    lines([str(r[0]) for r in rows]),
                    lines([str(r[1]) for r in rows]),
                    lines([str(r[3]) for r in rows]),
                    lines([r[4] for r in rows]),
                    lines(["t" if r[5] else "f" for r in rows]),
                    lines(["t" if r[6] else "f" for r in rows]),
                    lines([r[2] for r in rows]),
                    lines([r[7] for r in rows]),
                    State.EVALUATED,
                    now,
                    now,
                    State.EVALUATED,
                    Action.EVALUATE,
                    State.EVALUATED,
                    user_id,
                    now,
                ],
            )
            return {row[0] for row in cursor.fetchall()}
        payload = json.dumps([(r[0], r[1], r[3], r[4], r[5], r[6]) for r in rows])
        cursor.execute(_UPDATE_SQLITE, [State.EVALUATED, now, now, payload, State.EVALUATED])
        written = {row[0] for row in cursor.fetchall()}
        if written:
            events = json.dumps(
                [(r[0], r[2], json.loads(r[7])) for r in rows if r[0] in written],
                ensure_ascii=False,
            )
            cursor.execute(_EVENTS_SQLITE, [Action.EVALUATE, State.EVALUATED, user_id, now, events])
        return written


# --- what is ready for evaluation -------------------------------------------------------------

HAS_EVIDENCE = ~Q(evidence={})
"""A registration whose evidence was entered (a ward's counts record it as `has_evidence`)."""


def _ready(has_evidence: Q) -> Q:
    return Q(state__in=(State.SUBMITTED, State.EVALUATED)) | (
        Q(state=State.REGISTERED) & has_evidence
    )


READY = _ready(HAS_EVIDENCE)
"""Registrations the evaluation takes: submitted ones (evidence entered, imported with
evidence, or handed over by staff), evaluated ones (their result is refreshed when a share or
an override changed; an unchanged result writes nothing), and registered ones that already
hold evidence. A registration without evidence waits as registered: not yet submitted."""
NOT_SUBMITTED = Q(state=State.REGISTERED) & ~HAS_EVIDENCE
# The same two over a ward's counts (`RegistrationCount`, whose `has_evidence` is HAS_EVIDENCE).
READY_COUNTED = _ready(Q(has_evidence=True))
NOT_SUBMITTED_COUNTED = Q(state=State.REGISTERED, has_evidence=False)
