"""Keeping `Rollup` exact, and checking it.

Two ways to keep the summaries exact, both in the transaction of the write, both under the
lock of the ward's row (`lock_wards`), so that writes to one ward queue up:

- **Deltas**, for the writes whose effect is known row by row: a new registration adds itself
  (`rollups_count_new`), a decision adds its registrations to `recognized` / `outstanding`
  (`rollups_count_recognized`). The cost is two statements (read the registrations' areas,
  update the rows they count toward), whatever the size of the ward or the province.
- **Recomputation of the touched wards** (`rollups_refresh`), for bulk writes (imports) and for
  moves between residential areas: the ward's rows and its residential areas' are recomputed from
  the registrations, through queries bounded by the ward (its own registrations, its residential
  areas' households and citizens), so the cost grows with the ward, not the province.

In both cases a province's rows move by the difference of its wards' rows (an UPDATE that adds
it), so concurrent writes in different wards of a province never overwrite each other's
figures; updates happen in key order, so they cannot deadlock either. Approvals, rejections and
sign-offs move no figure (registered counts every registration, recognised only decided ones),
so they need no upkeep.

**A signed-off ward-year is frozen** (`rollups_freeze`, in the sign-off's transaction): its
ward and residential-area rows, with the entities the year counted then, are kept in
`RollupSnapshot`; every recomputation (refresh, rebuild) writes that ward-year's `Rollup` rows
from the snapshot instead of the detail rows, so households added, imported or moved afterwards
leave its figures as they were, and its province rows keep summing them. Reopening
(`rollups_unfreeze`) deletes the snapshot and recomputes the ward-year from the detail rows.
Open years count the entities by the registry's year rule (`registry.services.tallies`).

`rollup_verify` recomputes a province from the detail rows alone (frozen ward-years from their
snapshots) and lists every difference from the stored summaries, entity tallies included.
There must be none; `rollups_rebuild` recomputes a whole province (after a bulk load).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Min, Q, Sum
from django.utils import timezone

from registry.models import (
    AdministrativeUnit,
    BirthYearTally,
    Entity,
    EntityTally,
    Kind,
    RollupLevel,
)
from registry.services.tallies import (
    birth_tallies_compute,
    lock_wards,
    members_compute,
    tallies_compute,
    tallies_for_year,
    tallies_refresh,
)
from titles.models import Registration, Rollup, RollupSnapshot, State, WardSignOff
from titles.services.counts import counts_verify

COUNTS = ("registered", "recognized", "outstanding")
# (level, unit_id, year, kind)
RollupKey = tuple[str, int, int, str]

_FIGURES_SQL = (
    "COUNT(*), "
    "SUM(CASE WHEN r.state = %s THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN r.state = %s AND r.outstanding THEN 1 ELSE 0 END)"
)
# A residential area's registrations: its households', their citizens', and its own. Each query
# is bounded by the wards twice: the registrations by (ward, year, kind) and the households by
# their residential area, so PostgreSQL reads the ward's rows through indexes instead of
# hashing the whole province's households and citizens.
_COMMUNITY_SQL = {
    Kind.FAMILY: """
        SELECT f.community_id, r.year, {figures}
        FROM titles_registration r
        JOIN registry_family f ON f.entity_id = r.entity_id
        WHERE r.ward_id IN ({wards}) AND r.kind = %s {years}
          AND f.community_id IN ({communities})
        GROUP BY f.community_id, r.year""",
    Kind.CITIZEN: """
        SELECT f.community_id, r.year, {figures}
        FROM titles_registration r
        JOIN registry_citizen c ON c.entity_id = r.entity_id
        JOIN registry_family f ON f.entity_id = c.family_id
        WHERE r.ward_id IN ({wards}) AND r.kind = %s {years}
          AND f.community_id IN ({communities})
        GROUP BY f.community_id, r.year""",
    Kind.COMMUNITY: """
        SELECT r.entity_id, r.year, {figures}
        FROM titles_registration r
        WHERE r.ward_id IN ({wards}) AND r.kind = %s {years}
        GROUP BY r.entity_id, r.year""",
}
_COMMUNITIES_OF_WARDS = (
    "SELECT id FROM registry_entity WHERE ward_id IN ({wards}) AND kind = 'community'"
)


def _placeholders(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def rollups_compute(*, ward_ids: Iterable[int], years: Iterable[int] | None = None) -> dict:
    """Ward- and community-level figures of these wards from the registrations.

    Returns {(level, unit_id, year, kind): (registered, recognized, outstanding)}.
    """
    ward_ids = sorted(set(ward_ids))
    if not ward_ids:
        return {}
    years = None if years is None else sorted(set(years))
    wards_sql = _placeholders(ward_ids)
    years_sql = f"AND r.year IN ({_placeholders(years)})" if years else ""
    if years is not None and not years:
        return {}
    figures_params = [State.RECOGNIZED, State.RECOGNIZED]
    figures: dict[RollupKey, tuple[int, int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT r.ward_id, r.year, r.kind, {_FIGURES_SQL}
                FROM titles_registration r
                WHERE r.ward_id IN ({wards_sql}) {years_sql}
                GROUP BY r.ward_id, r.year, r.kind""",  # noqa: S608 - placeholders only
            [*figures_params, *ward_ids, *(years or [])],
        )
        for ward_id, year, kind, *values in cursor.fetchall():
            figures[(RollupLevel.WARD, ward_id, year, kind)] = tuple(int(v) for v in values)
        for kind, sql in _COMMUNITY_SQL.items():
            query = sql.format(
                figures=_FIGURES_SQL,
                wards=wards_sql,
                years=years_sql,
                communities=_COMMUNITIES_OF_WARDS.format(wards=wards_sql),
            )
            params = [*figures_params, *ward_ids, kind, *(years or [])]
            if kind != Kind.COMMUNITY:
                params += ward_ids
            cursor.execute(query, params)
            for community_id, year, *values in cursor.fetchall():
                figures[(RollupLevel.COMMUNITY, community_id, year, kind)] = tuple(
                    int(v) for v in values
                )
    return figures


