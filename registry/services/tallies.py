"""Keeping `EntityTally` and `BirthYearTally` exact: recompute a ward's tallies from its detail
rows.

Called in the same transaction as every registry write that adds entities, moves one
between residential areas or changes a household's members (family tallies keep their sum).
Recomputing the touched wards (rather than adding deltas) makes the summary exact by
construction: whatever the write did, the ward's tallies are what its rows say. A ward is a
few thousand to a few tens of thousands of rows, read through indexes — seconds for the
largest, too long for the one household a page adds or edits: creating one entity moves its
tallies by one instead (`tallies_add`), and changing a household's members or a citizen's birth
year moves them by the difference (`tallies_change`), under the same keys and the same lock.

**Which entities a year counts** (the registry as of 31 December): an entity counts in year Y
if it was in the registry by 31/12/Y, that is if its `counted_from` is Y or earlier (empty:
every year). An entity recorded in year C counts from the year after the latest year before C
that its ward kept in the system (a year some of whose registrations were recorded during it),
or in every year if there is none: the years a ward loads afterwards as history (its registry
first, then the past years' files) were never kept live, so they count the registry as loaded
(`registry.hooks.entities_counted_from`; the titles app tells which years a ward kept). An
entity registered for a year counts in it whatever its `counted_from` said
(`entities_count_in`): it evidently existed then. The tallies keep one row per `counted_from`
(0 for empty), so a year's count is the sum of the rows up to it (`tallies_for_year`).
An entity cannot be removed once it has registered (the key protects it); one removed before
leaves every year that is not signed off (a signed-off year keeps its snapshot).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce

from registry.models import (
    KIND_MODELS,
    AdministrativeUnit,
    BirthYearTally,
    Citizen,
    Community,
    Entity,
    EntityTally,
    Family,
    Kind,
    RollupLevel,
)

# (level, unit_id, kind, counted_from) -> count; counted_from 0: counted in every year
TallyKey = tuple[str, int, str, int]


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
    """Ward- and community-level tallies of these wards, from the detail rows, by the first
    year each entity counts in (0: every year).

    Households and citizens are found through the wards' residential areas (a household is in
    its area's ward: a database invariant), so the queries read the wards' rows through the
    residential-area and family indexes, whatever the size of the province.
    """
    ward_ids = list(ward_ids)
    counts: Counter = Counter()
    for ward_id, kind, since, n in (
        Entity.objects.filter(ward_id__in=ward_ids)
        .annotate(since=Coalesce("counted_from", 0))
        .values_list("ward_id", "kind", "since")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[(RollupLevel.WARD, ward_id, kind, since)] = n
    areas = list(
        Entity.objects.filter(ward_id__in=ward_ids, kind=Kind.COMMUNITY).values_list(
            "pk", flat=True
        )
    )
    for start in range(0, len(areas), 900):
        chunk = areas[start : start + 900]
        for community_id, since, n in (
            Family.objects.filter(community_id__in=chunk)
            .annotate(since=Coalesce("entity__counted_from", 0))
            .values_list("community_id", "since")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            counts[(RollupLevel.COMMUNITY, community_id, Kind.FAMILY, since)] = n
        for community_id, since, n in (
            Citizen.objects.filter(family__community_id__in=chunk)
            .annotate(since=Coalesce("entity__counted_from", 0))
            .values_list("family__community_id", "since")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            counts[(RollupLevel.COMMUNITY, community_id, Kind.CITIZEN, since)] = n
        for community_id, since in (
            Community.objects.filter(entity_id__in=chunk)
            .annotate(since=Coalesce("entity__counted_from", 0))
            .values_list("entity_id", "since")
        ):
            counts[(RollupLevel.COMMUNITY, community_id, Kind.COMMUNITY, since)] = 1
    return counts


def members_compute(*, ward_ids: Iterable[int]) -> Counter:
    """The members of the households each family tally of these wards counts, by the same keys
    as `tallies_compute` (ward and residential-area levels), in one query grouped by area."""
    members: Counter = Counter()
    for area_id, ward_id, since, n in (
        Family.objects.filter(entity__ward_id__in=list(ward_ids))
        .annotate(since=Coalesce("entity__counted_from", 0))
        .values_list("community_id", "entity__ward_id", "since")
        .annotate(n=Sum("members"))
        .order_by()
    ):
        members[(RollupLevel.COMMUNITY, area_id, Kind.FAMILY, since)] += n
        members[(RollupLevel.WARD, ward_id, Kind.FAMILY, since)] += n
    return members


def tallies_for_year(
    *,
    level: str,
    unit_ids: Iterable[int] = (),
    year: int,
    kinds=None,
    ward_ids: Iterable[int] | None = None,
) -> Counter:
    """{(unit id, kind): entities counted in `year`} from the stored tallies (the registry as
    of 31 December of `year`). `ward_ids` instead of `unit_ids`: the rows of `level` in these
    wards (a province's residential areas are read by their hundred wards, not by thousands
    of ids)."""
    rows = EntityTally.objects.filter(level=level, counted_from__lte=year)
    if ward_ids is not None:
        rows = rows.filter(ward_id__in=list(ward_ids))
    else:
        rows = rows.filter(unit_id__in=list(unit_ids))
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    return Counter(
        {
            (unit_id, kind): n
            for unit_id, kind, n in rows.values_list("unit_id", "kind")
            .annotate(n=Sum("entities"))
            .order_by()
        }
    )


# Up to this many entities moved back to an earlier year move their tallies one by one (a page's
# registration); more (an import, a whole area registered) recompute their wards once.
COUNT_IN_ONE_BY_ONE = 20


@transaction.atomic
def entities_count_in(*, entity_ids: Iterable[int], year: int) -> None:
    """These entities registered for `year`: they existed then, so they count in it (their
    `counted_from` moves back to `year` if it was later) and their wards' tallies follow.

    One UPDATE per 900 entities when none was counted later (the usual case). A few that were
    (a household added after its ward kept the year, then registered for it) move their tallies
    from their old year's rows to `year`'s, as `tallies_add` moves them by one: recomputing a
    ward of 170,000 households took seconds of the database, holding the ward's lock."""
    ids = sorted(set(entity_ids))
    if len(ids) <= COUNT_IN_ONE_BY_ONE:
        _count_in_one_by_one(ids, year)
        return
    moved: list[int] = []
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        if Entity.objects.filter(pk__in=chunk, counted_from__gt=year).update(counted_from=year):
            moved += chunk
    if moved:
        wards = set(
            Entity.objects.filter(pk__in=moved, counted_from=year).values_list("ward_id", flat=True)
        )
        tallies_refresh(ward_ids=wards)


