"""A registration's criteria set and its version are its result's (0006 moved them there).

The result digest's uniqueness becomes a plain unique constraint: PostgreSQL no longer keeps a
second, pattern-matching index on it that no query uses.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("titles", "0006_criterion_outcomes"),
    ]

    operations = [
        migrations.RemoveField(model_name="registration", name="criteria_digest"),
        migrations.RemoveField(model_name="registration", name="criteria_set"),
        migrations.AlterField(
            model_name="evaluationresult",
            name="criteria_set",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="titles.criteriaset",
            ),
        ),
        migrations.AlterField(
            model_name="evaluationresult",
            name="digest",
            field=models.CharField(max_length=64),
        ),
        migrations.AddConstraint(
            model_name="evaluationresult",
            constraint=models.UniqueConstraint(fields=("digest",), name="result_digest_unique"),
        ),
    ]
