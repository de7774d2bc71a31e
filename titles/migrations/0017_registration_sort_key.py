"""Registrations carry their entity's sort key, and the lists walk indexes in that order.

The copy is filled from the entities by one UPDATE (a correlated subquery, on PostgreSQL and
SQLite alike), not row by row. Signed-off ward-years are filled too: the sign-off guard
(0009) refuses any write to their registrations, so its update trigger is set aside for this
one statement and restored at once, inside the migration's transaction.
The column keeps a database default of '' (every creation path writes the key).
"""

import importlib

from django.db import migrations, models

GUARD = "titles_registration_frozen_update"
FILL = (
    "UPDATE titles_registration SET sort_key = "
    "(SELECT e.sort_key FROM registry_entity e WHERE e.id = titles_registration.entity_id)"
)


def fill(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE titles_registration DISABLE TRIGGER {GUARD}")
        schema_editor.execute(FILL)
        schema_editor.execute(f"ALTER TABLE titles_registration ENABLE TRIGGER {GUARD}")
    elif vendor == "sqlite":
        guard = importlib.import_module("titles.migrations.0009_frozen_ward_year_guard")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {GUARD}")
        schema_editor.execute(FILL)
        for statement in guard.sqlite_statements():
            if statement.startswith(f"CREATE TRIGGER {GUARD} "):
                schema_editor.execute(statement)
    else:
        schema_editor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0009_entity_sort_key"),
        ("titles", "0016_registration_keyset_indexes"),
    ]

    operations = [
        # ALTER TABLE ... ADD COLUMN on both databases: SQLite's way of adding a NOT NULL column
        # (copying the table under a new name) would drop the sign-off guard's triggers.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE titles_registration "
                    "ADD COLUMN sort_key varchar(1000) NOT NULL DEFAULT ''",
                    "ALTER TABLE titles_registration DROP COLUMN sort_key",
                )
            ],
            state_operations=[
                migrations.AddField(
                    model_name="registration",
                    name="sort_key",
                    field=models.CharField(default="", editable=False, max_length=1000),
                )
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="registration",
            index=models.Index(
                fields=["province", "year", "ward", "sort_key", "id", "kind", "state"],
                name="reg_province_list",
            ),
        ),
        migrations.AddIndex(
            model_name="registration",
            index=models.Index(
                fields=["year", "ward", "sort_key", "id", "kind", "state", "passed"],
                name="reg_ward_list",
            ),
        ),
    ]