# --- deltas -----------------------------------------------------------------------------------


_CONTRIBUTIONS_SQL = """
    SELECT r.ward_id, r.province_id, r.year, r.kind, r.state, r.outstanding, r.entity_id,
           f.community_id, cf.community_id
    FROM titles_registration r
    JOIN registry_administrativeunit w ON w.id = r.ward_id
    LEFT JOIN registry_family f ON f.entity_id = r.entity_id
    LEFT JOIN registry_citizen c ON c.entity_id = r.entity_id
    LEFT JOIN registry_family cf ON cf.entity_id = c.family_id
    WHERE r.id IN ({ids})
    ORDER BY r.ward_id"""


def _contributions(registration_ids: list[int], *, registered: bool) -> dict:
    """What these registrations add to each summary row, their wards locked.

    Each adds one to `recognized` (and `outstanding`) if it is recognised (as outstanding), and
    with `registered` one to `registered`, at its ward, its residential area (if any) and its
    province. Returns {key: [ward_id, province_id, registered, recognized, outstanding]}.

    The same statement takes the wards' row locks (as `lock_wards` does; the writes that call
    this hold them already, for the sign-off check), so a recomputation of the ward cannot
    interleave with the deltas.
    """
    lock = " FOR NO KEY UPDATE OF w" if connection.features.has_select_for_update_of else ""
    deltas: dict[RollupKey, list] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(registration_ids), 900):
            chunk = registration_ids[start : start + 900]
            cursor.execute(_CONTRIBUTIONS_SQL.format(ids=_placeholders(chunk)) + lock, chunk)
            for row in cursor.fetchall():
                ward_id, province_id, year, kind, state, outstanding, entity_id, *areas = row
                recognized = state == State.RECOGNIZED
                figures = (int(registered), int(recognized), int(recognized and bool(outstanding)))
                area = {Kind.FAMILY: areas[0], Kind.CITIZEN: areas[1]}.get(kind, entity_id)
                keys = [
                    ((RollupLevel.WARD, ward_id, year, kind), ward_id),
                    ((RollupLevel.PROVINCE, province_id, year, kind), None),
                ]
                if kind in (Kind.FAMILY, Kind.CITIZEN, Kind.COMMUNITY) and area is not None:
                    keys.append(((RollupLevel.COMMUNITY, area, year, kind), ward_id))
                for key, row_ward in keys:
                    delta = deltas.setdefault(key, [row_ward, province_id, 0, 0, 0])
                    for i, value in enumerate(figures):
                        delta[2 + i] += value
    return deltas


