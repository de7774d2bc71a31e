"""The evaluation service: loads registrations, evaluates bottom-up, stores explained results."""

from decimal import Decimal

from tests.factories import make_clan, make_community, make_family
from tests.titles.factories import CLAN_DOC, FAMILY_DOC, load, registration
from titles.models import Registration, RegistrationEvent, State
from titles.services.evaluate import registrations_evaluate


def test_family_evaluated_with_explanation(ward_a):
    load(FAMILY_DOC)
    fam = make_family(ward_a, code="F1")
    reg = registration(fam.entity, evidence={"F1": "có", "F2": "3", "F3": "25"})
    run = registrations_evaluate(year=2025)
    reg.refresh_from_db()
    assert reg.state == State.EVALUATED
    assert reg.points == Decimal("95")
    assert reg.passed is True and reg.eval_outstanding is True
    assert [c["code"] for c in reg.result["criteria"]] == ["F1", "F2", "F3"]
    assert run.rows[0].code == "F1" and run.rows[0].points == Decimal("95")
    assert reg.events.filter(action=RegistrationEvent.Action.EVALUATE).count() == 1


def test_clan_share_counts_recognised_member_families(ward_a):
    load(FAMILY_DOC)
    load(CLAN_DOC)
    area = make_community(ward_a, code="A1")
    clan = make_clan(ward_a, code="DH1")
    families = [make_family(ward_a, code=f"F{i}", community=area, clan=clan) for i in range(10)]
    for fam in families[:7]:
        registration(fam.entity, state=State.RECOGNIZED)
    registration(families[7].entity, state=State.REJECTED)
    reg = registration(clan.entity, evidence={"C1": "1"})
    registrations_evaluate(year=2025)
    reg.refresh_from_db()
    share = next(c for c in reg.result["criteria"] if c["code"] == "C2")
    assert share["derived"] == {"numerator": 7, "denominator": 10}
    assert share["met"] is True
    assert reg.points == Decimal("100") and reg.passed and reg.eval_outstanding


def test_decided_registrations_are_not_touched_and_rerun_is_idempotent(ward_a):
    load(FAMILY_DOC)
    decided = registration(make_family(ward_a, code="F1").entity, state=State.RECOGNIZED)
    open_reg = registration(make_family(ward_a, code="F2").entity, evidence={"F1": "0"})
    registrations_evaluate(year=2025)
    first = registrations_evaluate(year=2025)
    decided.refresh_from_db()
    open_reg.refresh_from_db()
    assert decided.state == State.RECOGNIZED and decided.points is None
    assert open_reg.passed is False
    assert [r.failed_required for r in first.rows] == [("F1",)]


def test_no_criteria_set_leaves_registrations_unevaluated(ward_a):
    reg = registration(make_family(ward_a, code="F1").entity, state=State.SUBMITTED)
    run = registrations_evaluate(year=2025)
    reg.refresh_from_db()
    assert run.no_criteria == {"family": 1}
    assert reg.state == State.SUBMITTED


def test_stored_evidence_the_set_cannot_read_counts_as_missing(ward_a):
    """After a set is replaced, an old value may not fit its criterion: that one is missing,
    the registration is still evaluated, and so is everyone else."""
    load(FAMILY_DOC)
    odd = registration(make_family(ward_a, code="F1").entity, evidence={"F1": "1", "F2": "có"})
    fine = registration(make_family(ward_a, code="F2").entity, evidence={"F1": "1", "F2": "3"})
    run = registrations_evaluate(year=2025)
    odd.refresh_from_db()
    fine.refresh_from_db()
    assert odd.state == State.EVALUATED and "F2" in odd.result["missing"]
    assert odd.evidence["F2"] == "có"  # kept as entered
    assert fine.points == Decimal("70")
    assert len(run.rows) == 2


def test_re_evaluation_that_changes_nothing_writes_nothing(ward_a):
    """Idempotent: the second run reports the same rows but leaves versions and history as
    they were, so an official's open page stays current."""
    load(FAMILY_DOC)
    reg = registration(make_family(ward_a, code="F1").entity, evidence={"F1": "1", "F2": "3"})
    first = registrations_evaluate(year=2025)
    reg.refresh_from_db()
    version, events = reg.version, reg.events.count()
    second = registrations_evaluate(year=2025)
    reg.refresh_from_db()
    assert (reg.version, reg.events.count()) == (version, events)
    assert second.rows == first.rows and second.changed_meanwhile == 0
    # A real change is written again.
    Registration.objects.filter(pk=reg.pk).update(evidence={"F1": "1", "F2": "1"})
    registrations_evaluate(year=2025)
    reg.refresh_from_db()
    assert reg.version == version + 1 and reg.points == Decimal("40")
