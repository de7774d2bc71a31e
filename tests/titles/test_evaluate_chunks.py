"""The evaluation service gives the same results whatever its chunk size and its memo.

Results are compared with those of each registration evaluated on its own (a run of one row,
so nothing is reused from another registration), and a row changed by someone else between
the read and the write is left out and counted.
"""

import pytest
from django.db.models import F

from tests.factories import make_clan, make_community, make_family
from tests.titles.factories import CLAN_DOC, FAMILY_DOC, load, registration
from titles.models import Override, Registration, RegistrationEvent, State
from titles.services import evaluate as service
from titles.services.evaluate import registration_reevaluate, registrations_evaluate

# Evidence as staff type it: several households share a pattern, some spelled differently
# ("1"/"có", "2.5"/"2,5") and some equal in value but not in form ("25" and "25.0" print
# differently in a result, so they must not share one).
EVIDENCE = [
    {"F1": "1", "F2": "3", "F3": "25"},
    {"F1": "có", "F2": "3", "F3": "25"},
    {"F1": "1", "F2": "3", "F3": "25.0"},
    {"F1": "1", "F2": "3", "F3": "25"},
    {"F1": "0", "F2": "3", "F3": "25"},
    {"F1": "1", "F2": "2.5", "F3": "12"},
    {"F1": "1", "F2": "2,5", "F3": "12"},
    {"F1": "1", "F3": "40"},
    {},
    {"F1": "1", "F2": "1", "F3": "30"},
    {"F1": "1", "F2": "3", "F3": "25"},
]


@pytest.fixture
def registrations(ward_a, bob):
    """Families (one with an override), and two clans with the same evidence but different
    shares of recognised households."""
    load(FAMILY_DOC)
    load(CLAN_DOC)
    area = make_community(ward_a, code="A1")
    regs = [
        # Submitted (the one without evidence too): ready for evaluation.
        registration(
            make_family(ward_a, code=f"F{i:02d}", community=area).entity,
            evidence=ev,
            state=State.SUBMITTED,
        )
        for i, ev in enumerate(EVIDENCE)
    ]
    Override.objects.create(
        registration=regs[3], criterion="F2", met=False, reason="Không xác minh được", user=bob
    )
    for code, recognised in (("DH1", 4), ("DH2", 1)):
        clan = make_clan(ward_a, code=code)
        for i in range(5):
            member = make_family(ward_a, code=f"{code}-{i}", community=area, clan=clan)
            registration(
                member.entity, state=State.RECOGNIZED if i < recognised else State.REJECTED
            )
        regs.append(registration(clan.entity, evidence={"C1": "1"}))
    return regs


def stored(regs) -> dict[int, tuple]:
    """What each registration stores and shows: state, totals, its result and the criteria set
    version the result was computed under."""
    rows = Registration.objects.filter(pk__in=[r.pk for r in regs]).select_related("evaluation")
    return {
        reg.pk: (
            reg.state, reg.points, reg.passed, reg.eval_outstanding, reg.result,
            reg.evaluation.criteria_set_id, reg.evaluation.criteria_digest,
        )
        for reg in rows
    }  # fmt: skip


def returned(run) -> list[tuple]:
    return [
        (r.registration_id, r.kind, r.code, r.points, r.passed, r.outstanding, r.missing,
         r.failed_required)
        for r in run.rows
    ]  # fmt: skip


def test_results_do_not_depend_on_chunk_size_or_memo(registrations, monkeypatch):
    default_run = registrations_evaluate(year=2025)
    by_default = stored(registrations)

    monkeypatch.setattr(service, "CHUNK", 3)
    monkeypatch.setattr(service, "MEMO_SIZE", 2)  # the memo fills and starts afresh often
    small_run = registrations_evaluate(year=2025)
    assert stored(registrations) == by_default
    assert returned(small_run) == returned(default_run)
    assert len(default_run.rows) == len(registrations)

    alone = []
    for reg in registrations:
        reg.refresh_from_db()
        alone += returned(registration_reevaluate(registration=reg))
    assert stored(registrations) == by_default
    assert alone == returned(default_run)

    # Three runs with the same outcome: only the first wrote (one event, one new version each).
    events = RegistrationEvent.objects.filter(action=RegistrationEvent.Action.EVALUATE)
    assert events.count() == len(registrations)
    assert set(Registration.objects.filter(pk__in=[r.pk for r in registrations]).values_list(
        "version", flat=True
    )) == {2}  # fmt: skip


def test_memo_keeps_results_that_differ_only_in_form_or_context(registrations):
    registrations_evaluate(year=2025)
    result = {pk: row[4] for pk, row in stored(registrations).items()}
    plain, spelled, decimal_form, overridden = (result[r.pk] for r in registrations[:4])
    assert plain == spelled  # "1" and "có" are the same evidence
    assert plain["points"] == "95" and decimal_form["points"] == "95.0"
    assert overridden["points"] == "65"
    assert [c["overridden"] for c in overridden["criteria"]] == [False, True, False]
    clan_high, clan_low = (result[r.pk] for r in registrations[-2:])
    assert clan_high["passed"] is True and clan_low["passed"] is False


def test_a_row_changed_between_read_and_write_is_left_out(registrations, monkeypatch):
    monkeypatch.setattr(service, "CHUNK", 3)
    changed = registrations[4]  # in the second chunk
    write_results = service._write_results

    def approved_meanwhile(evaluated, now, result_ids, user):
        if any(row.id == changed.pk for row, _scored in evaluated):
            Registration.objects.filter(pk=changed.pk).update(version=F("version") + 1)
        return write_results(evaluated, now, result_ids, user)

    monkeypatch.setattr(service, "_write_results", approved_meanwhile)
    run = registrations_evaluate(year=2025)

    assert run.changed_meanwhile == 1
    assert changed.pk not in {r.registration_id for r in run.rows}
    assert len(run.rows) == len(registrations) - 1
    changed.refresh_from_db()
    assert (changed.state, changed.points, changed.result) == (State.SUBMITTED, None, {})
    assert not changed.events.filter(action=RegistrationEvent.Action.EVALUATE).exists()
    others = Registration.objects.filter(pk__in=[r.pk for r in registrations]).exclude(
        pk=changed.pk
    )
    assert set(others.values_list("state", flat=True)) == {State.EVALUATED}