# Several rows moved by one statement; each row's figures stay nested (registered ≥ recognised ≥
# outstanding ≥ 0), else the row is left as it is and reported missing.
_SHIFT_SQL = """
    WITH d (level, unit_id, year, kind, dr, dc, dout) AS (VALUES {values})
    UPDATE titles_rollup SET
        registered = titles_rollup.registered + d.dr,
        recognized = titles_rollup.recognized + d.dc,
        outstanding = titles_rollup.outstanding + d.dout
    FROM d
    WHERE titles_rollup.level = d.level AND titles_rollup.unit_id = d.unit_id
      AND titles_rollup.year = d.year AND titles_rollup.kind = d.kind
      AND titles_rollup.recognized + d.dc <= titles_rollup.registered + d.dr
      AND titles_rollup.outstanding + d.dout <= titles_rollup.recognized + d.dc
      AND titles_rollup.outstanding + d.dout >= 0
    RETURNING titles_rollup.level, titles_rollup.unit_id, titles_rollup.year,
              titles_rollup.kind"""
_UPSERT = """
    INSERT INTO titles_rollup
        (level, unit_id, ward_id, province_id, year, kind, registered, recognized, outstanding)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (level, unit_id, year, kind) DO UPDATE SET
        registered = titles_rollup.registered + excluded.registered,
        recognized = titles_rollup.recognized + excluded.recognized,
        outstanding = titles_rollup.outstanding + excluded.outstanding
    WHERE titles_rollup.recognized + excluded.recognized
              <= titles_rollup.registered + excluded.registered
      AND titles_rollup.outstanding + excluded.outstanding
              <= titles_rollup.recognized + excluded.recognized"""


def _shift(deltas: dict[RollupKey, list]) -> bool:
    """Add the deltas to the summary rows: one UPDATE for all the rows, in key order.

    A missing row is created when the delta is one a new row can hold (an upsert: two wards
    may create their province's row at once). Returns False if a row is missing and the delta
    cannot create it, or if adding it would break outstanding ≤ recognised ≤ registered (the
    summaries were not exact before): the caller recomputes then.
    """
    keys = [key for key in sorted(deltas) if any(deltas[key][2:])]
    if not keys:
        return True
    one = "(" + ", ".join(["%s"] * 7) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            _SHIFT_SQL.format(values=", ".join([one] * len(keys))),
            [value for key in keys for value in (*key, *deltas[key][2:])],
        )
        moved = {tuple(row) for row in cursor.fetchall()}
        applied = True
        for key in keys:
            if key in moved:
                continue
            level, unit_id, year, kind = key
            ward_id, province_id, registered, recognized, outstanding = deltas[key]
            if not registered >= recognized >= outstanding >= 0:
                applied = False
                continue
            cursor.execute(
                _UPSERT, [level, unit_id, ward_id, province_id, year, kind, *deltas[key][2:]]
            )
            applied = applied and cursor.rowcount == 1
    return applied


