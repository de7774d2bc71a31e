"""Drop the index on a registration event's registration alone: the (registration, at) index
leads with it. As DROP INDEX rather than AlterField, which on SQLite would rebuild the table."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "titles_registrationevent_registration_id_d5b057cf"


class Migration(migrations.Migration):
    dependencies = [
        ("titles", "0004_evaluation_results"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    f"CREATE INDEX {INDEX} ON titles_registrationevent (registration_id)",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="registrationevent",
                    name="registration",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="titles.registration",
                    ),
                ),
            ],
        ),
    ]
