"""On PostgreSQL, check the same-ward invariants once per statement instead of once per row.

The row-level triggers of 0002 look up about five rows per inserted row, each through a PL/pgSQL
call: half the time of a bulk load (a COPY of thousands of households). The statement-level
triggers below see every row the statement inserted or updated (a transition table) and check
them all with one join, so a COPY of 2,000 families costs one join of 2,000 rows. Same rules,
same messages, same IntegrityError; they fire at the end of the statement, before it returns.

What is checked (unchanged from 0002):
- an entity's ward is a commune/ward whose province is the entity's province;
- each kind's row belongs to an entity of that kind (a missing entity fails too);
- a family's residential area and clan, and a citizen's family and unit, are in the same ward
  as the row's own entity (a reference to a missing entity fails too).

The ward and kind of an entity never change: that check compares OLD and NEW of one row and
looks nothing up, so it stays row-level (`registry_entity_fixed`, from 0002). SQLite has no
statement-level triggers; it keeps the row-level ones of 0002.
"""

import importlib

from django.db import migrations

row_level = importlib.import_module("registry.migrations.0002_same_ward_triggers")

# (table, kind, [(reference column, label)]), as in 0002.
KIND_TABLES = row_level.KIND_TABLES


def _entity_violation() -> str:
    return (
        "SELECT 1 FROM new_rows n "
        "LEFT JOIN registry_administrativeunit w ON w.id = n.ward_id "
        "WHERE w.level IS DISTINCT FROM 'ward' OR w.parent_id IS DISTINCT FROM n.province_id"
    )


def _kind_violation(kind: str, refs: list) -> str:
    joins = ["LEFT JOIN registry_entity e ON e.id = n.entity_id"]
    conditions = [f"e.kind IS DISTINCT FROM '{kind}'"]
    for i, (column, _label) in enumerate(refs):
        joins.append(f"LEFT JOIN registry_entity r{i} ON r{i}.id = n.{column}")
        conditions.append(f"(n.{column} IS NOT NULL AND r{i}.ward_id IS DISTINCT FROM e.ward_id)")
    return f"SELECT 1 FROM new_rows n {' '.join(joins)} WHERE {' OR '.join(conditions)}"  # noqa: S608


def _statement_trigger(name: str, table: str, violation: str, message: str) -> list[str]:
    stmts = [
        f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS ({violation}) THEN
                RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NULL;
        END $$"""
    ]
    # One trigger per event: a trigger with transition tables fires for a single event.
    for event in ("INSERT", "UPDATE"):
        stmts.append(
            f"CREATE TRIGGER {name}_{event.lower()} AFTER {event} ON {table} "
            f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    return stmts


def _names() -> list[tuple[str, str, str, str, str]]:
    """(row-level function of 0002, new function, table, violation, message) per table."""
    rows = [
        (
            "registry_entity_ward",
            "registry_entity_ward_stmt",
            "registry_entity",
            _entity_violation(),
            row_level.ENTITY_MESSAGE,
        )
    ]
    for table, kind, refs in KIND_TABLES:
        rows.append(
            (
                f"{table}_same_ward",
                f"{table}_same_ward_stmt",
                table,
                _kind_violation(kind, refs),
                row_level._message(table, kind, refs),
            )
        )
    return rows


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for old, new, table, violation, message in _names():
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {old}() CASCADE")
        for sql in _statement_trigger(new, table, violation, message):
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _old, new, _table, _violation, _message in _names():
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {new}() CASCADE")
    # 0002's statements come in pairs (function, trigger); registry_entity_fixed was kept.
    statements = row_level.postgresql_statements()
    for function, trigger in zip(statements[::2], statements[1::2], strict=True):
        if "registry_entity_fixed()" not in function:
            schema_editor.execute(function)
            schema_editor.execute(trigger)


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_rollups")]

    operations = [migrations.RunPython(forwards, backwards)]