def _count(registration_ids: Iterable[int], *, registered: bool) -> None:
    ids = sorted(set(registration_ids))
    if not ids:
        return
    deltas = _contributions(ids, registered=registered)
    if not _shift(deltas):
        # The summaries were not exact: recompute these wards and their provinces outright.
        years = {key[2] for key in deltas}
        wards = {key[1] for key in deltas if key[0] == RollupLevel.WARD}
        provinces, _moves = _wards_recompute(wards, years)
        _province_rollups_from_sums(set(provinces.values()), years)


def rollups_count_new(*, registration_ids: Iterable[int]) -> None:
    """Count registrations just created (in whatever state) into their summaries.

    In the caller's transaction (which must be one: the write and its upkeep commit together).
    """
    with transaction.atomic(savepoint=False):
        _count(registration_ids, registered=True)


def rollups_count_recognized(*, registration_ids: Iterable[int]) -> None:
    """Count registrations just recognised (they were counted as registered, not recognised).

    In the caller's transaction, as `rollups_count_new`.
    """
    with transaction.atomic(savepoint=False):
        _count(registration_ids, registered=False)


# --- recomputation ----------------------------------------------------------------------------


def _wards_recompute(ward_ids: Iterable[int], years: set[int] | None) -> tuple[dict, dict]:
    """Recompute the ward- and community-level rows of these wards (locked first).

    Returns (ward id -> province id, {province key: [None, province, Δregistered, Δrecognized,
    Δoutstanding]}): how much the province rows must move.
    """
    provinces = lock_wards(ward_ids)
    if not provinces:
        return {}, {}
    ward_rows = Rollup.objects.filter(level=RollupLevel.WARD, unit_id__in=provinces)
    stale = Rollup.objects.filter(
        Q(level=RollupLevel.WARD, unit_id__in=provinces)
        | Q(level=RollupLevel.COMMUNITY, ward_id__in=provinces)
    )
    if years is not None:
        ward_rows = ward_rows.filter(year__in=years)
        stale = stale.filter(year__in=years)
    province_deltas: dict[RollupKey, list] = {}

    def move(ward_id: int, year: int, kind: str, values: Iterable[int], sign: int) -> None:
        province_id = provinces[ward_id]
        key = (RollupLevel.PROVINCE, province_id, year, kind)
        delta = province_deltas.setdefault(key, [None, province_id, 0, 0, 0])
        for i, value in enumerate(values):
            delta[2 + i] += sign * value

    for ward_id, year, kind, *values in ward_rows.values_list("unit_id", "year", "kind", *COUNTS):
        move(ward_id, year, kind, values, -1)
    community_ward = dict(
        Entity.objects.filter(ward_id__in=provinces, kind=Kind.COMMUNITY).values_list(
            "pk", "ward_id"
        )
    )
    snapshots = snapshot_figures(ward_ids=provinces, years=years)
    frozen = {(key[1], key[2]) for key in snapshots if key[0] == RollupLevel.WARD}
    figures = {
        key: values
        for key, values in rollups_compute(ward_ids=provinces, years=years).items()
        if (key[1] if key[0] == RollupLevel.WARD else community_ward[key[1]], key[2]) not in frozen
    }
    # A frozen ward-year's rows are its snapshot's (rows with no registration stay absent).
    figures.update({key: values for key, values in snapshots.items() if any(values)})
    stale.delete()
    rows = []
    for (level, unit_id, year, kind), values in figures.items():
        ward_id = unit_id if level == RollupLevel.WARD else community_ward.get(unit_id)
        if ward_id is None:  # a snapshot's residential area that no longer exists
            continue
        if level == RollupLevel.WARD:
            move(ward_id, year, kind, values, 1)
        rows.append(
            Rollup(
                level=level,
                unit_id=unit_id,
                ward_id=ward_id,
                province_id=provinces[ward_id],
                year=year,
                kind=kind,
                **dict(zip(COUNTS, values, strict=True)),
            )
        )
    Rollup.objects.bulk_create(rows, batch_size=2000)
    return provinces, province_deltas


