"""Evaluate now, approve what passed and issuing a decision as background jobs (run in-process
here): the confirmed POST starts a job owned by the user and scoped to the ward and sends them
to its page; the job does the action all or nothing (a failure half-way leaves nothing
written and the job says it failed), checks the signed-off year itself, and only its owner
sees its page."""

import pytest
from django.urls import reverse

from jobs import services as jobs
from jobs.models import Job
from registry.models import Role
from tests.factories import make_family, make_user
from tests.titles.factories import FAMILY_DOC, load, registration
from tests.titles.job_pages import job_errors, job_links, job_notes, job_page
from titles import jobs as titles_jobs
from titles.models import Decision, Registration, RegistrationEvent, State
from titles.services import evaluate, review
from titles.services.signoff import ward_sign_off

YEAR = 2025
PASSING = {"F1": "1", "F2": "2"}
QUEUE = f"/titles/review/?ward=00070&year={YEAR}&kind=family"


@pytest.fixture
def ready(ward_a):
    """Three households of ward A whose evidence passes, submitted for evaluation."""
    load(FAMILY_DOC)
    return [
        registration(make_family(ward_a, code=f"H{n}").entity, evidence=PASSING) for n in range(3)
    ]


def _snapshot() -> tuple:
    return (
        sorted(Registration.objects.values_list("pk", "state", "version", "passed")),
        RegistrationEvent.objects.count(),
        Decision.objects.count(),
    )


def _evaluate(client):
    data = {"ward": "00070", "year": YEAR, "confirmed": "1", "next": QUEUE}
    return client.post(reverse("ward_evaluate"), data)


def _approve(client):
    data = {"ward": "00070", "year": YEAR, "scope": "all", "confirmed": "1", "next": QUEUE}
    return client.post(reverse("review_approve_passed"), data)


def _issue(client, regs):
    url = f"{reverse('decision_create')}?ward=00070&year={YEAR}"
    data = {
        "number": "7/QĐ",
        "date": f"{YEAR}-12-10",
        "registrations": [r.pk for r in regs],
        "confirmed": "1",
        "next": QUEUE,
    }
    return client.post(url, data)


def _approved(regs, bob):
    evaluate.registrations_evaluate(year=YEAR)
    review.registrations_approve_passed(user=bob, ward=regs[0].ward, year=YEAR)
    return [Registration.objects.get(pk=r.pk) for r in regs]


def test_evaluate_now_runs_as_the_officials_job_and_reports_its_progress(
    client, bob, ward_a, ready
):
    client.force_login(bob)
    page = job_page(client, _evaluate(client))
    job = Job.objects.get()
    assert (job.kind, job.owner, job.scope_id) == (titles_jobs.EVALUATE, bob, ward_a.pk)
    assert (job.done, job.total) == (3, 3)
    assert job_notes(page) == ["Evaluated 3 registrations: 3 passed."]
    assert job_links(page) == [QUEUE]
    assert set(Registration.objects.values_list("state", flat=True)) == {State.EVALUATED}
    progress = client.get(reverse("job_progress", args=[job.pk])).json()
    assert progress["finished"] and progress["percent"] == 100


def test_approve_and_issue_as_jobs(client, bob, ward_a, ready):
    evaluate.registrations_evaluate(year=YEAR)
    client.force_login(bob)
    page = job_page(client, _approve(client))
    assert job_notes(page) == ["Approved 3 registrations."]
    assert Job.objects.get(kind=titles_jobs.APPROVE_PASSED).done == 3
    assert set(Registration.objects.values_list("state", flat=True)) == {State.APPROVED}

    page = job_page(client, _issue(client, ready[:2]))
    decision = Decision.objects.get()
    assert job_links(page) == [reverse("decision_detail", args=[decision.pk]), QUEUE]
    assert job_notes(page) == ["Decision 7/QĐ issued: 2 registrations recognised."]
    job = Job.objects.get(kind=titles_jobs.DECISION)
    assert (job.done, job.total, job.scope_id) == (2, 2, ward_a.pk)
    states = sorted(Registration.objects.values_list("state", flat=True))
    assert states == [State.APPROVED, State.RECOGNIZED, State.RECOGNIZED]


