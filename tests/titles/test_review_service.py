"""Review: approve, reject, override, decide — with history and optimistic concurrency."""

import datetime

import pytest

from tests.factories import make_family
from tests.titles.factories import FAMILY_DOC, load, registration
from titles.models import Override, RegistrationEvent, State
from titles.services.evaluate import registrations_evaluate
from titles.services.review import (
    ConcurrentChange,
    ReviewError,
    decision_issue,
    override_set,
    registration_approve,
    registration_reject,
    registrations_approve_passed,
)


@pytest.fixture
def evaluated(ward_a):
    load(FAMILY_DOC)
    passing = registration(make_family(ward_a, code="P").entity, evidence={"F1": "1", "F2": "2"})
    failing = registration(make_family(ward_a, code="N").entity, evidence={"F2": "5"})
    registrations_evaluate(year=2025)
    passing.refresh_from_db()
    failing.refresh_from_db()
    return passing, failing


def test_approve_only_what_passed(evaluated, bob):
    passing, failing = evaluated
    registration_approve(registration=passing, user=bob)
    with pytest.raises(ReviewError):
        registration_approve(registration=failing, user=bob)
    assert passing.state == State.APPROVED
    event = passing.events.get(action=RegistrationEvent.Action.STATE)
    assert (event.from_state, event.to_state, event.user) == ("evaluated", "approved", bob)


def test_reject_needs_a_reason(evaluated, bob):
    _, failing = evaluated
    with pytest.raises(ReviewError):
        registration_reject(registration=failing, user=bob, reason="  ")
    registration_reject(registration=failing, user=bob, reason="Thiếu minh chứng")
    assert failing.state == State.REJECTED
    assert failing.events.last().reason == "Thiếu minh chứng"


def test_override_reevaluates_and_is_superseded_not_deleted(evaluated, bob):
    _, failing = evaluated
    override_set(registration=failing, criterion="F1", met=True, reason="Đã xác minh", user=bob)
    failing.refresh_from_db()
    assert failing.passed is True  # 40 + 30 = 70 ≥ 50 with F1 now met
    f1 = next(c for c in failing.result["criteria"] if c["code"] == "F1")
    assert f1["overridden"] is True
    override_set(registration=failing, criterion="F1", met=False, reason="Nhầm", user=bob)
    failing.refresh_from_db()
    assert failing.passed is False
    assert Override.objects.filter(registration=failing).count() == 2
    assert Override.objects.filter(registration=failing, superseded=False).get().met is False


def test_stale_version_loses(evaluated, bob, dave):
    passing, _ = evaluated
    from titles.models import Registration

    stale = Registration.objects.get(pk=passing.pk)
    registration_approve(registration=passing, user=bob)
    with pytest.raises(ConcurrentChange):
        registration_reject(registration=stale, user=dave, reason="late")
    passing.refresh_from_db()
    assert passing.state == State.APPROVED


def test_bulk_approve_and_decision(evaluated, bob, ward_a):
    passing, failing = evaluated
    approved, skipped = registrations_approve_passed(user=bob, ward=ward_a, year=2025)
    assert (approved, skipped) == (1, 0)
    passing.refresh_from_db()
    decision = decision_issue(
        user=bob,
        ward=ward_a,
        year=2025,
        number="12/QĐ-UBND",
        date=datetime.date(2025, 12, 10),
        registrations=[passing],
    )
    passing.refresh_from_db()
    assert passing.state == State.RECOGNIZED and passing.decision == decision
    with pytest.raises(ReviewError):
        decision_issue(
            user=bob,
            ward=ward_a,
            year=2025,
            number="12/QĐ-UBND",
            date=datetime.date(2025, 12, 10),
            registrations=[failing],
        )