@transaction.atomic
def rollups_refresh(
    *, ward_ids: Iterable[int], years: Iterable[int] | None = None, entities: bool = False
) -> None:
    """Recompute the roll-ups of these wards (for `years`, or all) and move their provinces'.

    `entities=True` also recomputes the registry tallies (after a household moved between
    residential areas, both its entity count and its registrations move).
    """
    ward_ids = set(ward_ids)
    if entities:
        tallies_refresh(ward_ids=ward_ids)
    years = None if years is None else set(years)
    provinces, province_deltas = _wards_recompute(ward_ids, years)
    if not _shift(province_deltas):
        _province_rollups_from_sums(set(provinces.values()), years)


def rollups_refresh_wards(ward_ids: set[int]) -> None:
    """Recompute these wards' roll-ups after the registry changed their entities.

    Subscribed to `registry.hooks.wards_changed` at start-up (the registry has refreshed its
    tallies by then): new households count among the entities, and a household moved to another
    residential area moves its registrations' area figures.
    """
    rollups_refresh(ward_ids=ward_ids)


def recorded_years_before(ward_ids: set[int], year: int) -> dict[int, int]:
    """{ward id: the latest year before `year` the ward kept in the system}: a year some of
    whose registrations were recorded during it (not loaded afterwards as history).

    Subscribed to the registry's `on_recorded_years` at start-up: a new entity counts from the
    year after (`registry.services.tallies` states the rule).
    """
    # Year by year back from `year` − 1 to the ward's first, one probe into
    # `reg_ward_year_created` for a registration created before that year ended. Reading the
    # registrations of every past year at once took 100–150 ms per new household in a ward of
    # Hanoi's size.
    latest: dict[int, int] = {}
    for ward_id in sorted(ward_ids):
        registrations = Registration.objects.filter(ward_id=ward_id)
        first = registrations.filter(year__lt=year).aggregate(first=Min("year"))["first"]
        if first is None:
            continue
        for candidate in range(year - 1, first - 1, -1):
            year_end = timezone.make_aware(datetime.datetime(candidate + 1, 1, 1))
            if registrations.filter(year=candidate, created_at__lt=year_end).exists():
                latest[ward_id] = candidate
                break
    return latest


# --- the freeze -------------------------------------------------------------------------------


def snapshot_figures(*, ward_ids: Iterable[int], years: Iterable[int] | None = None) -> dict:
    """The signed-off figures of these wards: {(level, unit_id, year, kind): (registered,
    recognized, outstanding)}; a frozen ward-year has a ward row for every title."""
    rows = RollupSnapshot.objects.filter(ward_id__in=list(ward_ids))
    if years is not None:
        rows = rows.filter(year__in=list(years))
    return {
        (level, unit_id, year, kind): tuple(values)
        for level, unit_id, year, kind, *values in rows.values_list(
            "level", "unit_id", "year", "kind", *COUNTS
        )
    }


def rollups_freeze(*, ward_id: int, year: int) -> None:
    """Keep the ward-year's figures as they are now (in the sign-off's transaction, the ward
    locked): its ward row for every title and each residential area's rows, with the entities
    the year counts now. Replaces any earlier snapshot of the ward-year.

    The ward-year is recomputed from the detail rows first (a few ward-bounded queries), so what
    is kept is exact even if the stored rows had drifted."""
    RollupSnapshot.objects.filter(ward_id=ward_id, year=year).delete()
    rollups_refresh(ward_ids=[ward_id], years=[year])
    province_id = AdministrativeUnit.objects.values_list("parent_id", flat=True).get(pk=ward_id)
    areas = list(
        Entity.objects.filter(ward_id=ward_id, kind=Kind.COMMUNITY).values_list("pk", flat=True)
    )
    stored = {
        (r.level, r.unit_id, r.kind): r
        for r in Rollup.objects.filter(ward_id=ward_id, year=year).filter(
            Q(level=RollupLevel.WARD, unit_id=ward_id) | Q(level=RollupLevel.COMMUNITY)
        )
    }
    entities = {
        (RollupLevel.WARD, unit_id, kind): n
        for (unit_id, kind), n in tallies_for_year(
            level=RollupLevel.WARD, unit_ids=[ward_id], year=year
        ).items()
    }
    entities.update(
        {
            (RollupLevel.COMMUNITY, unit_id, kind): n
            for (unit_id, kind), n in tallies_for_year(
                level=RollupLevel.COMMUNITY, unit_ids=areas, year=year
            ).items()
        }
    )
    keys = {(RollupLevel.WARD, ward_id, k.value) for k in Kind} | set(stored) | set(entities)
    rows = []
    for level, unit_id, kind in sorted(keys):
        figure = stored.get((level, unit_id, kind))
        rows.append(
            RollupSnapshot(
                level=level,
                unit_id=unit_id,
                ward_id=ward_id,
                province_id=province_id,
                year=year,
                kind=kind,
                entities=entities.get((level, unit_id, kind), 0),
                **{c: getattr(figure, c) if figure else 0 for c in COUNTS},
            )
        )
    RollupSnapshot.objects.bulk_create(rows, batch_size=2000)


