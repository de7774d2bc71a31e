"""Keeping `EntityTally` exact: recompute a ward's tallies from its detail rows.

Called in the same transaction as every registry write that adds entities or moves one
between residential areas. Recomputing the touched wards (rather than adding deltas) makes the
summary exact by construction: whatever the write did, the ward's tallies are what its rows say.
A ward is a few thousand to a few tens of thousands of rows, read through indexes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Sum

from registry.models import (
    AdministrativeUnit,
    Citizen,
    Community,
    Entity,
    EntityTally,
    Family,
    Kind,
    RollupLevel,
)

# (level, unit_id, kind) -> count
TallyKey = tuple[str, int, str]


def lock_wards(ward_ids: Iterable[int]) -> dict[int, int]:
    """Lock the wards' rows (in id order) so concurrent refreshes of a ward queue up.

    FOR NO KEY UPDATE: the writes that refresh have usually inserted rows pointing at the ward
    already (a registration, an entity, a decision), which takes a key-share lock on it; a
    plain FOR UPDATE would then deadlock two such writes in one ward.

    Returns ward id -> province id.
    """
    rows = (
        AdministrativeUnit.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted(set(ward_ids)), level=AdministrativeUnit.Level.WARD)
        .order_by("pk")
        .values_list("pk", "parent_id")
    )
    return dict(rows)


def tallies_compute(*, ward_ids: Iterable[int]) -> Counter:
    """Ward- and community-level tallies of these wards, from the detail rows.

    Households and citizens are found through the wards' residential areas (a household is in
    its area's ward: a database invariant), so the queries read the wards' rows through the
    residential-area and family indexes, whatever the size of the province.
    """
    ward_ids = list(ward_ids)
    counts: Counter = Counter()
    for ward_id, kind, n in (
        Entity.objects.filter(ward_id__in=ward_ids)
        .values_list("ward_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[(RollupLevel.WARD, ward_id, kind)] = n
    areas = list(
        Entity.objects.filter(ward_id__in=ward_ids, kind=Kind.COMMUNITY).values_list(
            "pk", flat=True
        )
    )
    for start in range(0, len(areas), 900):
        chunk = areas[start : start + 900]
        for community_id, n in (
            Family.objects.filter(community_id__in=chunk)
            .values_list("community_id")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            counts[(RollupLevel.COMMUNITY, community_id, Kind.FAMILY)] = n
        for community_id, n in (
            Citizen.objects.filter(family__community_id__in=chunk)
            .values_list("family__community_id")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            counts[(RollupLevel.COMMUNITY, community_id, Kind.CITIZEN)] = n
        for community_id in Community.objects.filter(entity_id__in=chunk).values_list(
            "entity_id", flat=True
        ):
            counts[(RollupLevel.COMMUNITY, community_id, Kind.COMMUNITY)] = 1
    return counts


@transaction.atomic
def tallies_refresh(*, ward_ids: Iterable[int]) -> None:
    """Recompute the tallies of these wards, their residential areas and their provinces."""
    provinces = lock_wards(ward_ids)
    if not provinces:
        return
    ward_ids = list(provinces)
    counts = tallies_compute(ward_ids=ward_ids)
    community_ward = dict(
        Entity.objects.filter(ward_id__in=ward_ids, kind=Kind.COMMUNITY).values_list(
            "pk", "ward_id"
        )
    )
    EntityTally.objects.filter(level=RollupLevel.WARD, unit_id__in=ward_ids).delete()
    EntityTally.objects.filter(level=RollupLevel.COMMUNITY, ward_id__in=ward_ids).delete()
    rows = []
    for (level, unit_id, kind), n in counts.items():
        ward_id = unit_id if level == RollupLevel.WARD else community_ward[unit_id]
        rows.append(
            EntityTally(
                level=level,
                unit_id=unit_id,
                kind=kind,
                entities=n,
                ward_id=ward_id,
                province_id=provinces[ward_id],
            )
        )
    EntityTally.objects.bulk_create(rows, batch_size=2000)
    _province_tallies_refresh(set(provinces.values()))


def _province_tallies_refresh(province_ids: set[int]) -> None:
    """Province tallies are the sums of their wards' tallies."""
    sums = (
        EntityTally.objects.filter(level=RollupLevel.WARD, province_id__in=province_ids)
        .values_list("province_id", "kind")
        .annotate(n=Sum("entities"))
        .order_by()
    )
    EntityTally.objects.filter(level=RollupLevel.PROVINCE, unit_id__in=province_ids).delete()
    EntityTally.objects.bulk_create(
        [
            EntityTally(
                level=RollupLevel.PROVINCE,
                unit_id=province_id,
                province_id=province_id,
                kind=kind,
                entities=n,
            )
            for province_id, kind, n in sums
        ]
    )
