"""Reads for the titles pages. Every function takes the acting user and sees only their scope.

Registrations carry their ward and province, so scoping is one indexed filter; anything outside
the user's scope is absent from lists and raises Http404 when asked for directly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import Http404

from registry.access import grant_of, scope_q, ward_units
from registry.models import (
    AdministrativeUnit,
    Entity,
    EntityTally,
    Family,
    Grant,
    Kind,
    Role,
    RollupLevel,
)
from registry.selectors import search_words
from registry.services.tallies import tallies_for_year
from titles.models import Decision, Registration, Rollup, RollupSnapshot, State, Target
from titles.rules.rounding import half_up, percent

RESULT_FILTERS = ("passed", "failed", "not_evaluated")


# A list page's order as SQL, for keyset pages (`registry.paging`): within its year, the
# registration's ward, its place in a Vietnamese list (the entity's sort key, copied onto the
# registration) and its id — what `registration_list` orders by, and what the reg_province_list
# and reg_ward_list indexes walk, so a page costs the same at the start of a province or deep in it.
LIST_ORDER_COLUMNS = (
    '"titles_registration"."ward_id"',
    '"titles_registration"."sort_key"',
    '"titles_registration"."id"',
)


def list_order_key(registration: Registration) -> tuple[int, str, int]:
    """A registration's values of LIST_ORDER_COLUMNS."""
    return (registration.ward_id, registration.sort_key, registration.pk)


def approved_by_title(approved: QuerySet[Registration]) -> list[dict]:
    """Approved registrations (any selection of them) counted by title, in one aggregate query:
    `{"kind", "n", "outstanding", "ids", "last"}`, the last two the sum and the highest of
    their ids, from which `approved_fingerprint` tells whether the selection changed."""
    return list(
        approved.order_by()
        .values("kind")
        .annotate(
            n=Count("pk"),
            outstanding=Count("pk", filter=Q(eval_outstanding=True)),
            ids=Sum("pk"),
            last=Max("pk"),
        )
        .order_by("kind")
    )


def approved_fingerprint(counted: Iterable[dict]) -> str:
    """What a decision for all approved registrations was shown (`approved_by_title`'s rows):
    any registration leaving the selection or joining it changes it, even when the count stays
    the same (one rejected, another approved)."""
    return ";".join(
        f"{row['kind']}:{row['n']}:{row['ids']}:{row['last']}"
        for row in sorted(counted, key=lambda row: row["kind"])
    )


def registration_list(
    *,
    user,
    year: int | None = None,
    kind: str | None = None,
    state: str | None = None,
    ward_id: int | None = None,
    community_id: int | None = None,
    result: str | None = None,
    q: str | None = None,
) -> QuerySet[Registration]:
    """Registrations in scope, newest year first, then by ward and Vietnamese name; all filters
    optional (a list page passes a year: its keyset pages walk one year, LIST_ORDER_COLUMNS).

    `community_id` keeps families living in that residential area (and the area itself);
    `result` is one of RESULT_FILTERS. `q` follows the registry's search rule: words of one or
    two letters alone over more than one ward, not narrowed to an area, raise
    `registry.selectors.SearchTooBroad`.
    """
    words = search_words(q, user=user, one_ward=bool(ward_id), narrowed=bool(community_id))
    qs = Registration.objects.filter(scope_q(user)).select_related("entity", "ward", "decision")
    if year:
        qs = qs.filter(year=year)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if ward_id:
        qs = qs.filter(ward_id=ward_id)
    if community_id:
        # The area's households by their own index, not a join walked along the ward's list.
        households = Family.objects.filter(community_id=community_id).values("entity_id")
        qs = qs.filter(Q(entity_id__in=households) | Q(entity_id=community_id))
    if result == "passed":
        qs = qs.filter(passed=True)
    elif result == "failed":
        qs = qs.filter(passed=False)
    elif result == "not_evaluated":
        qs = qs.filter(passed__isnull=True)
    for word in words:
        qs = qs.filter(entity__search_text__contains=word)
    return qs.order_by("-year", "ward_id", "sort_key", "pk")


