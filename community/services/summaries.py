"""Keeping the groups' summaries exact: recompute a ward's rows from its detail rows.

Called in the transaction of every write that moves them (a service or an import): whatever the
write did, the ward's summaries are what its groups, members and activities say. A ward holds a
few hundred groups and some thousands of activities, read through the ward indexes. A province
has no rows of its own: its figures are the sums of its wards' rows (`community.selectors`).
`summaries_verify` recomputes every ward and names each difference.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Sum

from community.models import (
    ALL_TYPES,
    Activity,
    ActivityCitizen,
    ActivitySummary,
    Group,
    GroupTally,
    Member,
)
from registry.services.tallies import lock_wards

ActivityKey = tuple[int, int, str]  # (ward id, year, group type or "all")
ACTIVITY_FIGURES = ("activities", "participants", "people_helped", "dossiers", "citizens_reached")
TallyKey = tuple[int, str, int | None, int | None]  # (ward id, type, from year, to year)


@dataclass(frozen=True)
class Computed:
    activities: dict[ActivityKey, tuple[int, ...]]
    tallies: dict[TallyKey, tuple[int, int]]  # (groups, members)


def summaries_compute(*, ward_ids: Iterable[int]) -> Computed:
    """The summary rows of these wards, from the detail rows."""
    ward_ids = list(ward_ids)
    figures: dict[ActivityKey, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    by_type = (
        Activity.objects.filter(ward_id__in=ward_ids)
        .values_list("ward_id", "year", "group__group_type")
        .annotate(n=Count("pk"), p=Sum("participants"), h=Sum("people_helped"), d=Sum("dossiers"))
        .order_by()
    )
    for ward_id, year, group_type, n, p, h, d in by_type:
        for key in ((ward_id, year, group_type), (ward_id, year, ALL_TYPES)):
            row = figures[key]
            row[0] += n
            row[1] += p
            row[2] += h
            row[3] += d
    helped = ActivityCitizen.objects.filter(activity__ward_id__in=ward_ids)
    for ward_id, year, group_type, n in (
        helped.values_list("activity__ward_id", "activity__year", "activity__group__group_type")
        .annotate(n=Count("citizen_id", distinct=True))
        .order_by()
    ):
        figures[(ward_id, year, group_type)][4] = n
    for ward_id, year, n in (
        helped.values_list("activity__ward_id", "activity__year")
        .annotate(n=Count("citizen_id", distinct=True))
        .order_by()
    ):
        figures[(ward_id, year, ALL_TYPES)][4] = n

    tallies: Counter = Counter()
    for ward_id, group_type, founded, n in (
        Group.objects.filter(ward_id__in=ward_ids)
        .values_list("ward_id", "group_type", "founded__year")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        tallies[(ward_id, group_type, founded, None, "groups")] += n
    for ward_id, group_type, joined, left, n in (
        Member.objects.filter(ward_id__in=ward_ids)
        .values_list("ward_id", "group__group_type", "joined__year", "left__year")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        tallies[(ward_id, group_type, joined, left, "members")] += n
    merged: dict[TallyKey, list[int]] = defaultdict(lambda: [0, 0])
    for (ward_id, group_type, low, high, what), n in tallies.items():
        merged[(ward_id, group_type, low, high)][0 if what == "groups" else 1] += n
    return Computed(
        activities={key: tuple(row) for key, row in figures.items()},
        tallies={key: tuple(row) for key, row in merged.items()},
    )


@transaction.atomic
def summaries_refresh(*, ward_ids: Iterable[int]) -> None:
    """Recompute the summaries of these wards (their rows locked, so refreshes queue up)."""
    provinces = lock_wards(ward_ids)
    if not provinces:
        return
    computed = summaries_compute(ward_ids=provinces)
    ActivitySummary.objects.filter(ward_id__in=provinces).delete()
    GroupTally.objects.filter(ward_id__in=provinces).delete()
    ActivitySummary.objects.bulk_create(
        [
            ActivitySummary(
                ward_id=ward_id,
                province_id=provinces[ward_id],
                year=year,
                group_type=group_type,
                **dict(zip(ACTIVITY_FIGURES, values, strict=True)),
            )
            for (ward_id, year, group_type), values in computed.activities.items()
        ],
        batch_size=1000,
    )
    GroupTally.objects.bulk_create(
        [
            GroupTally(
                ward_id=ward_id,
                province_id=provinces[ward_id],
                group_type=group_type,
                from_year=low,
                to_year=high,
                groups=groups,
                members=members,
            )
            for (ward_id, group_type, low, high), (groups, members) in computed.tallies.items()
        ],
        batch_size=1000,
    )


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple
    stored: tuple
    computed: tuple


def summaries_verify(*, province_id: int | None = None) -> list[Difference]:
    """Every difference between the stored summaries and the detail rows (of one province, or
    of all), each named by table, key, stored and computed figures."""
    wards: set[int] = set()
    for model in (Group, Activity, ActivitySummary, GroupTally):
        qs = model.objects.all()
        if province_id is not None:
            qs = qs.filter(province_id=province_id)
        wards |= set(qs.values_list("ward_id", flat=True).distinct())
    differences: list[Difference] = []
    ward_list = sorted(wards)
    for start in range(0, len(ward_list), 200):
        chunk = ward_list[start : start + 200]
        computed = summaries_compute(ward_ids=chunk)
        stored_activities = {
            (row[0], row[1], row[2]): tuple(row[3:])
            for row in ActivitySummary.objects.filter(ward_id__in=chunk).values_list(
                "ward_id", "year", "group_type", *ACTIVITY_FIGURES
            )
        }
        stored_tallies: dict[TallyKey, tuple[int, int]] = defaultdict(lambda: (0, 0))
        for ward_id, group_type, low, high, groups, members in GroupTally.objects.filter(
            ward_id__in=chunk
        ).values_list("ward_id", "group_type", "from_year", "to_year", "groups", "members"):
            before = stored_tallies[(ward_id, group_type, low, high)]
            stored_tallies[(ward_id, group_type, low, high)] = (
                before[0] + groups,
                before[1] + members,
            )
        differences += _compare("activity_summary", stored_activities, computed.activities, 5)
        differences += _compare("group_tally", dict(stored_tallies), computed.tallies, 2)
    return differences


def _compare(table: str, stored: dict, computed: dict, width: int) -> list[Difference]:
    zero = (0,) * width
    return [
        Difference(table, key, stored.get(key, zero), computed.get(key, zero))
        for key in sorted(set(stored) | set(computed), key=str)
        if stored.get(key, zero) != computed.get(key, zero)
    ]
