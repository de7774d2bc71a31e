"""Each distinct criterion outcome and each distinct result is stored once; registrations read
their result exactly as `evaluation.evaluate` explains it.

A result is its criteria set (row and version) and its criteria's outcomes: equal evidence
shares one `EvaluationResult` row, every criterion's entry is one `CriterionOutcome` row
shared by every result that has it, and `Registration.result` puts them back together.
Migrations 0004 and 0006 move results stored the old ways without changing what anyone sees,
and a re-evaluation that finds the same result afterwards still writes nothing.
"""

import contextlib
import json
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from tests.factories import make_family
from tests.titles.factories import FAMILY_DOC, load, registration
from titles.models import (
    CriteriaSet,
    CriterionOutcome,
    EvaluationResult,
    Override,
    Registration,
    RegistrationEvent,
    State,
)
from titles.rules import evaluation
from titles.services import evaluate as service
from titles.services.criteria import criteria_load, parsed
from titles.services.evaluate import (
    canonical_text,
    registration_reevaluate,
    registrations_evaluate,
    result_digest,
    result_json,
)

LATEST = None  # the latest migrations


def fresh_result(criteria_set: CriteriaSet, stored: dict, overrides=None) -> dict:
    """The result as `evaluation.evaluate` gives it, in its explained form, with no memo."""
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


def digest_of(criteria_set: CriteriaSet, result: dict) -> str:
    return result_digest(
        criteria_set_id=criteria_set.pk,
        criteria_digest=criteria_set.digest,
        outcome_digests=[service._sha256(canonical_text(c)) for c in result["criteria"]],
    )


def test_equal_results_share_one_row_and_read_as_evaluate_explains(ward_a, bob):
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
        # Submitted (the one without evidence too): ready for evaluation.
        registration(make_family(ward_a, code=f"F{i}").entity, evidence=ev, state=State.SUBMITTED)
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
        assert reg.evaluation.digest == digest_of(criteria_set, reg.result)
        assert reg.evaluation.criteria_set_id == criteria_set.pk
        assert reg.evaluation.criteria_digest == criteria_set.digest
    ids = [reg.evaluation_id for reg in regs]
    assert ids[0] == ids[1] == ids[2]
    assert len(set(ids)) == 4 == EvaluationResult.objects.count()
    assert regs[3].result["points"] == "95.0" and regs[0].result["points"] == "95"
    assert regs[5].result["criteria"][0]["overridden"] is True
    # Every criterion entry of every result is one outcome row, stored once.
    entries = {canonical_text(c) for reg in regs for c in reg.result["criteria"]}
    assert {
        canonical_text(body) for body in CriterionOutcome.objects.values_list("body", flat=True)
    } == entries
    assert CriterionOutcome.objects.count() == len(entries)


def test_a_stored_body_is_the_canonical_text_of_the_totals_and_outcome_ids(ward_a):
    load(FAMILY_DOC)
    reg = registration(
        make_family(ward_a, code="F1").entity, evidence={"F1": "0", "F2": "3", "F3": "12,5"}
    )
    registrations_evaluate(year=2025)
    reg.refresh_from_db()
    body = reg.evaluation.body
    assert set(body) == {
        "criteria", "points", "max_points", "passed", "outstanding", "missing", "failed_required"
    }  # fmt: skip
    assert body["failed_required"] == ["F1"] and body["points"] == "42.5"
    assert all(isinstance(pk, int) for pk in body["criteria"])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT body FROM titles_evaluationresult WHERE id = %s", [reg.evaluation_id]
        )
        (stored,) = cursor.fetchone()
    assert canonical_text(json.loads(stored) if isinstance(stored, str) else stored) == (
        canonical_text(body)
    )


def test_memoised_results_equal_a_fresh_evaluation(ward_a):
    """The service composes results from memoised outcomes; for any evidence, overrides
    included, the result must be what `evaluation.evaluate` says and its digest that of its
    outcomes, or equal results would not be found."""
    criteria_set = load(FAMILY_DOC)
    rules = parsed(criteria_set)
    rng = random.Random(7)
    cells = ["1", "0", "có", "Không", "2", "2.5", "2,50", "0", "30", "31", "12.25", "", "x", 3]
    memo = service._Memo()
    for _ in range(300):
        stored = {c.code: rng.choice(cells) for c in rules.criteria if rng.random() < 0.9}
        overrides = {c.code: rng.random() < 0.5 for c in rules.criteria if rng.random() < 0.1}
        scored = memo.score(criteria_set, stored, None, overrides)
        expected = fresh_result(criteria_set, stored, overrides)
        assert [o.text for o in scored.outcomes] == [
            canonical_text(c) for c in expected["criteria"]
        ]
        assert scored.digest == digest_of(criteria_set, expected)
        assert (scored.points_text, scored.passed, scored.outstanding) == (
            expected["points"],
            expected["passed"],
            expected["outstanding"],
        )
        assert (list(scored.missing), list(scored.failed_required)) == (
            expected["missing"],
            expected["failed_required"],
        )
        ids = {o.digest: i for i, o in enumerate(scored.outcomes)}
        body = json.loads(service._result_body(scored, ids))
        assert service._result_body(scored, ids) == canonical_text(body)
        assert {**body, "criteria": expected["criteria"]} == expected


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