def test_only_the_owner_sees_the_job(client, bob, ward_a, ready):
    client.force_login(bob)
    _evaluate(client)
    job = Job.objects.get()
    colleague = make_user("bao", Role.OFFICIAL, ward_a)
    for user in (colleague, make_user("dung", Role.ADMIN, None)):
        client.force_login(user)
        assert client.get(reverse("job_status", args=[job.pk])).status_code == 404
        assert client.get(reverse("job_progress", args=[job.pk])).status_code == 404


def test_evaluate_failing_half_way_writes_nothing(client, bob, ready, monkeypatch):
    monkeypatch.setattr(evaluate, "CHUNK", 1)  # a chunk at a time, each committed on its own
    calls = []
    real = evaluate.record_bulk

    def second_chunk_breaks(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluate, "record_bulk", second_chunk_breaks)
    before = _snapshot()
    client.force_login(bob)
    page = job_page(client, _evaluate(client), state=Job.State.FAILED)
    assert len(calls) == 2  # the first chunk was written, then undone with the rest
    assert _snapshot() == before
    assert job_errors(page) == ["The job stopped because of an error in the application."]
    assert job_links(page) == [QUEUE]


def test_approve_failing_at_its_last_step_writes_nothing(client, bob, ready, monkeypatch):
    evaluate.registrations_evaluate(year=YEAR)

    def broken(*args, **kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(review, "record_bulk", broken)
    before = _snapshot()
    client.force_login(bob)
    job_page(client, _approve(client), state=Job.State.FAILED)
    assert _snapshot() == before


def test_a_decision_failing_at_its_last_step_issues_nothing(client, bob, ready, monkeypatch):
    regs = _approved(ready, bob)

    def broken(**kwargs):
        raise RuntimeError("numbering failed")

    monkeypatch.setattr(review, "certificates_number", broken)
    before = _snapshot()
    client.force_login(bob)
    job_page(client, _issue(client, regs), state=Job.State.FAILED)
    assert _snapshot() == before
    assert not Decision.objects.exists()


@pytest.mark.parametrize("kind", [titles_jobs.EVALUATE, titles_jobs.APPROVE_PASSED])
def test_a_year_signed_off_before_the_job_runs_is_refused_by_the_job(
    client, bob, ward_a, ready, kind
):
    evaluate.registrations_evaluate(year=YEAR)
    Registration.objects.filter(pk=ready[0].pk).update(state=State.SUBMITTED)
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    before = _snapshot()
    job = jobs.start(
        kind=kind, user=bob, args={"ward": "00070", "year": YEAR, "back": QUEUE}, scope_id=ward_a.pk
    )
    assert job.state == Job.State.FAILED
    assert job.errors == [
        f"The ward's figures for {YEAR} are signed off; a province administrator must reopen "
        "them first."
    ]
    assert _snapshot() == before


def test_a_decision_in_a_year_signed_off_meanwhile_is_refused_by_the_job(bob, ward_a, ready):
    regs = _approved(ready, bob)
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    before = _snapshot()
    args = {
        "ward": "00070",
        "year": YEAR,
        "number": "8/QĐ",
        "date": f"{YEAR}-12-10",
        "registrations": [r.pk for r in regs],
    }
    job = jobs.start(kind=titles_jobs.DECISION, user=bob, args=args, scope_id=ward_a.pk)
    assert job.state == Job.State.FAILED
    assert "signed off" in job.errors[0]
    assert _snapshot() == before


def test_a_confirmed_action_in_a_signed_off_year_starts_no_job(client, bob, ward_a, ready):
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    client.force_login(bob)
    response = _evaluate(client)
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert not Job.objects.exists()