def registration_total(
    *, user, year: int, kind: str | None = None, ward_id: int | None = None
) -> int:
    """How many registrations of `year` (and title) the user's list holds, or one ward's, from
    the roll-ups (kept exact with every write): one indexed read, however large the province."""
    grant = grant_of(user)
    if grant is None:
        return 0
    rows = Rollup.objects.filter(year=year)
    if kind:
        rows = rows.filter(kind=kind)
    if ward_id:
        rows = rows.filter(level=RollupLevel.WARD, unit_id=ward_id)
    elif grant.unit is None:
        rows = rows.filter(level=RollupLevel.PROVINCE)
    elif grant.unit.level == AdministrativeUnit.Level.PROVINCE:
        rows = rows.filter(level=RollupLevel.PROVINCE, unit_id=grant.unit_id)
    else:
        rows = rows.filter(level=RollupLevel.WARD, unit_id=grant.unit_id)
    return rows.aggregate(total=Sum("registered"))["total"] or 0


class RegistrationsByWard(Sequence):
    """`registration_list`'s rows (newest year first, then by ward, name and id) as a
    sequence whose slices read only the ward-years they cover.

    The roll-ups tell how many rows each ward-year holds, so a slice (a numbered page) knows
    which ward-years it spans and where in the first one it starts: one query over those
    ward-years, on the registrations' ward index, instead of sorting a province's year. Its
    length is the roll-ups' sum: exact, as they move in the same transaction as every
    registration, and a signed-off ward-year's registrations cannot change.
    """

    def __init__(self, rows: QuerySet[Registration], buckets: list[tuple[int, list[int], int]]):
        self.rows = rows
        self.buckets = buckets  # (year, [ward id], rows), in the list's order
        self.total = sum(n for _year, _ids, n in buckets)

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _step = index.indices(self.total)
        spanned, skip, before = Q(), None, 0
        for year, ward_ids, n in self.buckets:
            if before >= stop:
                break
            if before + n > start:
                skip = start - before if skip is None else skip
                spanned |= Q(year=year, ward_id__in=ward_ids)
            before += n
        if skip is None:
            return []
        return list(self.rows.filter(spanned)[skip : skip + stop - start])


def registrations_by_ward(
    *,
    user,
    rows: QuerySet[Registration],
    year: int | None = None,
    kind: str | None = None,
    state: str | None = None,
    ward_ids: list[int] | None = None,
) -> RegistrationsByWard | None:
    """`rows` (`registration_list` with these filters, narrowed to `ward_ids`, wards in the
    user's scope) as RegistrationsByWard, from the ward roll-ups; None when they cannot tell
    (a state other than recognised)."""
    if state not in (None, State.RECOGNIZED):
        return None
    grant = grant_of(user)
    figures = Rollup.objects.filter(level=RollupLevel.WARD)
    if grant is None:
        figures = figures.none()
    elif ward_ids is not None:
        figures = figures.filter(unit_id__in=ward_ids)
    elif grant.unit is None:
        pass
    elif grant.unit.level == AdministrativeUnit.Level.PROVINCE:
        figures = figures.filter(province_id=grant.unit_id)
    else:
        figures = figures.filter(unit_id=grant.unit_id)
    if year:
        figures = figures.filter(year=year)
    if kind:
        figures = figures.filter(kind=kind)
    column = "recognized" if state else "registered"
    counts: Counter = Counter()
    for ward_id, figure_year, n in figures.values_list("unit_id", "year", column):
        counts[(figure_year, ward_id)] += n
    # In the list's order: newest year first, then by ward (id), each ward-year one bucket.
    buckets = [
        (figure_year, [ward_id], n)
        for (figure_year, ward_id), n in sorted(counts.items(), key=lambda i: (-i[0][0], i[0][1]))
        if n
    ]
    return RegistrationsByWard(rows, buckets)


def registration_get(*, user, pk: int) -> Registration:
    """One registration in scope, with what its page shows; Http404 otherwise."""
    registration = (
        Registration.objects.filter(scope_q(user), pk=pk)
        .select_related("entity", "ward", "province", "decision", "evaluation")
        .first()
    )
    if registration is None:
        raise Http404
    return registration


def registration_history(*, registration: Registration):
    return registration.events.select_related("user").order_by("at", "pk")


def registration_overrides(*, registration: Registration):
    return registration.overrides.select_related("user").order_by("-at", "-pk")


def decision_list(*, user, year: int | None = None) -> QuerySet[Decision]:
    qs = Decision.objects.filter(scope_q(user)).select_related("ward")
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-date", "-pk")


