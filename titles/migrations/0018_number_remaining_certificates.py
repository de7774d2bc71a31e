"""Numbers for the certificates of decisions recorded without them (historical outcomes
imported under a decision, demonstration data) before every path numbered them as it made the
decision: printing used to number them, and now only reads. Per ward and year, after the
numbers the ward already gave, decision by decision (by date, then as entered), each
decision's registrations in the order it lists them (by title, then the Vietnamese order of
the names), as `titles.services.certificates` numbers them. One statement.
"""

from django.db import migrations
from django.utils import timezone


def number_remaining(apps, schema_editor):
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    certificate = qn(apps.get_model("titles", "Certificate")._meta.db_table)
    registration = qn(apps.get_model("titles", "Registration")._meta.db_table)
    decision = qn(apps.get_model("titles", "Decision")._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {certificate} (registration_id, ward_id, year, number, assigned_at)
            SELECT r.id, d.ward_id, d.year,
                   COALESCE(given.last, 0)
                   + ROW_NUMBER() OVER (
                       PARTITION BY d.ward_id, d.year
                       ORDER BY d.date, d.id, r.kind, r.sort_key, r.id),
                   %s
            FROM {registration} r
            JOIN {decision} d ON d.id = r.decision_id
            -- Each ward-year's highest number so far, read once: a subquery per row would
            -- walk past the numbers this statement is inserting (a ward's thousands, each).
            LEFT JOIN (SELECT c.ward_id, c.year, MAX(c.number) AS last
                       FROM {certificate} c GROUP BY c.ward_id, c.year) given
              ON given.ward_id = d.ward_id AND given.year = d.year
            WHERE r.state = 'recognized'
              AND NOT EXISTS (SELECT 1 FROM {certificate} n WHERE n.registration_id = r.id)
            """,  # noqa: S608 - table names from the models, values as parameters
            [connection.ops.adapt_datetimefield_value(timezone.now())],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0009_entity_sort_key"),
        ("titles", "0017_registration_sort_key"),
    ]

    operations = [migrations.RunPython(number_remaining, migrations.RunPython.noop)]
