"""Make the statement-level same-ward checks of 0005 look entities up by key, never by a scan.

A PL/pgSQL function keeps the plan of its query for the session. Planned while
registry_entity was small (the first residential areas of a bulk load), the join of the
statement's rows with registry_entity became a hash join over a sequential scan of the whole
table, and stayed one as the table grew: each small insert (a ward's areas, clans or units)
then read every entity, so a load slowed down with its own size (34 ms a statement at 190,000
entities, far more at Hanoi's 8 million). Here each referenced entity is fetched by a LATERAL
subquery that the planner may not flatten (OFFSET 0): a probe of the primary key per row,
whatever the table's size or statistics. Same rules, same messages as 0005.
"""

import importlib

from django.db import migrations

statement_level = importlib.import_module("registry.migrations.0005_statement_level_ward_triggers")


def _by_key(alias: str, column: str) -> str:
    return (
        f"LEFT JOIN LATERAL (SELECT x.kind, x.ward_id FROM registry_entity x "
        f"WHERE x.id = n.{column} OFFSET 0) {alias} ON true"
    )


def _kind_violation(kind: str, refs: list) -> str:
    joins = [_by_key("e", "entity_id")]
    conditions = [f"e.kind IS DISTINCT FROM '{kind}'"]
    for i, (column, _label) in enumerate(refs):
        joins.append(_by_key(f"r{i}", column))
        conditions.append(f"(n.{column} IS NOT NULL AND r{i}.ward_id IS DISTINCT FROM e.ward_id)")
    return f"SELECT 1 FROM new_rows n {' '.join(joins)} WHERE {' OR '.join(conditions)}"  # noqa: S608


def _functions(violation_of) -> list[str]:
    """CREATE OR REPLACE of the kind tables' check functions, with `violation_of(kind, refs)`."""
    functions = []
    for table, kind, refs in statement_level.KIND_TABLES:
        name = f"{table}_same_ward_stmt"
        message = statement_level.row_level._message(table, kind, refs)
        create = statement_level._statement_trigger(name, table, violation_of(kind, refs), message)[
            0
        ]
        functions.append(create.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    return functions


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in _functions(_kind_violation):
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in _functions(statement_level._kind_violation):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_entity_drop_redundant_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