def decision_get(*, user, pk: int) -> Decision:
    decision = (
        Decision.objects.filter(scope_q(user), pk=pk)
        .select_related("ward__parent", "province")
        .first()
    )
    if decision is None:
        raise Http404
    return decision


def recognised_list(*, decision: Decision) -> QuerySet[Registration]:
    return printed_order(
        decision.registrations.filter(state=State.RECOGNIZED).select_related("entity")
    )


# The order a printed list of registrations (a decision's, the public list) runs in: by title,
# then by Vietnamese name order, then by id. One definition for the query, the keyset page's
# SQL columns and a row's values of them, so that the order can move to other columns in one
# place.
PRINTED_ORDER = ("kind", "sort_key", "pk")
# The registration's own copy of its entity's sort key (kept by titles.workflow and the
# registry's rename hook; a signed-off year keeps the order it was signed off in), so that a
# decision's page walks one index (`reg_decision`) in this order.
PRINTED_ORDER_COLUMNS = (
    '"titles_registration"."kind"',
    '"titles_registration"."sort_key"',
    '"titles_registration"."id"',
)


def printed_order(qs: QuerySet[Registration]) -> QuerySet[Registration]:
    return qs.order_by(*PRINTED_ORDER)


def printed_keys(qs: QuerySet[Registration]) -> QuerySet:
    """The rows of `qs` as their values of PRINTED_ORDER_COLUMNS only, in that order: a page is
    found on these and its rows loaded after by id, rather than joining every relation a row
    shows for every row of the list before the sort."""
    return qs.order_by(*PRINTED_ORDER).values_list(*PRINTED_ORDER)


def in_area(qs: QuerySet[Registration], community_id: int | None) -> QuerySet[Registration]:
    """Registrations of a residential area: the area itself, its households and their members."""
    if not community_id:
        return qs
    return qs.filter(
        Q(entity_id=community_id)
        | Q(entity__family__community_id=community_id)
        | Q(entity__citizen__family__community_id=community_id)
    )


def counts_by_kind(qs: QuerySet[Registration], *, outstanding: str = "outstanding") -> list[dict]:
    """How many rows of `qs` each title has, and how many of them are outstanding (the boolean
    field `outstanding` names): one aggregate query, in the titles' order."""
    rows = (
        qs.order_by()
        .values("kind")
        .annotate(n=Count("pk"), outstanding=Count("pk", filter=Q(**{outstanding: True})))
    )
    return sorted(rows, key=lambda row: KIND_ORDER.index(row["kind"]))


ROLLUP_COLUMNS = (
    "unit_code",
    "unit_name",
    "year",
    "kind",
    "entities",
    "registered",
    "recognized",
    "outstanding",
    "rate",
    "registered_rate",
    "target_min",
    "target_max",
    "status",
)
KIND_ORDER = [Kind.FAMILY, Kind.CLAN, Kind.COMMUNITY, Kind.UNIT, Kind.CITIZEN]


def target_status(rate: Decimal | None, target: tuple[Decimal, Decimal] | None) -> str:
    if rate is None or target is None:
        return "no_target"
    low, high = target
    if rate < low:
        return "below"
    if rate > high:
        return "above"
    return "on_track"


# Where `rollup_units` keeps what it read on the user object of the request.
_UNITS_CACHE = "_learnsociety_rollup_units"


def rollup_units(*, user, level: str, unit_code: str | None = None) -> list[dict]:
    """The units of `level` the user may see, narrowed to those under (or equal to) `unit_code`.

    Each: {"id", "code", "name", "ward_id", "province_id"}. A community's code is written
    "<ward code>/<area code>" so it names one area across wards.

    Read once per request, like the user's grant: a dashboard page asks for the same units for
    its rows, their links and its trend (two queries and a hundred or more units each time).
    """
    cache = getattr(user, _UNITS_CACHE, None)
    if cache is None:
        cache = {}
        setattr(user, _UNITS_CACHE, cache)
    key = (level, unit_code)
    if key not in cache:
        cache[key] = _rollup_units(
            grant=grant_of(user), wards=ward_units(user), level=level, unit_code=unit_code
        )
    return list(cache[key])


# What the command line acts as: it reads every unit, like an administrator of all units.
_EVERY_UNIT = Grant(role=Role.ADMIN, unit=None)