def rollups_unfreeze(*, ward_id: int, year: int) -> None:
    """Reopened: forget the snapshot and recompute the ward-year from the detail rows."""
    RollupSnapshot.objects.filter(ward_id=ward_id, year=year).delete()
    rollups_refresh(ward_ids=[ward_id], years=[year])


def _province_rollups_from_sums(province_ids: set[int], years: set[int] | None) -> None:
    """A province's figures as the sums of its wards' (all its wards must be locked)."""
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


@transaction.atomic
def rollups_rebuild(*, province_id: int, tallies: bool = True) -> None:
    """Recompute every summary of a province (after a bulk load such as the demo data).

    `tallies=False` leaves the entity counts alone, for a load of registrations only whose
    entities' counts are known to be fresh (the registry's own load refreshed them)."""
    ward_ids = list(
        AdministrativeUnit.objects.filter(parent_id=province_id).values_list("pk", flat=True)
    )
    if tallies:
        tallies_refresh(ward_ids=ward_ids)
    _wards_recompute(ward_ids, None)
    _province_rollups_from_sums({province_id}, None)


@dataclass(frozen=True)
class Difference:
    # "rollup", "tally", "members" (of a family tally), "birth_tally", "snapshot" or
    # "registration_count" (titles.services.counts)
    table: str
    key: tuple
    stored: tuple
    computed: tuple


