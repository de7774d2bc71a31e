"""Two officials act on one registration at the same moment: exactly one change wins.

Runs on PostgreSQL with two real connections (one per thread): the first official's UPDATE
holds the row while the second's waits on the lock, then finds the version moved on and is
told so. SQLite serialises writers on the whole file, so the race is only meaningful on
PostgreSQL.
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from tests.factories import make_family
from tests.titles.factories import FAMILY_DOC, load, registration
from titles.models import Registration, RegistrationEvent, State
from titles.services.evaluate import registrations_evaluate
from titles.services.review import ConcurrentChange, registration_approve, registration_reject

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks and two connections"
)


@pytest.mark.django_db(transaction=True)
def test_two_officials_at_once_exactly_one_wins(ward_a, bob, dave):
    load(FAMILY_DOC)
    reg = registration(make_family(ward_a, code="F").entity, evidence={"F1": "1", "F2": "2"})
    registrations_evaluate(year=2025)
    seen_by_bob = Registration.objects.get(pk=reg.pk)
    seen_by_dave = Registration.objects.get(pk=reg.pk)
    bob_wrote, dave_waiting = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def bob_approves():
        try:
            with transaction.atomic():
                registration_approve(registration=seen_by_bob, user=bob)
                bob_wrote.set()
                dave_waiting.wait(5)
                time.sleep(0.3)  # keep the row locked while dave's UPDATE waits on it
            outcome["bob"] = "won"
        except Exception as exc:  # noqa: BLE001 - reported to the main thread
            outcome["bob"] = exc
        finally:
            connections.close_all()

    def dave_rejects():
        bob_wrote.wait(5)
        dave_waiting.set()
        try:
            registration_reject(registration=seen_by_dave, user=dave, reason="trùng")
            outcome["dave"] = "won"
        except ConcurrentChange as exc:
            outcome["dave"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=bob_approves), threading.Thread(target=dave_rejects)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert outcome["bob"] == "won"
    assert isinstance(outcome["dave"], ConcurrentChange)
    reg.refresh_from_db()
    assert reg.state == State.APPROVED
    assert not reg.events.filter(to_state=State.REJECTED).exists()
    assert RegistrationEvent.objects.filter(registration=reg, to_state=State.APPROVED).count() == 1