def test_a_changed_criteria_set_gives_another_result(ward_a):
    """The same outcomes under a new version of the set are another result: it names the
    version it was computed under."""
    criteria_set = load(FAMILY_DOC)
    reg = registration(make_family(ward_a, code="F1").entity, evidence={"F1": "1", "F2": "3"})
    registrations_evaluate(year=2025)
    reg.refresh_from_db()
    first = reg.evaluation
    criteria_load(document={**FAMILY_DOC, "name": "Gia đình học tập (sửa)"})
    criteria_set.refresh_from_db()
    registrations_evaluate(year=2025)
    reg.refresh_from_db()
    assert reg.evaluation_id != first.pk
    assert reg.evaluation.criteria_digest == criteria_set.digest != first.criteria_digest
    assert reg.result == first.explained


def test_the_registration_page_shows_the_stored_result(
    client, bob, ward_a, django_assert_max_num_queries
):
    load(FAMILY_DOC)
    reg = registration(
        make_family(ward_a, code="F1").entity, evidence={"F1": "0", "F2": "3", "F3": "12"}
    )
    registrations_evaluate(year=2025)
    client.force_login(bob)
    page = client.get(reverse("registration_detail", args=[reg.pk])).content.decode()
    assert "42 / 100" in page.replace("\xa0", " ")
    assert "Required criteria not met: F1." in page
    # The outcomes are read once however often the page consults the result.
    with django_assert_max_num_queries(40) as captured:
        client.get(reverse("registration_detail", args=[reg.pk]))
    outcome_reads = [q for q in captured if "titles_criterionoutcome" in q["sql"]]
    assert len(outcome_reads) == 1


def _migrate(executor_target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    # LATEST: every app's latest migrations, so the tests after this one find the full schema.
    executor.migrate(executor_target or executor.loader.graph.leaf_nodes())
    return executor


@pytest.mark.django_db(transaction=True)
def test_migrations_move_results_stored_in_the_row_out_unchanged(ward_a):
    """Results stored in the registration row (migration 0003) become rows of their own
    (0004), then outcomes and compact results (0006); pages read the same result, and
    re-evaluating finds it the same and writes nothing."""
    criteria_set = load(FAMILY_DOC)
    evidence = [{"F1": "1", "F2": "3", "F3": "25"}, {"F1": "có", "F2": "3", "F3": "25"}]
    evidence += [{"F1": "0", "F2": "1"}, {}]
    entities = [make_family(ward_a, code=f"F{i}").entity for i in range(len(evidence))]
    bodies = [fresh_result(criteria_set, ev) for ev in evidence[:3]]
    # The second body with its members in another order: the same result all the same.
    bodies[1] = dict(reversed(list(bodies[1].items())))

    before = [("titles", "0003_ward_signoff")]
    executor = _migrate(before)
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
                state=State.EVALUATED if evaluated else State.SUBMITTED,
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
        _migrate(LATEST)

    regs = list(Registration.objects.order_by("pk"))
    assert [reg.result for reg in regs] == [*bodies, {}]
    assert regs[0].evaluation_id == regs[1].evaluation_id
    assert regs[3].evaluation_id is None
    assert EvaluationResult.objects.count() == 2

    registrations_evaluate(year=2025)
    assert [r.version for r in Registration.objects.order_by("pk")] == [2, 2, 2, 2]
    assert EvaluationResult.objects.count() == 3  # only the submitted one was written
    assert RegistrationEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_migration_0006_splits_whole_results_by_criteria_set(ward_a):
    """A whole result (0004's form) that registrations of two criteria set versions point at
    becomes one result per version; a result nobody points at is dropped; what each
    registration shows stays the same."""
    criteria_set = load(FAMILY_DOC)
    evidence = {"F1": "1", "F2": "3", "F3": "25"}
    entities = [make_family(ward_a, code=f"F{i}").entity for i in range(3)]
    body = fresh_result(criteria_set, evidence)
    orphan = fresh_result(criteria_set, {"F1": "0"})

    before = [("titles", "0005_event_drop_redundant_index")]
    executor = _migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        old_result = apps.get_model("titles", "EvaluationResult")
        old_registration = apps.get_model("titles", "Registration")
        shared = old_result.objects.create(digest="a" * 64, body=body)
        old_result.objects.create(digest="b" * 64, body=orphan)
        for entity, version in zip(
            entities, [criteria_set.digest, criteria_set.digest, "v0"], strict=True
        ):
            old_registration.objects.create(
                entity_id=entity.pk,
                year=2025,
                kind=entity.kind,
                ward_id=entity.ward_id,
                province_id=entity.province_id,
                state=State.EVALUATED,
                evidence=evidence,
                evaluation_id=shared.pk,
                criteria_set_id=criteria_set.pk,
                criteria_digest=version,
                points=Decimal(body["points"]),
                passed=body["passed"],
                eval_outstanding=body["outstanding"],
                version=2,
            )
    finally:
        _migrate(LATEST)

    regs = list(Registration.objects.order_by("pk").select_related("evaluation"))
    assert [reg.result for reg in regs] == [body] * 3
    assert regs[0].evaluation_id == regs[1].evaluation_id != regs[2].evaluation_id
    assert [reg.evaluation.criteria_digest for reg in regs] == [criteria_set.digest] * 2 + ["v0"]
    assert regs[0].evaluation.digest == digest_of(criteria_set, body)
    assert EvaluationResult.objects.count() == 2  # the orphan is gone
    assert CriterionOutcome.objects.count() == len(body["criteria"])

    registrations_evaluate(year=2025)  # the current version: only the "v0" one is new
    assert [r.version for r in Registration.objects.order_by("pk")] == [2, 2, 3]