def _rollup_units(
    *, grant: Grant | None, wards: QuerySet, level: str, unit_code: str | None
) -> list[dict]:
    """rollup_units for a grant; `wards` are the wards that grant covers."""
    if grant is None:
        return []
    parent = None
    if unit_code:
        parent = (
            AdministrativeUnit.objects.filter(code=unit_code, valid_to__isnull=True)
            .filter(_unit_scope(grant))
            .first()
        )
        if parent is None:
            return []
    if level == RollupLevel.PROVINCE:
        if grant.unit is not None and grant.unit.level == AdministrativeUnit.Level.WARD:
            return []
        qs = AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.PROVINCE)
        if grant.unit is not None:
            qs = qs.filter(pk=grant.unit_id)
        if parent is not None:
            qs = qs.filter(pk=parent.pk)
        return [
            {"id": u.pk, "code": u.code, "name": u.name, "ward_id": None, "province_id": u.pk}
            for u in qs.order_by("code")
        ]
    if parent is not None:
        wards = wards.filter(Q(pk=parent.pk) | Q(parent_id=parent.pk))
    if level == RollupLevel.WARD:
        return [
            {
                "id": u.pk,
                "code": u.code,
                "name": u.name,
                "ward_id": u.pk,
                "province_id": u.parent_id,
            }
            for u in wards.order_by("code")
        ]
    # A province has thousands of residential areas: read as tuples, never model instances.
    areas = (
        Entity.objects.filter(kind=Kind.COMMUNITY, ward__in=wards)
        .order_by("ward__code", "code")
        .values_list("pk", "ward__code", "code", "name", "ward_id", "province_id")
    )
    return [
        {
            "id": pk,
            "code": f"{ward_code}/{code}",
            "name": name,
            "ward_id": ward_id,
            "province_id": province_id,
        }
        for pk, ward_code, code, name, ward_id, province_id in areas
    ]


def _unit_scope(grant: Grant | None) -> Q:
    if grant is None:
        return Q(pk__in=[])
    if grant.unit is None:
        return Q()
    if grant.unit.level == AdministrativeUnit.Level.PROVINCE:
        return Q(pk=grant.unit_id) | Q(parent_id=grant.unit_id)
    return Q(pk=grant.unit_id)


# A target is stored for the years a plan names (Hanoi Plan 291: 2025 and 2030). Between two
# of them the range moves linearly from the earlier to the later one, so 2026 is judged against
# a fifth of the way from 2025 to 2030; after the last named year its range stays in force; before
# the first there is none (no plan covered the year). Bounds are rounded half up to two decimals,
# as a stored target is.
def target_in_force(plan: dict[int, tuple[Decimal, Decimal]], year: int) -> tuple | None:
    """The (min, max) range of `year` on a unit's plan {named year: (min, max)}, by the rule
    above."""
    if year in plan:
        return plan[year]
    earlier = [y for y in plan if y < year]
    later = [y for y in plan if y > year]
    if not earlier:
        return None
    start = max(earlier)
    if not later:
        return plan[start]
    end = min(later)
    share = Decimal(year - start) / Decimal(end - start)
    return tuple(
        half_up(low + (high - low) * share, places=2)  # targets are stored with two decimals
        for low, high in zip(plan[start], plan[end], strict=True)
    )


def targets_for(
    *, units: list[dict], level: str, year: int, kinds: Iterable[str] = KIND_ORDER
) -> dict[tuple[int, str], tuple]:
    """(unit id, kind) -> (min, max) in force in `year` (see `target_in_force`): the unit's own
    plan, else its ward's, else its province's. `kinds` are the titles by default; the groups'
    dashboard asks for `digital_reach`.

    The one place targets are resolved: the dashboard, `rollup`, the API and the reports all
    read their ranges from here.
    """
    admin_ids = {u["province_id"] for u in units} | {u["ward_id"] for u in units if u["ward_id"]}
    # A plan names a few years: reading all of them is a handful of rows per unit and title.
    plans: dict[tuple[int, str], dict[int, tuple[Decimal, Decimal]]] = {}
    kinds = list(kinds)
    for unit_id, kind, named_year, low, high in Target.objects.filter(
        unit_id__in=admin_ids, kind__in=kinds
    ).values_list("unit_id", "kind", "year", "min_rate", "max_rate"):
        plans.setdefault((unit_id, kind), {})[named_year] = (low, high)
    own = {
        key: in_force
        for key, plan in plans.items()
        if (in_force := target_in_force(plan, year)) is not None
    }
    result = {}
    for unit in units:
        for kind in kinds:
            for candidate in (
                unit["id"] if level != RollupLevel.COMMUNITY else None,
                unit["ward_id"],
                unit["province_id"],
            ):
                if candidate is not None and (candidate, kind) in own:
                    result[(unit["id"], kind)] = own[(candidate, kind)]
                    break
    return result


