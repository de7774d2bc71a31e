"""The database guard of the sign-off freeze (see `titles.workflow`).

While a ward's year is signed off (its newest `titles_wardsignoff` row, by id, is a sign-off),
no INSERT, UPDATE or DELETE of a registration or a decision of that ward and year is accepted,
whatever code issues it: the workflow refuses such writes with a clear message first; these
triggers make sure that no path that forgets to ask (a raw statement, a future import) can.

SQLite: row triggers that RAISE(ABORT), on INSERT and UPDATE only: there a test database is
emptied with DELETE, table by table, and a registration or decision cannot be deleted anyway
while anything refers to it (its events, its registrations; PROTECT). PostgreSQL:
statement-level triggers on INSERT, UPDATE and DELETE over the statement's transition
tables, so a bulk write (an evaluation chunk of thousands of rows) checks each distinct
(ward, year) once, through the (ward, year) index of the sign-offs.
Both raise an integrity error.
"""

# ruff: noqa: S608 - the statements are built from the fixed table names above only

from django.db import migrations

MESSAGE = "ward-year signed off: reopen it before changing its registrations or decisions"
TABLES = ("titles_registration", "titles_decision")


def _frozen(ward: str, year: str) -> str:
    return (
        "(SELECT s.action FROM titles_wardsignoff s "
        f"WHERE s.ward_id = {ward} AND s.year = {year} ORDER BY s.id DESC LIMIT 1) = 'sign_off'"
    )


def sqlite_statements() -> list[str]:
    statements = []
    for table in TABLES:
        for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("NEW", "OLD"))):
            condition = " OR ".join(_frozen(f"{r}.ward_id", f"{r}.year") for r in rows)
            statements.append(
                f"CREATE TRIGGER {table}_frozen_{event.lower()} BEFORE {event} ON {table} "
                f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
    return statements


def postgresql_statements() -> list[str]:
    statements = []
    for table in TABLES:
        for event, tables in (
            ("INSERT", ("new_rows",)),
            ("UPDATE", ("new_rows", "old_rows")),
            ("DELETE", ("old_rows",)),
        ):
            name = f"{table}_frozen_{event.lower()}"
            keys = " UNION ".join(f"SELECT DISTINCT ward_id, year FROM {t}" for t in tables)
            statements.append(
                f"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM ({keys}) k WHERE {_frozen("k.ward_id", "k.year")})
                    THEN
                        RAISE EXCEPTION '{MESSAGE}'
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NULL;
                END $$"""
            )
            referencing = " ".join(
                f"{'NEW' if t == 'new_rows' else 'OLD'} TABLE AS {t}" for t in tables
            )
            statements.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    return statements


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = sqlite_statements()
    elif vendor == "postgresql":
        statements = postgresql_statements()
    else:
        return
    for sql in statements:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        for event in ("insert", "update", "delete"):
            name = f"{table}_frozen_{event}"
            if vendor == "sqlite":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            elif vendor == "postgresql":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


class Migration(migrations.Migration):
    dependencies = [("titles", "0008_byte_order_codes")]

    operations = [migrations.RunPython(create, drop)]
