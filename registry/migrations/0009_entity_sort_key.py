"""Entities get the key Vietnamese lists are ordered by (`registry.text.sort_key`), filled for
the rows already stored; the ward's list index orders by it instead of by the raw name."""
# The column keeps a database default of '' (the model writes the key on every save).

from django.db import migrations, models

from registry.text import sort_key

PERSON_KINDS = ("family", "citizen")
BATCH = 5000


def fill_sort_keys(apps, schema_editor):
    Entity = apps.get_model("registry", "Entity")
    last = 0
    while True:
        batch = list(
            Entity.objects.filter(pk__gt=last).order_by("pk").only("pk", "kind", "name")[:BATCH]
        )
        if not batch:
            return
        for entity in batch:
            entity.sort_key = sort_key(entity.name, person=entity.kind in PERSON_KINDS)
        Entity.objects.bulk_update(batch, ["sort_key"], batch_size=1000)
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("registry", "0008_units_before_2025")]

    operations = [
        # ALTER TABLE ... ADD COLUMN on both databases: SQLite's way of adding a NOT NULL column
        # (copying the table under a new name) would break the ward triggers that name it.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE registry_entity "
                    "ADD COLUMN sort_key varchar(1000) NOT NULL DEFAULT ''",
                    "ALTER TABLE registry_entity DROP COLUMN sort_key",
                )
            ],
            state_operations=[
                migrations.AddField(
                    model_name="entity",
                    name="sort_key",
                    field=models.CharField(default="", editable=False, max_length=1000),
                )
            ],
        ),
        migrations.RunPython(fill_sort_keys, migrations.RunPython.noop, elidable=True),
        migrations.RemoveIndex(model_name="entity", name="entity_ward_kind_name"),
        migrations.AddIndex(
            model_name="entity",
            index=models.Index(fields=["ward", "kind", "sort_key"], name="entity_ward_kind_sort"),
        ),
    ]