def _count_in_one_by_one(ids: list[int], year: int) -> None:
    """`entities_count_in` for a few entities: each counted later than `year` leaves its old
    `counted_from`'s tally rows and joins `year`'s (its ward's, its province's, its area's).
    The entities' rows are locked before their wards' rows, in the order the recomputing path
    takes them (its UPDATE, then `lock_wards`)."""
    later = list(
        Entity.objects.select_for_update(no_key=True)
        .filter(pk__in=ids, counted_from__gt=year)
        .order_by("pk")
        .values_list("pk", "kind")
    )
    for pk, kind in later:
        obj = KIND_MODELS[kind].objects.select_related("entity").get(entity_id=pk)
        entity = obj.entity
        provinces = lock_wards([entity.ward_id])
        members = obj.members if kind == Kind.FAMILY else 0
        if provinces:
            province_id = provinces[entity.ward_id]
            _entity_tallies_move(obj, province_id, {"entities": -1, "members": -members})
        Entity.objects.filter(pk=pk).update(counted_from=year)
        entity.counted_from = year
        if provinces:
            _entity_tallies_move(obj, province_id, {"entities": 1, "members": members})


@transaction.atomic
def tallies_refresh(*, ward_ids: Iterable[int]) -> None:
    """Recompute the tallies of these wards, their residential areas and their provinces."""
    provinces = lock_wards(ward_ids)
    if not provinces:
        return
    ward_ids = list(provinces)
    counts = tallies_compute(ward_ids=ward_ids)
    members = members_compute(ward_ids=ward_ids)
    community_ward = dict(
        Entity.objects.filter(ward_id__in=ward_ids, kind=Kind.COMMUNITY).values_list(
            "pk", "ward_id"
        )
    )
    EntityTally.objects.filter(level=RollupLevel.WARD, unit_id__in=ward_ids).delete()
    EntityTally.objects.filter(level=RollupLevel.COMMUNITY, ward_id__in=ward_ids).delete()
    rows = []
    for (level, unit_id, kind, since), n in counts.items():
        ward_id = unit_id if level == RollupLevel.WARD else community_ward[unit_id]
        rows.append(
            EntityTally(
                level=level,
                unit_id=unit_id,
                kind=kind,
                counted_from=since,
                entities=n,
                members=members[(level, unit_id, kind, since)],
                ward_id=ward_id,
                province_id=provinces[ward_id],
            )
        )
    EntityTally.objects.bulk_create(rows, batch_size=2000)
    _province_tallies_refresh(set(provinces.values()))
    BirthYearTally.objects.filter(ward_id__in=ward_ids).delete()
    BirthYearTally.objects.bulk_create(
        [
            BirthYearTally(
                ward_id=ward_id,
                province_id=provinces[ward_id],
                birth_year=birth_year,
                citizens=n,
            )
            for (ward_id, birth_year), n in birth_tallies_compute(ward_ids=ward_ids).items()
        ],
        batch_size=2000,
    )