def rollup_verify(*, province_id: int) -> list[Difference]:
    """Every difference between the stored summaries and the detail rows of a province.

    Open ward-years are recomputed from the registrations, frozen ones must equal their
    snapshot, and the province rows the sums of the ward rows. The entity tallies are
    recomputed by the year rule, the registrations' counts by state counted again
    (`titles.services.counts`). A snapshot must exist exactly for the ward-years signed off
    (and not reopened), and its residential areas must add up to its ward row for the titles
    every household and area counts in (families, communities).
    """
    ward_ids = list(
        AdministrativeUnit.objects.filter(parent_id=province_id).values_list("pk", flat=True)
    )
    differences: list[Difference] = []

    community_ward = dict(
        Entity.objects.filter(ward_id__in=ward_ids, kind=Kind.COMMUNITY).values_list(
            "pk", "ward_id"
        )
    )
    snapshots = snapshot_figures(ward_ids=ward_ids)
    frozen = {(key[1], key[2]) for key in snapshots if key[0] == RollupLevel.WARD}
    computed_rollups = {
        key: values
        for key, values in rollups_compute(ward_ids=ward_ids).items()
        if (key[1] if key[0] == RollupLevel.WARD else community_ward.get(key[1]), key[2])
        not in frozen
    }
    computed_rollups.update({key: values for key, values in snapshots.items() if any(values)})
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

    differences += _snapshots_verify(province_id=province_id, frozen=frozen)

    computed_tallies: Counter = tallies_compute(ward_ids=ward_ids)
    for (level, _unit, kind, since), n in list(computed_tallies.items()):
        if level == RollupLevel.WARD:
            computed_tallies[(RollupLevel.PROVINCE, province_id, kind, since)] += n
    computed_members: Counter = members_compute(ward_ids=ward_ids)
    for (level, _unit, kind, since), n in list(computed_members.items()):
        if level == RollupLevel.WARD:
            computed_members[(RollupLevel.PROVINCE, province_id, kind, since)] += n
    stored_tallies, stored_members = {}, {}
    for t in EntityTally.objects.filter(province_id=province_id):
        key = (t.level, t.unit_id, t.kind, t.counted_from)
        stored_tallies[key], stored_members[key] = t.entities, t.members
    for key in sorted(set(computed_tallies) | set(stored_tallies), key=str):
        stored, computed = stored_tallies.get(key, 0), computed_tallies.get(key, 0)
        if stored != computed:
            differences.append(Difference("tally", key, (stored,), (computed,)))
    for key in sorted(set(computed_members) | set(stored_members), key=str):
        stored, computed = stored_members.get(key, 0), computed_members.get(key, 0)
        if stored != computed:
            differences.append(Difference("members", key, (stored,), (computed,)))
    for (ward_id, *group), stored, computed in counts_verify(ward_ids=ward_ids):
        differences.append(
            Difference(
                "registration_count", (RollupLevel.WARD, ward_id, *group), (stored,), (computed,)
            )
        )
    computed_births = birth_tallies_compute(ward_ids=ward_ids)
    stored_births = {
        (t.ward_id, t.birth_year): t.citizens
        for t in BirthYearTally.objects.filter(province_id=province_id)
    }
    for key in sorted(set(computed_births) | set(stored_births)):
        stored, computed = stored_births.get(key, 0), computed_births.get(key, 0)
        if stored != computed:
            ward_id, birth_year = key
            differences.append(
                Difference(
                    "birth_tally", (RollupLevel.WARD, ward_id, birth_year), (stored,), (computed,)
                )
            )
    return differences


def _snapshots_verify(*, province_id: int, frozen: set[tuple[int, int]]) -> list[Difference]:
    """A snapshot for every ward-year signed off and for no other; its areas add up to its ward
    row for families and communities (every household lives in an area, every area is one)."""
    differences = []
    newest = {}
    for ward_id, year, action in (
        WardSignOff.objects.filter(province_id=province_id)
        .values_list("ward_id", "year", "action")
        .order_by("pk")
    ):
        newest[(ward_id, year)] = action
    signed_off = {key for key, action in newest.items() if action == WardSignOff.Action.SIGN_OFF}
    for ward_id, year in sorted(signed_off ^ frozen):
        differences.append(
            Difference(
                "snapshot",
                (RollupLevel.WARD, ward_id, year),
                (int((ward_id, year) in frozen),),
                (int((ward_id, year) in signed_off),),
            )
        )
    rows = RollupSnapshot.objects.filter(
        province_id=province_id, kind__in=[Kind.FAMILY, Kind.COMMUNITY]
    ).values_list("level", "ward_id", "year", "kind", "entities", *COUNTS)
    ward_rows: dict[tuple, tuple] = {}
    area_sums: dict[tuple, list[int]] = {}
    for level, ward_id, year, kind, *values in rows:
        if level == RollupLevel.WARD:
            ward_rows[(ward_id, year, kind)] = tuple(values)
        else:
            sums = area_sums.setdefault((ward_id, year, kind), [0] * 4)
            for i, value in enumerate(values):
                sums[i] += value
    for (ward_id, year, kind), values in sorted(ward_rows.items()):
        areas = tuple(area_sums.get((ward_id, year, kind), [0] * 4))
        if values != areas:
            differences.append(
                Difference("snapshot", (RollupLevel.WARD, ward_id, year, kind), values, areas)
            )
    return differences
