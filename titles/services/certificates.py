"""Certificate numbers: given once, per ward and year, in the order of the decisions.

`decision_issue` numbers the certificates of a decision as it issues it. Recognitions recorded
another way (historical outcomes imported under a decision, demonstration data) are numbered the
first time their decision's certificates are printed, by the same function. Either way a number,
once written, never changes: a reprint shows the first print's number.

Within a decision the certificates are numbered in the order the decision lists its
registrations (`titles.selectors.recognised_list`: by title, then the Vietnamese order of the
names), after the highest number the ward already gave that year. The ward's row is locked while
numbering, so two decisions of a ward numbered at once never take the same numbers; the unique
constraint on (ward, year, number) stands behind it.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from audit.services import record_bulk
from registry.models import AdministrativeUnit
from titles.models import Certificate, Decision
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
