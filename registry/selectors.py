"""Reads for the registry pages. Every function takes the acting user and sees only their scope.

Rows outside the scope are absent from lists and raise Http404 when asked for directly, so an
outsider cannot tell "does not exist" from "not yours". Page-sized reads use `select_related`,
so a list page runs the same number of queries whatever its number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext_lazy

from registry.access import grant_of, scope_q, ward_units
from registry.models import (
    KIND_MODELS,
    AdministrativeUnit,
    EntityKindModel,
    EntityTally,
    Kind,
    RollupLevel,
    UnitSuccession,
)
from registry.text import fold

# The kinds as they appear in URLs and import files, in the order pages list them.
KIND_SLUGS: dict[str, str] = {
    "communities": Kind.COMMUNITY,
    "families": Kind.FAMILY,
    "clans": Kind.CLAN,
    "units": Kind.UNIT,
    "citizens": Kind.CITIZEN,
}
SLUG_OF_KIND: dict[str, str] = {kind: slug for slug, kind in KIND_SLUGS.items()}

# Per kind: the related rows a list or detail page shows, and the filters a list accepts
# (filter name -> the kind it points at, or None for a plain value).
_RELATED: dict[str, tuple[str, ...]] = {
    "communities": (),
    "families": ("community__entity", "clan__entity"),
    "clans": (),
    "units": (),
    "citizens": ("family__entity", "unit__entity"),
}
LIST_FILTERS: dict[str, dict[str, str | None]] = {
    "communities": {"area_type": None},
    "families": {"community": "communities", "clan": "clans"},
    "clans": {},
    "units": {"unit_type": None},
    "citizens": {"family": "families", "unit": "units"},
}


def _entity_scope(user) -> Q:
    return scope_q(user, ward="entity__ward", province="entity__province")


# A list's order as SQL, for keyset pages (`registry.paging`): the entity's ward, its place in
# a Vietnamese list, its id — what `_kind_rows` orders by, and what the entity_ward_kind_sort
# and entity_province_kind_ward_sort indexes walk.
LIST_ORDER_COLUMNS = (
    '"registry_entity"."ward_id"',
    '"registry_entity"."sort_key"',
    '"registry_entity"."id"',
)


def list_order_key(obj: EntityKindModel) -> tuple[int, str, int]:
    """An entity row's values of LIST_ORDER_COLUMNS."""
    return (obj.entity.ward_id, obj.entity.sort_key, obj.entity_id)


# At province scope a word of one or two letters matches too much to search on its own (the
# trigram index cannot narrow it: it reads every entity of the province).
SHORT_WORD = 2


class SearchTooBroad(ValueError):
    """Only short words to search a whole province by."""


# What a list says next to its search field when SearchTooBroad is raised.
SEARCH_TOO_BROAD = gettext_lazy(
    "Words of one or two letters find too much across many communes/wards: add a "
    "longer word (a name, part of a code) or choose a commune/ward."
)


def search_words(q: str | None, *, user, one_ward: bool, narrowed: bool) -> list[str]:
    """The words of a search, folded: each must match (diacritics-insensitively).

    Words of one or two letters alone raise SearchTooBroad unless the list is already small:
    one ward (chosen, or the user's only one) or narrowed by another filter (`narrowed`).
    Every list searched at province scope goes through this rule.
    """
    words = fold(q or "").split()
    if words and all(len(word) <= SHORT_WORD for word in words) and not (one_ward or narrowed):
        grant = grant_of(user)
        ward_user = (
            grant is not None
            and grant.unit is not None
            and grant.unit.level == AdministrativeUnit.Level.WARD
        )
        if not ward_user:
            raise SearchTooBroad(q)
    return words


def _kind_rows(*, user, kind: str) -> QuerySet:
    model = KIND_MODELS[KIND_SLUGS[kind]]
    return (
        model.objects.filter(_entity_scope(user), entity__kind=KIND_SLUGS[kind])
        .select_related("entity", "entity__ward", *_RELATED[kind])
        .order_by("entity__ward_id", "entity__sort_key", "entity_id")
    )


def ward_get(*, user, code: str) -> AdministrativeUnit:
    """The commune/ward with `code` in the user's scope (the one in force if codes repeat)."""
    ward = (
        ward_units(user)
        .select_related("parent")
        .filter(code=code)
        .order_by(F("valid_to").desc(nulls_first=True))
        .first()
    )
    if ward is None:
        raise Http404
    return ward


def ward_formed_from(*, ward: AdministrativeUnit) -> list[UnitSuccession]:
    """The communes before 1 July 2025 that `ward` (already in the user's scope) was formed
    from, each with its district and whether it came wholly, by code."""
    return list(
        UnitSuccession.objects.filter(
            after=ward, before__level=AdministrativeUnit.Level.WARD_BEFORE_2025
        )
        .select_related("before__parent")
        .order_by("before__code")
    )


@dataclass(frozen=True)
class WentInto:
    ward: AdministrativeUnit
    whole: bool
    in_scope: bool


