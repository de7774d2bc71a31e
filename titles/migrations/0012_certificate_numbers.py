"""Certificate numbers per ward and year (`titles.Certificate`), and numbers for the
certificates of the decisions issued before them: per ward and year, decision by decision (by
date, then as they were entered), each decision's registrations in the order it lists them (by
title, then the Vietnamese order of the names), as `titles.services.certificates` numbers a new
decision.
"""

import django.db.models.deletion
from django.db import migrations, models


def number_existing(apps, schema_editor):
    Certificate = apps.get_model("titles", "Certificate")
    Decision = apps.get_model("titles", "Decision")
    Registration = apps.get_model("titles", "Registration")
    last: dict[tuple[int, int], int] = {}
    batch = []
    for decision in Decision.objects.order_by("ward_id", "year", "date", "pk").iterator():
        key = (decision.ward_id, decision.year)
        recognised = (
            Registration.objects.filter(decision_id=decision.pk, state="recognized")
            .order_by("kind", "entity__sort_key", "pk")
            .values_list("pk", flat=True)
        )
        for registration_id in recognised:
            last[key] = last.get(key, 0) + 1
            batch.append(
                Certificate(
                    registration_id=registration_id,
                    ward_id=decision.ward_id,
                    year=decision.year,
                    number=last[key],
                )
            )
        if len(batch) >= 5000:
            Certificate.objects.bulk_create(batch)
            batch = []
    Certificate.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0009_entity_sort_key"),
        ("titles", "0011_self_assessment_link_short_code"),
    ]

    operations = [
        migrations.CreateModel(
            name="Certificate",
            fields=[
                (
                    "registration",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="certificate",
                        serialize=False,
                        to="titles.registration",
                    ),
                ),
                ("year", models.PositiveSmallIntegerField(verbose_name="year")),
                ("number", models.PositiveIntegerField(verbose_name="certificate number")),
                ("assigned_at", models.DateTimeField(auto_now_add=True)),
                (
                    "ward",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.administrativeunit",
                    ),
                ),
            ],
            options={
                "verbose_name": "certificate",
                "verbose_name_plural": "certificates",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("ward", "year", "number"),
                        name="certificate_number_unique_per_ward_year",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("number__gt", 0)), name="certificate_number_positive"
                    ),
                ],
            },
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
    ]
