"""Evaluation shared among worker processes gives what one process gives.

On PostgreSQL, `registrations_evaluate(..., workers=N)` forks N processes, each with its own
connection, and shares each title's registrations among them by the hash of their evidence.
Whatever the number of processes, the stored results, the versions, the events and the rows
returned must be exactly those of a run in one process; a failing worker is reported once
all have stopped; a caller holding a transaction gets the work done in its own process (the
workers could not see what it has not committed). Needs committed data, so these tests use
real transactions.
"""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from tests.factories import make_clan, make_community, make_family
from tests.titles.factories import CLAN_DOC, FAMILY_DOC, load, registration
from titles.models import Override, Registration, RegistrationEvent, State
from titles.services import evaluate as service
from titles.services.evaluate import EvaluationWorkerError, registrations_evaluate

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="worker processes run on PostgreSQL only"
)

CELLS = [
    {"F1": "1", "F2": "3", "F3": "25"},
    {"F1": "có", "F2": "3", "F3": "25"},
    {"F1": "1", "F2": "3", "F3": "25.0"},
    {"F1": "0", "F2": "2,5", "F3": "12"},
    {"F1": "1", "F3": "40"},
    {},
    {"F1": "không", "F2": "1", "F3": "30"},
]


@pytest.fixture
def many(ward_a, ward_b, bob):
    """Families of two wards with repeated evidence (one overridden), and clans whose shares
    differ; small chunks, and any number of registrations worth sharing out."""
    load(FAMILY_DOC)
    load(CLAN_DOC)
    regs = []
    for ward in (ward_a, ward_b):
        area = make_community(ward, code="A1")
        for i in range(30):
            family = make_family(ward, code=f"F{i:02d}", community=area)
            regs.append(  # submitted (the one without evidence too): ready for evaluation
                registration(family.entity, evidence=CELLS[i % len(CELLS)], state=State.SUBMITTED)
            )
        for c in range(3):
            clan = make_clan(ward, code=f"DH{c}")
            for i in range(4):
                member = make_family(ward, code=f"DH{c}-{i}", community=area, clan=clan)
                registration(member.entity, state=State.RECOGNIZED if i < c + 1 else State.REJECTED)
            regs.append(registration(clan.entity, evidence={"C1": "1"}))
    Override.objects.create(
        registration=regs[3], criterion="F2", met=False, reason="Không xác minh được", user=bob
    )
    return regs


@pytest.fixture
def shared_out(monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 4)
    monkeypatch.setattr(service, "PARALLEL_MIN", 1)


def snapshot(regs) -> tuple:
    rows = Registration.objects.filter(pk__in=[r.pk for r in regs]).order_by("pk")
    stored = [
        (r.pk, r.state, r.points, r.passed, r.eval_outstanding, r.evaluation_id, r.version)
        for r in rows
    ]
    events = sorted(
        RegistrationEvent.objects.filter(action=RegistrationEvent.Action.EVALUATE).values_list(
            "registration_id", "from_state", "to_state", "detail"
        )
    )
    return stored, events


def put_back(regs) -> None:
    """The registrations as they were before the first evaluation."""
    RegistrationEvent.objects.filter(action=RegistrationEvent.Action.EVALUATE).delete()
    for state in {r.state for r in regs}:  # each back to the state it was made in
        Registration.objects.filter(pk__in=[r.pk for r in regs if r.state == state]).update(
            state=state, points=None, passed=None, eval_outstanding=None,
            evaluation=None, evaluated_at=None, version=1,
        )  # fmt: skip


def returned(run) -> list[tuple]:
    return sorted(tuple(row) for row in run.rows)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_workers_store_and_return_what_one_process_does(many, shared_out):
    alone = registrations_evaluate(year=2025, workers=1)
    expected = snapshot(many)
    assert len(alone.rows) == len(many)

    for workers in (2, 3):
        put_back(many)
        run = registrations_evaluate(year=2025, workers=workers)
        assert snapshot(many) == expected
        assert returned(run) == returned(alone)
        assert (run.changed_meanwhile, run.no_criteria) == (0, {})

    # Run again with workers: every result is the same, so nothing is written.
    again = registrations_evaluate(year=2025, workers=2)
    assert snapshot(many) == expected
    assert returned(again) == returned(alone)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_each_worker_gets_a_share_and_equal_evidence_goes_to_one(many, shared_out):
    qs = Registration.objects.filter(year=2025, kind="family", state=State.SUBMITTED)
    parts = service._parts(qs.order_by("pk"), 2)
    ids = [set(part.values_list("pk", flat=True)) for part in parts]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert ids[0] | ids[1] == set(qs.values_list("pk", flat=True))
    evidence = dict(qs.values_list("pk", "evidence"))
    texts = [{json.dumps(evidence[pk], sort_keys=True) for pk in part} for part in ids]
    assert not texts[0] & texts[1]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_failing_worker_is_reported_and_leaves_no_half_written_chunk(
    many, shared_out, monkeypatch
):
    doomed = many[0].pk
    evaluate_chunk = service._evaluate_chunk

    def failing(rows, *args):
        if any(row.id == doomed for row in rows):
            raise RuntimeError("boom in a worker")
        return evaluate_chunk(rows, *args)

    monkeypatch.setattr(service, "_evaluate_chunk", failing)
    with pytest.raises(EvaluationWorkerError, match="boom in a worker"):
        registrations_evaluate(year=2025, workers=2)

    assert Registration.objects.get(pk=doomed).state == State.SUBMITTED
    evaluated = Registration.objects.filter(state=State.EVALUATED)
    events = RegistrationEvent.objects.filter(action=RegistrationEvent.Action.EVALUATE)
    assert evaluated.count() == events.count() > 0
    assert set(evaluated.values_list("pk", flat=True)) == set(
        events.values_list("registration_id", flat=True)
    )


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_work_stays_in_this_process(many, shared_out, monkeypatch):
    def no_workers(*args, **kwargs):
        raise AssertionError("worker processes started inside a transaction")

    monkeypatch.setattr(service, "_evaluate_in_parallel", no_workers)
    with transaction.atomic():
        run = registrations_evaluate(year=2025, workers=2)
    assert len(run.rows) == len(many)
    assert Registration.objects.filter(state=State.EVALUATED).count() == len(many)


@pytest.mark.django_db
def test_the_command_refuses_fewer_than_one_worker():
    with pytest.raises(CommandError, match="--workers must be 1 or more"):
        call_command("evaluate", "--year", "2025", "--workers", "0")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_workers_never_touch_the_connection_they_inherit(many, shared_out):
    """The workers are forked while this process has its session open: they must open their
    own (sharing the socket, each would read the other's answers) and leave this one working
    (closing it would end it)."""
    mine = backend_pid()
    run = registrations_evaluate(year=2025, workers=2)
    assert len(run.rows) == len(many)
    assert backend_pid() == mine
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM titles_registration WHERE state = 'evaluated'")
        assert cursor.fetchone()[0] == len(many)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]
