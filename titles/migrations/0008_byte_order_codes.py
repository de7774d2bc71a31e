"""Codes and digests compared byte by byte; no index on an event's user.

On PostgreSQL a registration's `kind` and `state` (the last columns of the two composite
indexes that every evaluation, approval and decision writes to) and the result and outcome
digests (their unique indexes) take the "C" collation: they hold lower-case ASCII codes and hex
digits, whose order is the same byte by byte as in any locale, and a comparison then costs a
memcmp instead of a locale's string comparison. Nothing sorts differently. SQLite compares
bytes already.

No query looks events up by user; the index only cost an entry per event written.
As DROP INDEX rather than AlterField, which on SQLite would rebuild the table.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

EVENT_USER_INDEX = "titles_registrationevent_user_id_f5e2fac5"

COLUMNS = [
    ("titles_registration", "kind", 10),
    ("titles_registration", "state", 10),
    ("titles_evaluationresult", "digest", 64),
    ("titles_criterionoutcome", "digest", 64),
]


def _collate(collation: str):
    def change(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, column, length in COLUMNS:
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length}) "
                f'COLLATE "{collation}"'
            )

    return change


class Migration(migrations.Migration):
    dependencies = [
        ("titles", "0007_result_names_its_criteria_set"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(_collate("C"), _collate("default")),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {EVENT_USER_INDEX}",
                    f"CREATE INDEX {EVENT_USER_INDEX} ON titles_registrationevent (user_id)",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="registrationevent",
                    name="user",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
