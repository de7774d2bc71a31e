"""Keeping `Rollup` exact, and checking it.

Every titles write that adds registrations or decides them calls `rollups_refresh` for the
wards it touched, in its own transaction: the ward's rows (and its residential areas') are
recomputed from the registrations, the province's rows are summed from its wards'. Approvals
and rejections move no figure (registered counts every registration, recognised only decided
ones), so they need no refresh; a decision does.

`rollup_verify` recomputes a province from the detail rows alone and lists every difference
from the stored summaries, entity tallies included. There must be none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Q, Sum

from registry.models import AdministrativeUnit, Entity, EntityTally, Kind, RollupLevel
from registry.services.tallies import lock_wards, tallies_compute, tallies_refresh
from titles.models import Registration, Rollup, State

COUNTS = ("registered", "recognized", "outstanding")
_FIGURES = {
    "registered": Count("pk"),
    "recognized": Count("pk", filter=Q(state=State.RECOGNIZED)),
    "outstanding": Count("pk", filter=Q(state=State.RECOGNIZED, outstanding=True)),
}
# Which registrations count toward a residential area: a household's, a citizen's through
# their household, and the area's own.
_COMMUNITY_OF = {
    Kind.FAMILY: F("entity__family__community_id"),
    Kind.CITIZEN: F("entity__citizen__family__community_id"),
    Kind.COMMUNITY: F("entity_id"),
}


def rollups_compute(*, ward_ids: Iterable[int], years: Iterable[int] | None = None) -> dict:
    """Ward- and community-level figures of these wards from the registrations.

    Returns {(level, unit_id, year, kind): (registered, recognized, outstanding)}.
    """
    qs = Registration.objects.filter(ward_id__in=list(ward_ids))
    if years is not None:
        qs = qs.filter(year__in=list(years))
    figures = {}
    for row in qs.values("ward_id", "year", "kind").annotate(**_FIGURES).order_by():
        key = (RollupLevel.WARD, row["ward_id"], row["year"], row["kind"])
        figures[key] = tuple(row[c] for c in COUNTS)
    for kind, community in _COMMUNITY_OF.items():
        rows = (
            qs.filter(kind=kind)
            .annotate(community=community)
            .exclude(community__isnull=True)
            .values("community", "year")
            .annotate(**_FIGURES)
            .order_by()
        )
        for row in rows:
            key = (RollupLevel.COMMUNITY, row["community"], row["year"], kind)
            figures[key] = tuple(row[c] for c in COUNTS)
    return figures


@transaction.atomic
def rollups_refresh(
    *, ward_ids: Iterable[int], years: Iterable[int] | None = None, entities: bool = False
) -> None:
    """Recompute the roll-ups of these wards (for `years`, or all) and of their provinces.

    `entities=True` also recomputes the registry tallies (after a household moved between
    residential areas, both its entity count and its registrations move).
    """
    ward_ids = set(ward_ids)
    if entities:
        tallies_refresh(ward_ids=ward_ids)
    provinces = lock_wards(ward_ids)
    if not provinces:
        return
    years = None if years is None else set(years)
    figures = rollups_compute(ward_ids=provinces, years=years)
    community_ward = dict(
        Entity.objects.filter(ward_id__in=provinces, kind=Kind.COMMUNITY).values_list(
            "pk", "ward_id"
        )
    )
    stale = Rollup.objects.filter(
        Q(level=RollupLevel.WARD, unit_id__in=provinces)
        | Q(level=RollupLevel.COMMUNITY, ward_id__in=provinces)
    )
    if years is not None:
        stale = stale.filter(year__in=years)
    stale.delete()
    rows = []
    for (level, unit_id, year, kind), (registered, recognized, outstanding) in figures.items():
        ward_id = unit_id if level == RollupLevel.WARD else community_ward[unit_id]
        rows.append(
            Rollup(
                level=level,
                unit_id=unit_id,
                ward_id=ward_id,
                province_id=provinces[ward_id],
                year=year,
                kind=kind,
                registered=registered,
                recognized=recognized,
                outstanding=outstanding,
            )
        )
    Rollup.objects.bulk_create(rows, batch_size=2000)
    _province_rollups_refresh(set(provinces.values()), years)


def _province_rollups_refresh(province_ids: set[int], years: set[int] | None) -> None:
    """A province's figures are the sums of its wards'."""
    wards = Rollup.objects.filter(level=RollupLevel.WARD, province_id__in=province_ids)
    stale = Rollup.objects.filter(level=RollupLevel.PROVINCE, unit_id__in=province_ids)
    if years is not None:
        wards = wards.filter(year__in=years)
        stale = stale.filter(year__in=years)
    sums = (
        wards.values("province_id", "year", "kind")
        .annotate(**{c: Sum(c) for c in COUNTS})
        .order_by()
    )
    stale.delete()
    Rollup.objects.bulk_create(
        [
            Rollup(
                level=RollupLevel.PROVINCE,
                unit_id=row["province_id"],
                province_id=row["province_id"],
                year=row["year"],
                kind=row["kind"],
                **{c: row[c] for c in COUNTS},
            )
            for row in sums
        ]
    )


def rollups_rebuild(*, province_id: int) -> None:
    """Recompute every summary of a province (after a bulk load such as the demo data)."""
    ward_ids = AdministrativeUnit.objects.filter(parent_id=province_id).values_list("pk", flat=True)
    rollups_refresh(ward_ids=list(ward_ids), entities=True)


@dataclass(frozen=True)
class Difference:
    table: str  # "rollup" or "tally"
    key: tuple
    stored: tuple
    computed: tuple


def rollup_verify(*, province_id: int) -> list[Difference]:
    """Every difference between the stored summaries and the detail rows of a province."""
    ward_ids = list(
        AdministrativeUnit.objects.filter(parent_id=province_id).values_list("pk", flat=True)
    )
    differences: list[Difference] = []

    computed_rollups = rollups_compute(ward_ids=ward_ids)
    province_sums: dict[tuple, list[int]] = {}
    for (level, _unit, year, kind), values in computed_rollups.items():
        if level == RollupLevel.WARD:
            sums = province_sums.setdefault(
                (RollupLevel.PROVINCE, province_id, year, kind), [0] * 3
            )
            for i, v in enumerate(values):
                sums[i] += v
    computed_rollups.update({k: tuple(v) for k, v in province_sums.items()})
    stored_rollups = {
        (r.level, r.unit_id, r.year, r.kind): (r.registered, r.recognized, r.outstanding)
        for r in Rollup.objects.filter(province_id=province_id)
    }
    for key in sorted(set(computed_rollups) | set(stored_rollups), key=str):
        stored, computed = stored_rollups.get(key, (0, 0, 0)), computed_rollups.get(key, (0, 0, 0))
        if stored != computed:
            differences.append(Difference("rollup", key, stored, computed))

    computed_tallies: Counter = tallies_compute(ward_ids=ward_ids)
    for (level, _unit, kind), n in list(computed_tallies.items()):
        if level == RollupLevel.WARD:
            computed_tallies[(RollupLevel.PROVINCE, province_id, kind)] += n
    stored_tallies = {
        (t.level, t.unit_id, t.kind): t.entities
        for t in EntityTally.objects.filter(province_id=province_id)
    }
    for key in sorted(set(computed_tallies) | set(stored_tallies), key=str):
        stored, computed = stored_tallies.get(key, 0), computed_tallies.get(key, 0)
        if stored != computed:
            differences.append(Difference("tally", key, (stored,), (computed,)))
    return differences
