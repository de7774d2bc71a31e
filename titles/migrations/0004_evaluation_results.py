"""Each distinct evaluation result stored once; fewer indexes on titles_registration.

Registrations used to carry their whole explained result (about 2 kB of JSON) in
`Registration.result`; now they point at one `EvaluationResult` row per distinct result,
found by the SHA-256 of the result's canonical JSON text. The data migration moves every
stored result over, so pages show exactly what they showed before, and a re-evaluation that
finds the same result still writes nothing.

The single-column indexes on entity, ward and province are covered by
`registration_once_a_year` and the two composite indexes; the creator's and the criteria set's
served no query; the decision's becomes a partial index, since most registrations have none.
"""

import hashlib
import json

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BATCH = 2000


def result_text(body: dict) -> str:
    """The canonical JSON text of a result (the service's `result_text`, frozen here)."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def move_results_out(apps, schema_editor):
    Registration = apps.get_model("titles", "Registration")
    EvaluationResult = apps.get_model("titles", "EvaluationResult")
    db = schema_editor.connection.alias
    registrations = Registration.objects.using(db).order_by("pk")
    last = 0
    while batch := list(registrations.filter(pk__gt=last).values_list("pk", "result")[:BATCH]):
        last = batch[-1][0]
        by_digest: dict[str, tuple[dict, list[int]]] = {}
        for pk, body in batch:
            if body:
                digest = hashlib.sha256(result_text(body).encode()).hexdigest()
                by_digest.setdefault(digest, (body, []))[1].append(pk)
        if not by_digest:
            continue
        EvaluationResult.objects.using(db).bulk_create(
            [EvaluationResult(digest=digest, body=body) for digest, (body, _) in by_digest.items()],
            ignore_conflicts=True,
        )
        ids = dict(
            EvaluationResult.objects.using(db)
            .filter(digest__in=list(by_digest))
            .values_list("digest", "pk")
        )
        if schema_editor.connection.vendor == "postgresql":  # one statement per batch
            pairs = [(pk, ids[digest]) for digest, (_body, pks) in by_digest.items() for pk in pks]
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE titles_registration AS r SET evaluation_id = v.evaluation_id "
                    "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, evaluation_id) "
                    "WHERE r.id = v.id",
                    [[pk for pk, _ in pairs], [eid for _, eid in pairs]],
                )
        else:
            for digest, (_body, pks) in by_digest.items():
                Registration.objects.using(db).filter(pk__in=pks).update(evaluation_id=ids[digest])


def move_results_back(apps, schema_editor):
    Registration = apps.get_model("titles", "Registration")
    EvaluationResult = apps.get_model("titles", "EvaluationResult")
    db = schema_editor.connection.alias
    for result in EvaluationResult.objects.using(db).iterator(chunk_size=BATCH):
        Registration.objects.using(db).filter(evaluation_id=result.pk).update(result=result.body)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_rollups"),
        ("titles", "0003_ward_signoff"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EvaluationResult",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("body", models.JSONField()),
            ],
            options={
                "verbose_name": "evaluation result",
                "verbose_name_plural": "evaluation results",
            },
        ),
        migrations.AddField(
            model_name="registration",
            name="evaluation",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="titles.evaluationresult",
                verbose_name="evaluation",
            ),
        ),
        migrations.AlterField(
            model_name="registration",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="registration",
            name="criteria_set",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="titles.criteriaset",
            ),
        ),
        migrations.AlterField(
            model_name="registration",
            name="decision",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="registrations",
                to="titles.decision",
                verbose_name="decision",
            ),
        ),
        migrations.AlterField(
            model_name="registration",
            name="entity",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="registrations",
                to="registry.entity",
            ),
        ),
        migrations.AlterField(
            model_name="registration",
            name="province",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="registry.administrativeunit",
            ),
        ),
        migrations.AlterField(
            model_name="registration",
            name="ward",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="registrations",
                to="registry.administrativeunit",
            ),
        ),
        migrations.AddIndex(
            model_name="registration",
            index=models.Index(
                condition=models.Q(("decision__isnull", False)),
                fields=["decision"],
                name="reg_decision",
            ),
        ),
        migrations.RunPython(move_results_out, move_results_back, elidable=False),
        migrations.RemoveField(model_name="registration", name="result"),
    ]
