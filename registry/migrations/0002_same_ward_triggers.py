"""Database-enforced invariants that a CHECK constraint cannot express (they span tables).

- an entity's ward is a commune/ward whose province is the entity's province, and it never moves;
- each kind's row belongs to an entity of that kind;
- a family's residential area and clan, and a citizen's family and unit, are in the same ward.

Written as triggers for SQLite and PostgreSQL; a violation raises an IntegrityError.
"""

from django.db import migrations

# (table, kind, [(reference column, label)]): the kind row's entity must have `kind`, and every
# non-null reference must point at an entity of the same ward.
KIND_TABLES = [
    ("registry_community", "community", []),
    ("registry_clan", "clan", []),
    ("registry_unit", "unit", []),
    ("registry_family", "family", [("community_id", "residential area"), ("clan_id", "clan")]),
    ("registry_citizen", "citizen", [("family_id", "family"), ("unit_id", "unit")]),
]


def _ward_of(expr: str) -> str:
    return f"(SELECT ward_id FROM registry_entity WHERE id = {expr})"


def _violation(kind: str, refs: list) -> str:
    parts = [f"(SELECT kind FROM registry_entity WHERE id = NEW.entity_id) IS NOT '{kind}'"]
    for column, _label in refs:
        parts.append(
            f"(NEW.{column} IS NOT NULL AND "
            f"{_ward_of('NEW.' + column)} IS NOT {_ward_of('NEW.entity_id')})"
        )
    return " OR ".join(parts)


def _message(table: str, kind: str, refs: list) -> str:
    labels = ", ".join(label for _c, label in refs)
    base = f"{table}: the entity must be of kind {kind}"
    return base + (f" and its {labels} must be in the same commune/ward" if refs else "")


ENTITY_VIOLATION = (
    "(SELECT level FROM registry_administrativeunit WHERE id = NEW.ward_id) IS NOT 'ward' "
    "OR (SELECT parent_id FROM registry_administrativeunit WHERE id = NEW.ward_id) "
    "IS NOT NEW.province_id"
)
ENTITY_MESSAGE = "registry_entity: ward must be a commune/ward of the entity province"
ENTITY_MOVE_MESSAGE = "registry_entity: the ward and kind of an entity never change"


def sqlite_statements() -> list[str]:
    stmts = []
    for event in ("INSERT", "UPDATE"):
        e = event.lower()
        stmts.append(
            f"CREATE TRIGGER registry_entity_ward_{e} BEFORE {event} ON registry_entity "
            f"WHEN {ENTITY_VIOLATION} BEGIN SELECT RAISE(ABORT, '{ENTITY_MESSAGE}'); END"
        )
        for table, kind, refs in KIND_TABLES:
            stmts.append(
                f"CREATE TRIGGER {table}_same_ward_{e} BEFORE {event} ON {table} "
                f"WHEN {_violation(kind, refs)} "
                f"BEGIN SELECT RAISE(ABORT, '{_message(table, kind, refs)}'); END"
            )
    stmts.append(
        "CREATE TRIGGER registry_entity_fixed BEFORE UPDATE OF ward_id, kind ON registry_entity "
        "WHEN NEW.ward_id IS NOT OLD.ward_id OR NEW.kind IS NOT OLD.kind "
        f"BEGIN SELECT RAISE(ABORT, '{ENTITY_MOVE_MESSAGE}'); END"
    )
    return stmts


def _pg(condition: str) -> str:
    # PostgreSQL spells SQLite's null-safe IS NOT as IS DISTINCT FROM.
    return condition.replace(" IS NOT NULL", " IS_NOT_NULL").replace(
        " IS NOT ", " IS DISTINCT FROM "
    ).replace(" IS_NOT_NULL", " IS NOT NULL")


def _pg_trigger(name: str, table: str, condition: str, message: str, events: str) -> list[str]:
    return [
        f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {_pg(condition)} THEN
                RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$""",
        f"CREATE TRIGGER {name} BEFORE {events} ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def postgresql_statements() -> list[str]:
    stmts = _pg_trigger(
        "registry_entity_ward", "registry_entity", ENTITY_VIOLATION, ENTITY_MESSAGE,
        "INSERT OR UPDATE",
    )
    stmts += _pg_trigger(
        "registry_entity_fixed", "registry_entity",
        "NEW.ward_id IS NOT OLD.ward_id OR NEW.kind IS NOT OLD.kind", ENTITY_MOVE_MESSAGE,
        "UPDATE",
    )
    for table, kind, refs in KIND_TABLES:
        stmts += _pg_trigger(
            f"{table}_same_ward", table, _violation(kind, refs), _message(table, kind, refs),
            "INSERT OR UPDATE",
        )
    return stmts


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = sqlite_statements()
    elif vendor == "postgresql":
        statements = postgresql_statements()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database vendor {vendor}")
    for sql in statements:
        schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    names = ["registry_entity_ward", "registry_entity_fixed"] + [
        f"{t}_same_ward" for t, _k, _r in KIND_TABLES
    ]
    if vendor == "sqlite":
        for name in names:
            for suffix in ("", "_insert", "_update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{suffix}")
    else:
        for name in names:
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}() CASCADE")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