def tallies_add(obj) -> None:
    """One entity just created (`obj`, its kind's row): its tallies move by one, under the same
    keys `tallies_compute`, `members_compute` and `birth_tallies_compute` would count it, so
    that adding a household costs a few indexed updates instead of recomputing its ward (seconds
    for a ward of tens of thousands of households). The ward's row is locked as a refresh locks
    it; `rollup --verify` checks the result against a recomputation."""
    entity = obj.entity
    provinces = lock_wards([entity.ward_id])
    if not provinces:
        return
    province_id = provinces[entity.ward_id]
    members = obj.members if entity.kind == Kind.FAMILY else 0
    _entity_tallies_move(obj, province_id, {"entities": 1, "members": members})
    if entity.kind == Kind.CITIZEN:
        _birth_tally_move(entity.ward_id, obj.birth_year, 1, province_id=province_id)


def tallies_change(obj, *, members_before: int | None = None, birth_year_before=None) -> None:
    """One existing entity's counted figures just changed (`obj` as saved): a household's members
    (`members_before` the old number) or a citizen's birth year (`birth_year_before`). Its tallies
    move by the difference, as `tallies_add` moves them by one, instead of recomputing its ward.
    An entity moved to another residential area is not for this: its ward is recomputed."""
    entity = obj.entity
    members_moved = (
        entity.kind == Kind.FAMILY and members_before is not None and obj.members != members_before
    )
    born_moved = (
        entity.kind == Kind.CITIZEN
        and birth_year_before is not None
        and obj.birth_year != birth_year_before
    )
    if not (members_moved or born_moved):
        return
    provinces = lock_wards([entity.ward_id])
    if not provinces:
        return
    province_id = provinces[entity.ward_id]
    if members_moved:
        _entity_tallies_move(obj, province_id, {"members": obj.members - members_before})
    if born_moved:
        _birth_tally_move(entity.ward_id, birth_year_before, -1, province_id=province_id)
        _birth_tally_move(entity.ward_id, obj.birth_year, 1, province_id=province_id)


