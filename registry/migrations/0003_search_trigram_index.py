"""On PostgreSQL, a trigram index makes `search_text LIKE '%…%'` fast over millions of rows.

SQLite has no such index; its searches stay within one ward's rows, which the ward index finds.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS registry_entity_search_trgm "
            "ON registry_entity USING gin (search_text gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS registry_entity_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_same_ward_triggers")]

    operations = [migrations.RunPython(create, drop)]