def ward_before_2025_get(*, user, code: str) -> tuple[AdministrativeUnit, list[WentInto]]:
    """A commune before 1 July 2025 and the current wards it went into.

    Visible to whoever may see one of those wards (404 for anyone else); the wards outside the
    user's scope are named but not linked.
    """
    unit = (
        AdministrativeUnit.objects.filter(
            level=AdministrativeUnit.Level.WARD_BEFORE_2025, code=code
        )
        .select_related("parent__parent")
        .first()
    )
    if unit is None:
        raise Http404
    links = list(
        UnitSuccession.objects.filter(before=unit)
        .select_related("after__parent")
        .order_by("after__code")
    )
    visible = set(
        ward_units(user)
        .filter(pk__in=[link.after_id for link in links])
        .values_list("pk", flat=True)
    )
    if not visible:
        raise Http404
    return unit, [WentInto(link.after, link.whole, link.after_id in visible) for link in links]


def wards_for_entry(*, user) -> QuerySet:
    """Wards in force in the user's scope, where new entities can be entered."""
    return (
        ward_units(user)
        .filter(valid_to__isnull=True)
        .select_related("parent")
        .order_by("parent__code", "code")
    )


def wards_for_filter(*, user) -> QuerySet:
    """Every ward in the user's scope (abolished ones too: old records still point at them)."""
    return ward_units(user).order_by("code")


def entity_list(
    *, user, kind: str, q: str | None = None, ward_code: str | None = None, **filters: Any
) -> QuerySet:
    """Entities of `kind` in the user's scope, optionally searched and filtered.

    `q` matches diacritics-insensitively and every word must match ("nguyen van" finds
    "Nguyễn Văn An"); words of one or two letters alone, over more than one ward and with no
    other filter, raise SearchTooBroad. `ward_code` outside the scope raises Http404. `filters`
    are the kind's `LIST_FILTERS` (primary keys for related entities); empty values are ignored.
    """
    rows = _kind_rows(user=user, kind=kind)
    if ward_code:
        rows = rows.filter(entity__ward=ward_get(user=user, code=ward_code))
    tokens = search_words(
        q,
        user=user,
        one_ward=bool(ward_code),
        narrowed=any(value not in (None, "") for value in filters.values()),
    )
    for token in tokens:
        rows = rows.filter(entity__search_text__contains=token)
    allowed = LIST_FILTERS[kind]
    for name, value in filters.items():
        if name not in allowed:
            raise ValueError(f"{kind} cannot be filtered by {name}")
        if value not in (None, ""):
            rows = rows.filter(**{name: value})
    return rows


def _scope_tallies(user) -> QuerySet:
    """The entity tallies that add up to everything in the user's scope: their province's (every
    province's for a global grant) or their ward's. Summing them over every `counted_from`
    gives the registry as it is now."""
    grant = grant_of(user)
    if grant is None:
        return EntityTally.objects.none()
    if grant.unit is None:
        return EntityTally.objects.filter(level=RollupLevel.PROVINCE)
    if grant.unit.level == AdministrativeUnit.Level.PROVINCE:
        return EntityTally.objects.filter(level=RollupLevel.PROVINCE, unit_id=grant.unit_id)
    return EntityTally.objects.filter(level=RollupLevel.WARD, unit_id=grant.unit_id)


def entity_total(*, user, kind: str, ward_code: str | None = None) -> int:
    """How many entities of `kind` the user's whole list holds (or one ward's), from the tallies:
    one indexed read whatever the size of the province. Http404 for a ward outside the scope."""
    if ward_code:
        ward = ward_get(user=user, code=ward_code)
        tallies = EntityTally.objects.filter(level=RollupLevel.WARD, unit_id=ward.pk)
    else:
        tallies = _scope_tallies(user)
    tallies = tallies.filter(kind=KIND_SLUGS[kind])
    return tallies.aggregate(total=Sum("entities"))["total"] or 0


SUGGESTION_LIMIT = 10


def entity_suggestions(
    *, user, kind: str, ward: AdministrativeUnit, q: str, limit: int = SUGGESTION_LIMIT
) -> list[dict[str, str]]:
    """The first `limit` entities of `kind` in `ward` (already in the user's scope) that every
    word of `q` matches, diacritics-insensitively (name, code, what `search_extra` adds), in
    list order: the suggestions of a box that chooses one. One indexed read of the ward."""
    tokens = fold(q).split()
    if not tokens:
        return []
    rows = _kind_rows(user=user, kind=kind).filter(entity__ward=ward)
    for token in tokens:
        rows = rows.filter(entity__search_text__contains=token)
    return [
        {"code": code, "name": name}
        for code, name in rows.values_list("entity__code", "entity__name")[:limit]
    ]


def entity_total_of_wards(*, kind: str, ward_ids: list[int]) -> int:
    """How many entities of `kind` these wards (already in the user's scope) hold, from the
    tallies."""
    return (
        EntityTally.objects.filter(
            kind=KIND_SLUGS[kind], level=RollupLevel.WARD, unit_id__in=ward_ids
        ).aggregate(total=Sum("entities"))["total"]
        or 0
    )