def rollup_rows(
    *,
    user,
    year: int,
    level: str = RollupLevel.WARD,
    unit_code: str | None = None,
    kind: str | None = None,
) -> list[dict]:
    """Roll-up rows (the contract's columns, in order) for the units of `level` in scope.

    Read from the summaries only: a few indexed queries whatever the number of entities.
    """
    units = rollup_units(user=user, level=level, unit_code=unit_code)
    return _rollup_rows(units=units, year=year, level=level, kind=kind)


def area_rollup_rows(*, user, year: int, ward_code: str, area_code: str) -> list[dict]:
    """The roll-up rows of one residential area of a ward (`area_code` as `rollup_units` writes
    it, "<ward code>/<area code>"), every title: those `rollup_rows` gives for the ward's areas,
    worked out for this area alone (a ward has up to hundreds of areas)."""
    units = rollup_units(user=user, level=RollupLevel.COMMUNITY, unit_code=ward_code)
    area = [unit for unit in units if unit["code"] == area_code]
    return _rollup_rows(units=area, year=year, level=RollupLevel.COMMUNITY, kind=None)


def rollup_rows_paged(
    *,
    user,
    year: int,
    level: str = RollupLevel.WARD,
    unit_code: str | None = None,
    kind: str | None = None,
) -> RollupRows:
    """`rollup_rows` as a sequence whose rows are built when read: a page of it (a slice) costs
    that page's rows, not the whole level's."""
    units = rollup_units(user=user, level=level, unit_code=unit_code)
    if level == RollupLevel.COMMUNITY and len({u["ward_id"] for u in units}) > 1:
        return AreaRollupRows(units=units, year=year, kind=kind)
    return RollupRows(units=units, year=year, level=level, kind=kind)


def rollup_rows_all(
    *,
    year: int,
    level: str = RollupLevel.WARD,
    unit_code: str | None = None,
    kind: str | None = None,
) -> list[dict]:
    """rollup_rows over every unit, for the command line, which acts for no user."""
    units = _rollup_units(
        grant=_EVERY_UNIT,
        wards=AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.WARD),
        level=level,
        unit_code=unit_code,
    )
    return _rollup_rows(units=units, year=year, level=level, kind=kind)


def entity_counts(
    *,
    level: str,
    unit_ids: Iterable[int],
    year: int,
    kinds=None,
    area_wards: Iterable[int] | None = None,
) -> Counter:
    """{(unit id, kind): entities} that `year` counts for these units of `level`.

    Open ward-years count by the registry's year rule (`tallies_for_year`); a frozen
    ward-year's ward and residential areas keep the entities of their snapshot, and a
    province counts its open wards by the rule and its frozen ones as they were signed off.
    `area_wards`: for residential areas that are every area of these wards, the rows are read
    by ward (a province has thousands of areas and a hundred wards); the result may then hold
    the other areas of those wards too.
    """
    unit_ids = list(unit_ids)
    kinds = list(kinds) if kinds is not None else [k.value for k in Kind]
    by_ward = level == RollupLevel.COMMUNITY and area_wards is not None
    area_wards = list(area_wards) if by_ward else None
    counts = tallies_for_year(
        level=level, unit_ids=unit_ids, year=year, kinds=kinds, ward_ids=area_wards
    )
    if level == RollupLevel.PROVINCE:
        frozen = RollupSnapshot.objects.filter(
            province_id__in=unit_ids, year=year, level=RollupLevel.WARD, kind__in=kinds
        ).values_list("province_id", "unit_id", "kind", "entities")
        frozen = list(frozen)
        today = tallies_for_year(
            level=RollupLevel.WARD, unit_ids={row[1] for row in frozen}, year=year, kinds=kinds
        )
        for province_id, ward_id, kind, entities in frozen:
            counts[(province_id, kind)] += entities - today[(ward_id, kind)]
        return counts
    snapshots = RollupSnapshot.objects.filter(year=year, kind__in=kinds)
    if level == RollupLevel.WARD:
        snapshots = snapshots.filter(level=RollupLevel.WARD, unit_id__in=unit_ids)
    else:
        frozen_wards = RollupSnapshot.objects.filter(
            level=RollupLevel.WARD,
            year=year,
            ward_id__in=area_wards
            if by_ward
            else Entity.objects.filter(pk__in=unit_ids).values("ward_id"),
        ).values("ward_id")
        snapshots = snapshots.filter(level=RollupLevel.COMMUNITY, ward_id__in=frozen_wards)
        areas = Entity.objects.filter(ward_id__in=frozen_wards)
        areas = areas.filter(kind=Kind.COMMUNITY) if by_ward else areas.filter(pk__in=unit_ids)
        frozen_areas = set(areas.values_list("pk", flat=True))
        for key in [key for key in counts if key[0] in frozen_areas]:
            del counts[key]  # an area the signed-off year did not have counts nothing
    for unit_id, kind, entities in snapshots.values_list("unit_id", "kind", "entities"):
        counts[(unit_id, kind)] = entities
    return +counts