def _entity_tallies_move(obj, province_id: int, by: dict[str, int]) -> None:
    """Move the entity tallies that count `obj` (its ward's, its province's and its residential
    area's, under its `counted_from`) by `by`."""
    entity = obj.entity
    since = entity.counted_from or 0
    area_id = None
    if entity.kind == Kind.FAMILY:
        area_id = obj.community_id
    elif entity.kind == Kind.CITIZEN and obj.family_id:
        area_id = Family.objects.filter(pk=obj.family_id).values_list("community_id", flat=True)[0]
    elif entity.kind == Kind.COMMUNITY:
        area_id = entity.pk
    keys = [
        (RollupLevel.WARD, entity.ward_id, entity.ward_id),
        (RollupLevel.PROVINCE, province_id, None),
    ]
    if area_id is not None:
        keys.append((RollupLevel.COMMUNITY, area_id, entity.ward_id))
    for level, unit_id, ward_id in keys:
        _tally_move(
            EntityTally.objects.filter(
                level=level, unit_id=unit_id, kind=entity.kind, counted_from=since
            ),
            by,
            lambda level=level, unit_id=unit_id, ward_id=ward_id: EntityTally(
                level=level,
                unit_id=unit_id,
                kind=entity.kind,
                counted_from=since,
                ward_id=ward_id,
                province_id=province_id,
            ),
            province_id=province_id,
        )


def _birth_tally_move(ward_id: int, birth_year: int, by: int, *, province_id: int) -> None:
    _tally_move(
        BirthYearTally.objects.filter(ward_id=ward_id, birth_year=birth_year),
        {"citizens": by},
        lambda: BirthYearTally(ward_id=ward_id, province_id=province_id, birth_year=birth_year),
        province_id=province_id,
    )


def _tally_move(rows, by: dict[str, int], new, *, province_id: int) -> None:
    """Add `by` to the tally row `rows` selects, creating it (`new()`) when there is none. A
    ward's rows are created under its lock; a province's row is created under the province's
    lock (taken only then), so two wards never create it twice."""
    moves = {field: F(field) + n for field, n in by.items()}
    if rows.update(**moves):
        return
    locking = AdministrativeUnit.objects.select_for_update(no_key=True).filter(pk=province_id)
    list(locking.values_list("pk"))
    if rows.update(**moves):
        return
    row = new()
    for field, n in by.items():
        setattr(row, field, n)
    row.save()


def birth_tallies_compute(*, ward_ids: Iterable[int]) -> Counter:
    """{(ward id, birth year): citizens} of these wards, from the detail rows."""
    return Counter(
        {
            (ward_id, birth_year): n
            for ward_id, birth_year, n in Citizen.objects.filter(entity__ward_id__in=list(ward_ids))
            .values_list("entity__ward_id", "birth_year")
            .annotate(n=Count("pk"))
            .order_by()
        }
    )


def adults_for_year(*, level: str, unit_ids: Iterable[int], year: int, age: int) -> dict[int, int]:
    """{unit id: citizens aged `age` or more in `year` (born in year − age or earlier)} of these
    wards (`level` ward) or provinces, from the stored birth-year tallies."""
    field = "province_id" if level == RollupLevel.PROVINCE else "ward_id"
    return dict(
        BirthYearTally.objects.filter(
            birth_year__lte=year - age, **{f"{field}__in": list(unit_ids)}
        )
        .values_list(field)
        .annotate(n=Sum("citizens"))
        .order_by()
    )


def _province_tallies_refresh(province_ids: set[int]) -> None:
    """Province tallies are the sums of their wards' tallies."""
    sums = (
        EntityTally.objects.filter(level=RollupLevel.WARD, province_id__in=province_ids)
        .values_list("province_id", "kind", "counted_from")
        .annotate(n=Sum("entities"), m=Sum("members"))
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
                counted_from=since,
                entities=n,
                members=m,
            )
            for province_id, kind, since, n, m in sums
        ]
    )