def entity_get(*, user, kind: str, pk: int) -> EntityKindModel:
    """One entity of `kind` in the user's scope, or Http404."""
    obj = _kind_rows(user=user, kind=kind).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def entity_by_code(
    *, user, kind: str, ward: AdministrativeUnit, code: str
) -> EntityKindModel | None:
    """The entity of `kind` with `code` in `ward` (within the user's scope), or None."""
    return _kind_rows(user=user, kind=kind).filter(entity__ward=ward, entity__code=code).first()


def ward_entities(*, user, kind: str, ward: AdministrativeUnit) -> QuerySet:
    """Every entity of `kind` in `ward`: the choices of a form's select (small kinds only)."""
    return _kind_rows(user=user, kind=kind).filter(entity__ward=ward)


def ward_entity_choices(*, user, kind: str, ward: AdministrativeUnit) -> list[tuple[int, str]]:
    """(id, name) of every entity of `kind` in `ward`, in name order, read as tuples: a
    filter's options (a ward has hundreds of residential areas; model instances of them cost a
    list page more than its rows)."""
    return list(ward_entities(user=user, kind=kind, ward=ward).values_list("pk", "entity__name"))


def ward_areas_with_households(*, user, ward: AdministrativeUnit) -> list:
    """The residential areas of `ward` (in the user's scope), each with `households`: how many
    households it has now, read from its tallies rather than counted."""
    areas = list(ward_entities(user=user, kind="communities", ward=ward))
    households = dict(
        EntityTally.objects.filter(ward=ward, level=RollupLevel.COMMUNITY, kind=Kind.FAMILY)
        .values_list("unit_id")
        .annotate(n=Sum("entities"))
        .order_by()
    )
    for area in areas:
        area.households = households.get(area.pk, 0)
    return areas


@dataclass(frozen=True)
class Related:
    """What a detail page lists under an entity: the first rows and a link to all of them."""

    kind: str  # list slug of the related rows
    param: str  # the list filter that selects them
    total: int
    rows: list[EntityKindModel]


RELATED_LIMIT = 50


def entity_related(*, user, kind: str, obj: EntityKindModel) -> Related | None:
    """A family's citizens, a clan's families, a unit's staff, a residential area's families."""
    spec = {
        "families": ("citizens", "family"),
        "clans": ("families", "clan"),
        "units": ("citizens", "unit"),
        "communities": ("families", "community"),
    }.get(kind)
    if spec is None:
        return None
    related_kind, param = spec
    rows = entity_list(user=user, kind=related_kind, **{param: obj.pk})
    total = rows.count()
    # A residential area can hold hundreds of households: its page shows the count and a link.
    shown = [] if kind == "communities" else list(rows[:RELATED_LIMIT])
    return Related(kind=related_kind, param=param, total=total, rows=shown)


def _tally_counts(rows) -> dict[str, int]:
    """{kind slug: entities, "members": members of the families} from (kind, entities,
    members) sums."""
    counts = dict.fromkeys([*KIND_SLUGS, "members"], 0)
    for kind, entities, members in rows:
        counts[SLUG_OF_KIND[kind]] = entities or 0
        counts["members"] += members or 0
    return counts


def _tally_sums(tallies: QuerySet, *group: str) -> QuerySet:
    """`tallies` summed over every first year counted (the registry as it is now), per kind."""
    return (
        tallies.values_list(*group, "kind").annotate(n=Sum("entities"), m=Sum("members")).order_by()
    )


def ward_counts(*, user, ward: AdministrativeUnit) -> dict[str, int]:
    """How many entities of each kind `ward` (already in the user's scope) has, and the members
    of its families: one indexed read of its tallies."""
    return _tally_counts(
        _tally_sums(EntityTally.objects.filter(level=RollupLevel.WARD, unit_id=ward.pk))
    )


def scope_counts(*, user) -> dict[str, int]:
    """The same counts over everything in the user's scope, from their province's (or ward's)
    tallies: one indexed read whatever the size of the province."""
    return _tally_counts(_tally_sums(_scope_tallies(user)))


def wards_in_scope(*, user) -> QuerySet:
    """The wards in the user's scope for the overview table, province by province."""
    return ward_units(user).select_related("parent").order_by("parent__code", "code")


def wards_with_counts(*, user, wards: list[AdministrativeUnit]) -> list[tuple[Any, dict]]:
    """Each of `wards` (already in the user's scope) with its counts, from one read of their
    tallies (not one per ward, and no entity counted)."""
    by_ward: dict[int, list] = {}
    for unit_id, kind, n, m in _tally_sums(
        EntityTally.objects.filter(level=RollupLevel.WARD, unit_id__in=[w.pk for w in wards]),
        "unit_id",
    ):
        by_ward.setdefault(unit_id, []).append((kind, n, m))
    return [(ward, _tally_counts(by_ward.get(ward.pk, []))) for ward in wards]