def _rollup_rows(*, units: list[dict], year: int, level: str, kind: str | None) -> list[dict]:
    return list(RollupRows(units=units, year=year, level=level, kind=kind))


class RollupRows(Sequence):
    """The roll-up rows of `units`, built only when read: which rows exist (a unit and title
    with entities or registrations) is known for all units from a few indexed queries, but a
    row's rates, target and status are worked out only for the rows asked for, so a page of
    a province's thousands of residential areas costs a page's work (`rollup_rows_paged`).
    """

    def __init__(self, *, units: list[dict], year: int, level: str, kind: str | None):
        self.year, self.level = year, level
        self._units = units
        if not units:
            self._keys: list = []
            return
        ids = [u["id"] for u in units]
        kinds = [kind] if kind else KIND_ORDER
        # Residential areas are every area of their wards (`rollup_units`): read by ward.
        area_wards = {u["ward_id"] for u in units} if level == RollupLevel.COMMUNITY else None
        entities = entity_counts(
            level=level, unit_ids=ids, year=year, kinds=kinds, area_wards=area_wards
        )
        rollups = Rollup.objects.filter(level=level, year=year, kind__in=kinds)
        if area_wards is not None:
            rollups = rollups.filter(ward_id__in=area_wards)
        else:
            rollups = rollups.filter(unit_id__in=ids)
        # (registered, recognized, outstanding) per (unit, kind), read as tuples: a province's
        # residential areas are tens of thousands of rows.
        figures = {
            (unit_id, k): counts
            for unit_id, k, *counts in rollups.values_list(
                "unit_id", "kind", "registered", "recognized", "outstanding"
            )
        }
        self._keys = [
            (unit, k, count)
            for unit in units
            for k in kinds
            if (count := entities.get((unit["id"], k), 0)) or (unit["id"], k) in figures
        ]
        self._figures = figures
        self._targets: dict | None = None

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._row(*key) for key in self._keys[index]]
        return self._row(*self._keys[index])

    def _row(self, unit: dict, k: str, count: int) -> dict:
        if self._targets is None:  # the units' targets, once: a dict read per row afterwards
            self._targets = targets_for(units=self._units, level=self.level, year=self.year)
        registered, recognized, outstanding = self._figures.get((unit["id"], k), (0, 0, 0))
        rate = percent(recognized, count)
        target = self._targets.get((unit["id"], k))
        return {
            "unit_code": unit["code"],
            "unit_name": unit["name"],
            "year": self.year,
            "kind": k,
            "entities": count,
            "registered": registered,
            "recognized": recognized,
            "outstanding": outstanding,
            "rate": rate,
            "registered_rate": percent(recognized, registered),
            "target_min": target[0] if target else None,
            "target_max": target[1] if target else None,
            "status": target_status(rate, target),
        }


