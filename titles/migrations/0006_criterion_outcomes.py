"""Each criterion's outcome stored once; a result names its criteria set and its outcomes.

A stored result used to carry its whole explanation (about 2 kB of JSON, every criterion's
entry written out), and a registration named the criteria set and the version of it that its
result was computed under. Now each distinct criterion outcome is a `CriterionOutcome` row,
a result's body lists outcome ids with the totals (about 150 bytes), and the result names the
criteria set and its version itself, so a registration's evaluation is one column.

The data step rewrites every result a registration points at: its entries become outcomes
(found again by their digest when another result has them too), and the row takes the new
form under the criteria set and version its registrations were evaluated under, with the new
`result_digest`; registrations of the same result under another set or version get a row of
their own. Results no registration pointed at (an earlier evaluation's) were unreachable and
are removed. What `Registration.result` gives is exactly what it gave before. 0007 then drops
the registration's own criteria-set columns.
"""

import hashlib
import json
from collections import defaultdict

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000


def canonical_text(body: dict) -> str:
    """The service's `canonical_text`, frozen here."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def result_digest(criteria_set_id: int, criteria_digest: str, outcome_digests: list[str]) -> str:
    """The service's `result_digest`, frozen here."""
    return sha256(f"{criteria_set_id}:{criteria_digest}:{','.join(outcome_digests)}")


# While results are rewritten and the unreachable ones removed: each removal's foreign-key
# check then probes by key instead of scanning every registration (evaluation_id has no index
# otherwise: results are never deleted).
TEMPORARY_INDEX = "titles_registration_evaluation_0006"


def _delete_checked_now(schema_editor, results) -> None:
    """Delete `results`, their foreign-key checks done now, while TEMPORARY_INDEX exists
    (PostgreSQL would otherwise check at commit, by scanning every registration per row)."""
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    results.delete()
    if postgresql:
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def _repoint(schema_editor, Registration, db: str, targets: dict[int, int]) -> None:
    """Point each registration (id → result id) at its result."""
    if not targets:
        return
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE titles_registration AS r SET evaluation_id = v.evaluation_id "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, evaluation_id) "
                "WHERE r.id = v.id",
                [list(targets), list(targets.values())],
            )
        return
    by_target = defaultdict(list)
    for pk, target in targets.items():
        by_target[target].append(pk)
    for target, pks in by_target.items():
        Registration.objects.using(db).filter(pk__in=pks).update(evaluation_id=target)


