"""Certificate numbers: given once, per ward and year, in the order of the decisions.

A decision's certificates are numbered where the decision is made, on every path:
`decision_issue` as it issues it, the registrations import as it records historical outcomes
under a decision (`certificates_number`, decision by decision), the demonstration data for a
whole province at once (`certificates_number_missing`); migration 0018 numbered what had been
recorded before. Printing only reads them. A number, once written, never changes: a reprint
shows the first print's number.

Within a decision the certificates are numbered in the order the decision lists its
registrations (`titles.selectors.recognised_list`: by title, then the Vietnamese order of the
names), after the highest number the ward already gave that year; several decisions of a ward
and year numbered at once go by date, then as they were entered. The ward's row is locked while
numbering one decision, so two decisions of a ward numbered at once never take the same
numbers; the unique constraint on (ward, year, number) stands behind it.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from audit.services import record_bulk
from registry.models import AdministrativeUnit
from titles.models import Certificate, Decision, Registration, State
from titles.selectors import recognised_list


@transaction.atomic
def certificates_number(*, decision: Decision) -> list[Certificate]:
    """Give a number to each recognised registration of the decision that has none yet.

    Returns the certificates written now (none when every one is numbered already).
    """
    locking = AdministrativeUnit.objects.select_for_update(no_key=True).filter(pk=decision.ward_id)
    list(locking.values_list("pk"))
    missing = list(
        recognised_list(decision=decision)
        .filter(certificate__isnull=True)
        .values_list("pk", flat=True)
    )
    if not missing:
        return []
    last = (
        Certificate.objects.filter(ward_id=decision.ward_id, year=decision.year).aggregate(
            last=Max("number")
        )["last"]
        or 0
    )
    certificates = Certificate.objects.bulk_create(
        Certificate(
            registration_id=registration_id,
            ward_id=decision.ward_id,
            year=decision.year,
            number=last + offset,
        )
        for offset, registration_id in enumerate(missing, start=1)
    )
    record_bulk(
        "certificates_number",
        model=Certificate,
        ward_ids=[decision.ward_id],
        year=decision.year,
        decision=decision.number,
        first=last + 1,
        last=last + len(missing),
    )
    return certificates


@transaction.atomic
def certificates_number_missing(*, province_id: int) -> int:
    """Number every recognised registration of the province's decisions that has no number
    yet, in one statement (a province's demonstration data holds millions): per ward and year,
    decision by decision (date, then as entered), each in the order it lists its registrations.
    Returns how many were numbered."""
    qn = connection.ops.quote_name
    certificate = qn(Certificate._meta.db_table)
    registration = qn(Registration._meta.db_table)
    decision = qn(Decision._meta.db_table)
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
            WHERE d.province_id = %s AND r.state = %s
              AND NOT EXISTS (SELECT 1 FROM {certificate} n WHERE n.registration_id = r.id)
            """,  # noqa: S608 - table names from the models, values as parameters
            [
                connection.ops.adapt_datetimefield_value(timezone.now()),
                province_id,
                State.RECOGNIZED.value,
            ],
        )
        numbered = cursor.rowcount
    if numbered:
        record_bulk(
            "certificates_number", model=Certificate, province_ids=[province_id], count=numbered
        )
    return numbered
