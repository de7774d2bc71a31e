"""Units before 1 July 2025: levels of their own (province, district, commune), ended on
2025-06-30, and their links to the current units they went into.

On SQLite, changing the unit table's CHECK constraints rebuilds the table, which its
entity triggers (0002: an entity's ward must be a current-tier commune/ward) refer to; they are
dropped for the rebuild and created again, unchanged, after it.
"""

import datetime
import importlib

import django.db.models.deletion
from django.db import migrations, models

row_level = importlib.import_module("registry.migrations.0002_same_ward_triggers")
ENTITY_TRIGGERS = ("registry_entity_ward_insert", "registry_entity_ward_update")


def drop_entity_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in ENTITY_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def create_entity_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in row_level.sqlite_statements():
            if any(f"CREATE TRIGGER {name} " in sql for name in ENTITY_TRIGGERS):
                schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0007_ward_triggers_probe_by_key'),
    ]

    operations = [
        migrations.RunPython(drop_entity_triggers, create_entity_triggers),
        migrations.CreateModel(
            name='UnitSuccession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('whole', models.BooleanField(default=False, verbose_name='wholly')),
            ],
            options={
                'verbose_name': 'succession of units',
                'verbose_name_plural': 'successions of units',
            },
        ),
        migrations.RemoveConstraint(
            model_name='administrativeunit',
            name='adminunit_ward_has_province',
        ),
        migrations.AlterField(
            model_name='administrativeunit',
            name='level',
            field=models.CharField(choices=[('province', 'Province'), ('ward', 'Commune/ward'), ('pre_prov', 'Province (before 1/7/2025)'), ('district', 'District (before 1/7/2025)'), ('pre_ward', 'Commune/ward (before 1/7/2025)')], max_length=10, verbose_name='level'),
        ),
        migrations.AddField(
            model_name='unitsuccession',
            name='after',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.administrativeunit'),
        ),
        migrations.AddField(
            model_name='unitsuccession',
            name='before',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='successions', to='registry.administrativeunit'),
        ),
        migrations.AddField(
            model_name='administrativeunit',
            name='successors',
            field=models.ManyToManyField(blank=True, related_name='predecessors', through='registry.UnitSuccession', through_fields=('before', 'after'), to='registry.administrativeunit'),
        ),
        migrations.AddConstraint(
            model_name='administrativeunit',
            constraint=models.UniqueConstraint(condition=models.Q(('level__in', ['pre_prov', 'district', 'pre_ward'])), fields=('level', 'code'), name='adminunit_code_unique_before_2025'),
        ),
        migrations.AddConstraint(
            model_name='administrativeunit',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('level__in', ['province', 'pre_prov']), ('parent__isnull', True)), models.Q(('level__in', ['ward', 'district', 'pre_ward']), ('parent__isnull', False)), _connector='OR'), name='adminunit_parent_by_level'),
        ),
        migrations.AddConstraint(
            model_name='administrativeunit',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('level__in', ['pre_prov', 'district', 'pre_ward']), _negated=True), ('valid_to__lt', datetime.date(2025, 7, 1)), _connector='OR'), name='adminunit_before_2025_ended'),
        ),
        migrations.AddIndex(
            model_name='unitsuccession',
            index=models.Index(fields=['after'], name='registry_un_after_i_abac31_idx'),
        ),
        migrations.AddConstraint(
            model_name='unitsuccession',
            constraint=models.UniqueConstraint(fields=('before', 'after'), name='unitsuccession_unique'),
        ),
        migrations.RunPython(create_entity_triggers, drop_entity_triggers),
    ]