def split_results(apps, schema_editor):
    """Rewrite each result a registration points at: in place for the first criteria set
    and version its registrations were evaluated under, as a new row for any other."""
    Registration = apps.get_model("titles", "Registration")
    EvaluationResult = apps.get_model("titles", "EvaluationResult")
    CriterionOutcome = apps.get_model("titles", "CriterionOutcome")
    db = schema_editor.connection.alias
    schema_editor.execute(f"CREATE INDEX {TEMPORARY_INDEX} ON titles_registration (evaluation_id)")
    outcome_ids: dict[str, int] = {}
    new_ids: dict[tuple[int, int, str], int] = {}  # (old result, set, set version) → new
    registrations = Registration.objects.using(db).filter(evaluation__isnull=False)
    last = 0
    while batch := list(
        registrations.filter(pk__gt=last)
        .order_by("pk")
        .values_list("pk", "evaluation_id", "criteria_set_id", "criteria_digest")[:BATCH]
    ):
        last = batch[-1][0]
        keys = {(old, set_id, version) for _pk, old, set_id, version in batch} - new_ids.keys()
        if any(set_id is None for _old, set_id, _version in keys):
            raise RuntimeError("a registration has a result but no criteria set; fix it first")
        olds = {old for old, _set, _version in keys}
        bodies = dict(
            EvaluationResult.objects.using(db)
            .filter(pk__in=olds, criteria_set__isnull=True)
            .values_list("pk", "body")
        )
        # A result already rewritten in an earlier batch keeps its new form; its old body is
        # that form with the outcomes in place.
        outcomes = dict(CriterionOutcome.objects.using(db).values_list("pk", "body"))
        for pk, body in (
            EvaluationResult.objects.using(db)
            .filter(pk__in=olds - bodies.keys())
            .values_list("pk", "body")
        ):
            bodies[pk] = {**body, "criteria": [outcomes[i] for i in body["criteria"]]}
        rewritten = set(new_ids.values())
        made = []
        for key in sorted(keys):
            old, set_id, version = key
            digests = []
            for entry in bodies[old]["criteria"]:
                digest = sha256(canonical_text(entry))
                if digest not in outcome_ids:
                    outcome_ids[digest] = (
                        CriterionOutcome.objects.using(db).create(digest=digest, body=entry).pk
                    )
                digests.append(digest)
            fields = {
                "digest": result_digest(set_id, version, digests),
                "criteria_set_id": set_id,
                "criteria_digest": version,
                "body": {**bodies[old], "criteria": [outcome_ids[d] for d in digests]},
            }
            if old in rewritten:
                made.append((key, EvaluationResult(**fields)))
            else:
                EvaluationResult.objects.using(db).filter(pk=old).update(**fields)
                new_ids[key] = old
                rewritten.add(old)
        EvaluationResult.objects.using(db).bulk_create([result for _key, result in made])
        new_ids.update((key, result.pk) for key, result in made)
        _repoint(
            schema_editor,
            Registration,
            db,
            {pk: new_ids[(old, s, v)] for pk, old, s, v in batch if new_ids[(old, s, v)] != old},
        )
    # Left: results no registration pointed at (an earlier evaluation's), unreachable.
    _delete_checked_now(
        schema_editor, EvaluationResult.objects.using(db).filter(criteria_set__isnull=True)
    )
    schema_editor.execute(f"DROP INDEX {TEMPORARY_INDEX}")


def join_results(apps, schema_editor):
    """Back to whole results without a criteria set, the set on each registration."""
    Registration = apps.get_model("titles", "Registration")
    EvaluationResult = apps.get_model("titles", "EvaluationResult")
    CriterionOutcome = apps.get_model("titles", "CriterionOutcome")
    db = schema_editor.connection.alias
    schema_editor.execute(f"CREATE INDEX {TEMPORARY_INDEX} ON titles_registration (evaluation_id)")
    outcomes = dict(CriterionOutcome.objects.using(db).values_list("pk", "body"))
    old_ids: dict[str, int] = {}
    for result in (
        EvaluationResult.objects.using(db)
        .filter(criteria_set__isnull=False)
        .iterator(chunk_size=BATCH)
    ):
        body = {**result.body, "criteria": [outcomes[pk] for pk in result.body["criteria"]]}
        digest = sha256(canonical_text(body))
        if digest not in old_ids:
            old_ids[digest] = EvaluationResult.objects.using(db).create(digest=digest, body=body).pk
        Registration.objects.using(db).filter(evaluation_id=result.pk).update(
            evaluation_id=old_ids[digest],
            criteria_set_id=result.criteria_set_id,
            criteria_digest=result.criteria_digest,
        )
    _delete_checked_now(
        schema_editor, EvaluationResult.objects.using(db).filter(criteria_set__isnull=False)
    )
    schema_editor.execute(f"DROP INDEX {TEMPORARY_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("titles", "0005_event_drop_redundant_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="CriterionOutcome",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64)),
                ("body", models.JSONField()),
            ],
            options={
                "verbose_name": "criterion outcome",
                "verbose_name_plural": "criterion outcomes",
                "constraints": [
                    models.UniqueConstraint(fields=("digest",), name="outcome_digest_unique")
                ],
            },
        ),
        migrations.AddField(
            model_name="evaluationresult",
            name="criteria_digest",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="evaluationresult",
            name="criteria_set",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="titles.criteriaset",
            ),
        ),
        migrations.RunPython(split_results, join_results, elidable=False),
    ]
