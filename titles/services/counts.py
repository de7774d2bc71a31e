"""A ward-year's registrations counted by title, state, result and evidence, read from the
summary the database keeps (`RegistrationCount`, migration titles 0022).

The review queue, the sign-off page, the confirmations of "evaluate now" and "approve what
passed" and a decision's page ask how many of a ward's registrations are in each state (or
under the decision) on every visit. Counted from the registrations, a busy ward's 174,000 rows
took 30-60 ms each time, about a fifth of the machine under 200 users (bench/RESULTS.md, "Load
test"); summed from the counts, a few hundred rows at most, it takes about a millisecond.

The triggers only append: each write adds its changes as rows of their own. `ward_counts`
folds a ward-year's rows into one per group once more than `FOLD_AFTER` have gathered, inside
the caller's transaction and over the rows it could lock only, so that two readings folding at
once never count a row twice and no writer ever waits for a reading.
"""

from __future__ import annotations

import logging
from collections import Counter
from itertools import batched

from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum

from titles import workflow
from titles.models import Decision, Registration, RegistrationCount

log = logging.getLogger(__name__)

FOLD_AFTER = 500
"""Rows of one ward-year that make a reading fold them. A ward-year has a few dozen groups (5
titles × 6 states × 3 results × evidence or not, and the recognised ones by decision and
outstanding mark); each approval adds two rows, and summing 500 takes well under a
millisecond."""

GROUP = ("kind", "state", "passed", "has_evidence", "decision_id", "outstanding")
"""What a count row counts by, beside its ward and year."""

_BATCH = 5000  # ids per statement: well under SQLite's limit of bound parameters


def ward_counts(*, ward_id: int, year: int) -> QuerySet[RegistrationCount]:
    """The count rows of a ward's `year`, to be filtered by their fields (`kind`, `state`,
    `passed`, `has_evidence`; the workflow's filters such as `review.APPROVABLE` apply as they
    are) and summed with `Sum("n")`: a group's registrations are the sum of its rows."""
    rows = RegistrationCount.objects.filter(ward_id=ward_id, year=year)
    if rows.count() > FOLD_AFTER:
        _fold(ward_id=ward_id, year=year)
    return rows


class _FoldedMeanwhile(Exception):
    """Another reading folded some of the rows first (SQLite locks no rows)."""


def _fold(*, ward_id: int, year: int) -> None:
    """Replace the ward-year's rows (those no other fold holds) by one per group with their
    sum; a group that sums to nothing keeps no row. If anything stands in the way, nothing
    changes and the counts are read from the rows as they are."""
    rows = RegistrationCount.objects.filter(ward_id=ward_id, year=year)
    skip_locked = connection.features.has_select_for_update_skip_locked
    try:
        with transaction.atomic():
            sums: Counter[tuple] = Counter()
            ids = []
            locked = rows.select_for_update(skip_locked=skip_locked)
            for pk, *group, n in locked.values_list("pk", *GROUP, "n"):
                ids.append(pk)
                sums[tuple(group)] += n
            deleted = 0
            for part in batched(ids, _BATCH):
                deleted += RegistrationCount.objects.filter(pk__in=part).delete()[0]
            if deleted != len(ids):
                raise _FoldedMeanwhile
            RegistrationCount.objects.bulk_create(
                RegistrationCount(ward_id=ward_id, year=year, n=n, **_fields(group))
                for group, n in sums.items()
                if n
            )
    except (_FoldedMeanwhile, DatabaseError) as error:
        log.info("counts of ward %s, %s not folded: %r", ward_id, year, error)


def _fields(group: tuple) -> dict:
    return dict(zip(GROUP, group, strict=True))


def decision_counts(*, decision: Decision) -> dict[str, tuple[int, int]]:
    """A decision's recognised registrations by title: kind -> (registrations, outstanding),
    summed from its ward-year's counts (a decision of 100,000 citizens counted from its rows
    took 60-120 ms on every visit to its page)."""
    rows = (
        ward_counts(ward_id=decision.ward_id, year=decision.year)
        .filter(decision_id=decision.pk)
        .values("kind")
        .annotate(total=Sum("n"), outstanding_total=Sum("n", filter=Q(outstanding=True)))
        .order_by()
    )
    return {
        row["kind"]: (row["total"], row["outstanding_total"] or 0) for row in rows if row["total"]
    }


def counts_verify(*, ward_ids: list[int]) -> list[tuple[tuple, int, int]]:
    """Every group of the wards whose summed count differs from its registrations counted
    one by one: (ward id, year, *GROUP), stored, computed."""
    has_evidence = ExpressionWrapper(workflow.HAS_EVIDENCE, output_field=BooleanField())
    computed = {
        (row["ward_id"], row["year"], *(row[f] for f in GROUP)): row["total"]
        for row in Registration.objects.filter(ward_id__in=ward_ids)
        .annotate(has_evidence=has_evidence)
        .values("ward_id", "year", *GROUP)
        .annotate(total=Count("*"))
        .order_by()
    }
    stored = {
        (row["ward_id"], row["year"], *(row[f] for f in GROUP)): row["total"]
        for row in RegistrationCount.objects.filter(ward_id__in=ward_ids)
        .values("ward_id", "year", *GROUP)
        .annotate(total=Sum("n"))
        .order_by()
    }
    return [
        (key, stored.get(key, 0), computed.get(key, 0))
        for key in sorted(set(stored) | set(computed), key=str)
        if stored.get(key, 0) != computed.get(key, 0)
    ]
