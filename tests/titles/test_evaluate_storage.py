"""Each distinct evaluation result is stored once; registrations read it as before.

A registration's `result` is the explained result of `evaluation.evaluate` exactly as the
service used to store it in the registration row; equal results share one `EvaluationResult`
row; migration 0004 moves results stored the old way without changing what anyone sees, and a
re-evaluation that finds the same result afterwards still writes nothing.
"""

import contextlib
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from tests.factories import make_family
from tests.titles.factories import FAMILY_DOC, load, registration
from titles import evaluation
from titles.models import CriteriaSet, EvaluationResult, Override, Registration, State
from titles.services import evaluate as service
from titles.services.criteria import parsed
from titles.services.evaluate import (
    registration_reevaluate,
    registrations_evaluate,
    result_digest,
    result_json,
    result_text,
)


def fresh_result(criteria_set: CriteriaSet, stored: dict, overrides=None) -> dict:
    """The result as `evaluation.evaluate` gives it, in the stored form, with no memo."""
    rules = parsed(criteria_set)
    evidence = {}
    for criterion in rules.criteria:
        if stored.get(criterion.code) is not None:
            with contextlib.suppress(evaluation.EvidenceError):
                evidence[criterion.code] = evaluation.parse_evidence(
                    criterion, stored[criterion.code]
                )
    result = evaluation.evaluate(rules, evidence, {}, overrides or {})
    return result_json(result, (overrides or {}).keys())


def test_equal_results_share_one_row_and_read_as_before(ward_a, bob):
    criteria_set = load(FAMILY_DOC)
    evidence = [
        {"F1": "1", "F2": "3", "F3": "25"},
        {"F1": "có", "F2": "3", "F3": "25"},  # same evidence, spelled otherwise
        {"F3": "25", "F2": "3", "F1": "yes"},  # and entered in another order
        {"F1": "1", "F2": "3", "F3": "25.0"},  # same value, another form: another result
        {"F1": "0", "F2": "2,5", "F3": "40"},
        {},
    ]
    regs = [
        registration(make_family(ward_a, code=f"F{i}").entity, evidence=ev)
        for i, ev in enumerate(evidence)
    ]
    Override.objects.create(
        registration=regs[5], criterion="F1", met=True, reason="Đã xác minh", user=bob
    )
    registrations_evaluate(year=2025)

    for reg, ev in zip(regs, evidence, strict=True):
        reg.refresh_from_db()
        overrides = {"F1": True} if reg.pk == regs[5].pk else {}
        assert reg.result == fresh_result(criteria_set, ev, overrides)
        assert reg.evaluation.digest == result_digest(result_text(reg.result))
    ids = [reg.evaluation_id for reg in regs]
    assert ids[0] == ids[1] == ids[2]
    assert len(set(ids)) == 4 == EvaluationResult.objects.count()
    assert regs[3].result["points"] == "95.0" and regs[0].result["points"] == "95"
    assert regs[5].result["criteria"][0]["overridden"] is True


def test_results_spliced_from_criteria_equal_the_canonical_text(ward_a):
    """The service builds each result's text from its criteria's texts; for any evidence it
    must be the canonical text of the whole result, or equal results would not be found."""
    criteria_set = load(FAMILY_DOC)
    rules = parsed(criteria_set)
    rng = random.Random(7)
    cells = ["1", "0", "có", "Không", "2", "2.5", "2,50", "0", "30", "31", "12.25", "", "x"]
    memo = service._Memo()
    for _ in range(300):
        stored = {c.code: rng.choice(cells) for c in rules.criteria if rng.random() < 0.9}
        overrides = {c.code: rng.random() < 0.5 for c in rules.criteria if rng.random() < 0.1}
        scored = memo.score(criteria_set, stored, None, overrides)
        expected = fresh_result(criteria_set, stored, overrides)
        assert memo.pending[scored.digest] == result_text(expected)
        assert scored.digest == result_digest(result_text(expected))
        assert (scored.points, scored.passed) == (Decimal(expected["points"]), expected["passed"])


def test_an_unevaluated_registration_has_an_empty_result(ward_a):
    reg = registration(make_family(ward_a, code="F1").entity)
    assert reg.result == {} and reg.evaluation_id is None


def test_a_new_result_points_elsewhere_and_the_old_row_stays(ward_a):
    load(FAMILY_DOC)
    reg = registration(make_family(ward_a, code="F1").entity, evidence={"F1": "1", "F2": "3"})
    registrations_evaluate(year=2025)
    reg.refresh_from_db()
    first = reg.evaluation_id
    Registration.objects.filter(pk=reg.pk).update(evidence={"F1": "1", "F2": "1"})
    reg.refresh_from_db()
    registration_reevaluate(registration=reg)
    reg.refresh_from_db()
    assert reg.evaluation_id != first and reg.points == Decimal("40")
    assert EvaluationResult.objects.filter(pk=first).exists()


def test_the_registration_page_shows_the_stored_result(client, bob, ward_a):
    load(FAMILY_DOC)
    reg = registration(
        make_family(ward_a, code="F1").entity, evidence={"F1": "0", "F2": "3", "F3": "12"}
    )
    registrations_evaluate(year=2025)
    client.force_login(bob)
    page = client.get(reverse("registration_detail", args=[reg.pk])).content.decode()
    assert "42 / 100" in page.replace("\xa0", " ")
    assert "Required criteria not met: F1." in page


@pytest.mark.django_db(transaction=True)
def test_migration_moves_stored_results_out_unchanged(ward_a):
    """Results stored in the registration row (migration 0003) become rows of their own;
    pages read the same result, and re-evaluating finds it the same and writes nothing."""
    criteria_set = load(FAMILY_DOC)
    evidence = [{"F1": "1", "F2": "3", "F3": "25"}, {"F1": "có", "F2": "3", "F3": "25"}]
    evidence += [{"F1": "0", "F2": "1"}, {}]
    entities = [make_family(ward_a, code=f"F{i}").entity for i in range(len(evidence))]
    bodies = [fresh_result(criteria_set, ev) for ev in evidence[:3]]
    # The second body with its members in another order: the same result all the same.
    bodies[1] = dict(reversed(list(bodies[1].items())))

    before, after = [("titles", "0003_ward_signoff")], [("titles", "0004_evaluation_results")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("titles", "Registration")
        for entity, ev, body in zip(entities, evidence, [*bodies, {}], strict=True):
            evaluated = bool(body)
            old.objects.create(
                entity_id=entity.pk,
                year=2025,
                kind=entity.kind,
                ward_id=entity.ward_id,
                province_id=entity.province_id,
                state=State.EVALUATED if evaluated else State.REGISTERED,
                evidence=ev,
                result=body,
                criteria_set_id=criteria_set.pk if evaluated else None,
                criteria_digest=criteria_set.digest if evaluated else "",
                points=Decimal(body["points"]) if evaluated else None,
                passed=body["passed"] if evaluated else None,
                eval_outstanding=body["outstanding"] if evaluated else None,
                version=2 if evaluated else 1,
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)

    regs = list(Registration.objects.order_by("pk"))
    assert [reg.result for reg in regs] == [*bodies, {}]
    assert regs[0].evaluation_id == regs[1].evaluation_id
    assert regs[3].evaluation_id is None
    assert EvaluationResult.objects.count() == 2

    registrations_evaluate(year=2025)
    assert [r.version for r in Registration.objects.order_by("pk")] == [2, 2, 2, 2]
    assert EvaluationResult.objects.count() == 3  # only the registered one was written