class AreaRollupRows(Sequence):
    """`RollupRows` of residential areas in many wards (a province's thousands), built a ward at
    a time: how many rows each ward has is counted in the database, and a slice builds only the
    wards it spans. A page of a province's areas then costs its wards, not the province (330 ms
    of Python for Hanoi's 12,994 areas before). The rows, their order and their number are
    those `RollupRows` gives for the same units."""

    def __init__(self, *, units: list[dict], year: int, kind: str | None):
        self.year, self.kind = year, kind
        self._wards: list[tuple[int, list[dict]]] = []
        for unit in units:  # in the units' order: by ward, then area
            if not self._wards or self._wards[-1][0] != unit["ward_id"]:
                self._wards.append((unit["ward_id"], []))
            self._wards[-1][1].append(unit)
        counts = _area_row_counts(
            ward_ids=[ward_id for ward_id, _units in self._wards],
            year=year,
            kinds=[kind] if kind else KIND_ORDER,
        )
        self._starts = []
        total = 0
        for ward_id, _units in self._wards:
            self._starts.append(total)
            total += counts.get(ward_id, 0)
        self._total = total

    def __len__(self) -> int:
        return self._total

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(self._total)
            if step != 1:
                return list(self)[index]
            return self._rows(start, stop)
        if index < 0:
            index += self._total
        if not 0 <= index < self._total:
            raise IndexError(index)
        return self._rows(index, index + 1)[0]

    def _rows(self, start: int, stop: int) -> list[dict]:
        rows: list[dict] = []
        for position, (_ward_id, units) in enumerate(self._wards):
            ward_start = self._starts[position]
            ward_stop = (
                self._starts[position + 1] if position + 1 < len(self._wards) else self._total
            )
            if ward_stop <= start or ward_start >= stop or ward_start == ward_stop:
                continue
            ward_rows = RollupRows(
                units=units, year=self.year, level=RollupLevel.COMMUNITY, kind=self.kind
            )
            rows.extend(ward_rows[max(start, ward_start) - ward_start : stop - ward_start])
        return rows


def _area_row_counts(*, ward_ids: list[int], year: int, kinds: list[str]) -> dict[int, int]:
    """{ward id: how many (residential area, title) rows `RollupRows` has for the ward's areas}
    counted in the database: a pair is a row when the year counts entities for it (the
    tallies; a signed-off ward-year's snapshot instead) or it has registrations (`Rollup`)."""
    frozen = set(
        RollupSnapshot.objects.filter(
            level=RollupLevel.WARD, year=year, ward_id__in=ward_ids
        ).values_list("ward_id", flat=True)
    )
    open_wards = [ward_id for ward_id in ward_ids if ward_id not in frozen]
    counted = (
        EntityTally.objects.filter(
            level=RollupLevel.COMMUNITY,
            counted_from__lte=year,
            ward_id__in=open_wards,
            kind__in=kinds,
        )
        .values("ward_id", "unit_id", "kind")
        .annotate(n=Sum("entities"))
        .filter(n__gt=0)
        .values("ward_id", "unit_id", "kind")
        .order_by()
    )
    kept = (
        RollupSnapshot.objects.filter(
            level=RollupLevel.COMMUNITY,
            year=year,
            ward_id__in=frozen,
            kind__in=kinds,
            entities__gt=0,
        )
        .values("ward_id", "unit_id", "kind")
        .order_by()
    )
    registered = (
        Rollup.objects.filter(
            level=RollupLevel.COMMUNITY, year=year, ward_id__in=ward_ids, kind__in=kinds
        )
        .values("ward_id", "unit_id", "kind")
        .order_by()
    )
    areas = Entity.objects.filter(kind=Kind.COMMUNITY, ward_id__in=ward_ids).values("pk")
    # A part over no ward is left out: the ORM writes no SQL for an empty IN.
    pairs = [counted] * bool(open_wards) + [kept] * bool(frozen) + [registered]
    parts = [q.query.sql_with_params() for q in (*pairs, areas)]
    union = " UNION ".join(sql for sql, _params in parts[:-1])
    sql = (
        f"SELECT pairs.ward_id, COUNT(*) FROM ({union}) AS pairs "  # noqa: S608 - the ORM's SQL
        f"WHERE pairs.unit_id IN ({parts[-1][0]}) GROUP BY pairs.ward_id"
    )
    params = [param for _sql, part_params in parts for param in part_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def entity_registrations(*, user, entity_id: int) -> QuerySet[Registration]:
    """One entity's registrations in the user's scope, newest year first, with their decisions:
    its titles by year on the entity's page."""
    return (
        Registration.objects.filter(scope_q(user), entity_id=entity_id)
        .select_related("decision")
        .order_by("-year")
    )
