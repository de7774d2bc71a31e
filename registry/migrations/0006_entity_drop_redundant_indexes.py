"""Drop the single-column indexes on an entity's province and ward.

The composite indexes lead with the same columns (entity_province_kind; entity_code_unique and
entity_ward_kind_name with the ward), so these only cost writes: about a tenth of the time of
loading millions of entities. Written as DROP INDEX rather than Django's AlterField, which on
SQLite rebuilds the table, and that rebuild fails on the same-ward triggers of the other
registry tables that name registry_entity.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("registry_entity_province_id_d73b4c8e", "province_id"),
    ("registry_entity_ward_id_665b8abb", "ward_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_statement_level_ward_triggers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    f"CREATE INDEX {name} ON registry_entity ({column})",
                )
                for name, column in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="entity",
                    name="province",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.administrativeunit",
                        verbose_name="province",
                    ),
                ),
                migrations.AlterField(
                    model_name="entity",
                    name="ward",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="entities",
                        to="registry.administrativeunit",
                        verbose_name="commune/ward",
                    ),
                ),
            ],
        ),
    ]
