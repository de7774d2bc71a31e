"""A ward-year's registrations counted by title, state, result, evidence and, once recognised,
decision and outstanding mark (`RegistrationCount`), kept by
database triggers so that no path that writes a registration can forget them.

Each trigger appends the changes it makes to the counts, one row per group it moved; it never
updates a row, so two writers never wait for each other here (the workflow's own locks are
unchanged). `titles.services.counts` reads the sums and folds the rows of a ward-year once they
pile up.

PostgreSQL: statement-level triggers over the statement's transition tables (one INSERT per
statement, grouped: an evaluation chunk of thousands of rows, or a COPY of the demo's load,
adds a handful of rows). SQLite: row triggers, on INSERT and UPDATE only, as for the sign-off
guard (titles 0009): there a test database is emptied with DELETE, and a registration cannot be
deleted while anything refers to it (its events; PROTECT).

The counts of the registrations already stored are filled in by one grouped INSERT.
"""

# ruff: noqa: S608 - the statements are built from the fixed names below only

import django.db.models.deletion
from django.db import migrations, models

COUNTS = "titles_registrationcount"
REGISTRATIONS = "titles_registration"
COLUMNS = "ward_id, year, kind, state, passed, decision_id, outstanding, has_evidence, n"
KEY = "ward_id, year, kind, state, passed, decision_id, outstanding"
GROUP_BY = "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
EVENTS = ("insert", "update", "delete")


def _name(event: str) -> str:
    return f"{REGISTRATIONS}_count_{event}"


def postgresql_statements() -> list[str]:
    evidence = "evidence <> '{}'::jsonb"
    bodies = {
        "insert": (
            f"INSERT INTO {COUNTS} ({COLUMNS}) SELECT {KEY}, {evidence}, COUNT(*) "
            f"FROM new_rows {GROUP_BY}"
        ),
        "update": (
            f"INSERT INTO {COUNTS} ({COLUMNS}) SELECT {KEY}, has_evidence, SUM(n) FROM ("
            f"SELECT {KEY}, {evidence} AS has_evidence, 1 AS n FROM new_rows UNION ALL "
            f"SELECT {KEY}, {evidence}, -1 FROM old_rows"
            f") AS moved {GROUP_BY} HAVING SUM(n) <> 0"
        ),
        "delete": (
            f"INSERT INTO {COUNTS} ({COLUMNS}) SELECT {KEY}, {evidence}, -COUNT(*) "
            f"FROM old_rows {GROUP_BY}"
        ),
    }
    referencing = {
        "insert": "NEW TABLE AS new_rows",
        "update": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
        "delete": "OLD TABLE AS old_rows",
    }
    statements = []
    for event in EVENTS:
        name = _name(event)
        statements.append(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {bodies[event]}; RETURN NULL; END $$"
        )
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON {REGISTRATIONS} "
            f"REFERENCING {referencing[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    return statements


def sqlite_statements() -> list[str]:
    def values(row: str, n: int) -> str:
        return (
            f"({row}.ward_id, {row}.year, {row}.kind, {row}.state, {row}.passed, "
            f"{row}.decision_id, {row}.outstanding, json({row}.evidence) <> '{{}}', {n})"
        )

    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in KEY.split(", "))
    changed += " OR (json(OLD.evidence) <> '{}') IS NOT (json(NEW.evidence) <> '{}')"
    return [
        f"CREATE TRIGGER {_name('insert')} AFTER INSERT ON {REGISTRATIONS} BEGIN "
        f"INSERT INTO {COUNTS} ({COLUMNS}) VALUES {values('NEW', 1)}; END",
        f"CREATE TRIGGER {_name('update')} AFTER UPDATE ON {REGISTRATIONS} WHEN {changed} BEGIN "
        f"INSERT INTO {COUNTS} ({COLUMNS}) VALUES {values('OLD', -1)}, {values('NEW', 1)}; END",
    ]


def fill_statement(vendor: str) -> str:
    evidence = "evidence <> '{}'::jsonb" if vendor == "postgresql" else "json(evidence) <> '{}'"
    return (
        f"INSERT INTO {COUNTS} ({COLUMNS}) SELECT {KEY}, {evidence}, COUNT(*) "
        f"FROM {REGISTRATIONS} {GROUP_BY}"
    )


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = sqlite_statements()
    elif vendor == "postgresql":
        statements = postgresql_statements()
    else:
        return
    schema_editor.execute(fill_statement(vendor))
    for sql in statements:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for event in EVENTS:
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {_name(event)}")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {_name(event)} ON {REGISTRATIONS}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {_name(event)}()")


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0013_birth_year_tally'),
        ('titles', '0021_registration_ward_counts_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='RegistrationCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField()),
                ('kind', models.CharField(choices=[('family', 'Learning Family'), ('clan', 'Learning Clan'), ('community', 'Learning Community'), ('unit', 'Learning Unit'), ('citizen', 'Learning Citizen')], max_length=10)),
                ('state', models.CharField(choices=[('registered', 'Registered'), ('submitted', 'Submitted'), ('evaluated', 'Evaluated'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('recognized', 'Recognised')], max_length=10)),
                ('passed', models.BooleanField(null=True)),
                ('has_evidence', models.BooleanField()),
                ('outstanding', models.BooleanField()),
                ('n', models.IntegerField()),
                ('decision', models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='titles.decision')),
                ('ward', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='registry.administrativeunit')),
            ],
            options={
                'indexes': [models.Index(fields=['ward', 'year'], name='regcount_ward_year')],
            },
        ),
        migrations.RunPython(create, drop),
    ]
