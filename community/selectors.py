"""Reads of groups, members, activities and their figures, each taking the acting user.

Scope is the registry's (`registry.access`): a ward user sees their ward, a province user the
province's wards, an administrator without a unit everything; anything else is a 404. Members'
names and the citizens an activity helped are personal data: staff, officials and
administrators see them (`can_see_people`); viewers read the groups, the activities and every
figure, never a person's name.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from community.models import (
    ALL_TYPES,
    Activity,
    ActivitySummary,
    Group,
    GroupTally,
    GroupType,
    Member,
)
from registry.access import grant_of, scope_q, ward_units
from registry.models import AdministrativeUnit, Entity, Kind, Role, RollupLevel
from registry.services.tallies import adults_for_year
from registry.text import fold
from titles.rules.rounding import percent

ADULT_AGE = 15
ROLLUP_COLUMNS = (
    "unit_code",
    "unit_name",
    "year",
    "group_type",
    "groups",
    "members",
    "activities",
    "participants",
    "people_helped",
    "dossiers",
    "citizens_reached",
    "adults",
    "reach_rate",
)
LEVELS = (RollupLevel.PROVINCE, RollupLevel.WARD)
TYPE_ORDER = [t.value for t in GroupType]
_FIGURES = ("activities", "participants", "people_helped", "dossiers", "citizens_reached")


def can_see_people(user) -> bool:
    """Staff, officials and administrators see members' names and the citizens helped."""
    grant = grant_of(user)
    return grant is not None and grant.role in (Role.STAFF, Role.OFFICIAL, Role.ADMIN)


# --- Groups, members, activities ---------------------------------------------------------------


def group_list(
    *,
    user,
    q: str | None = None,
    group_type: str | None = None,
    ward_code: str | None = None,
    community_id: int | None = None,
) -> QuerySet[Group]:
    """The groups in scope, in Vietnamese order; `q` matches name, code and leader ignoring case
    and diacritics."""
    qs = Group.objects.filter(scope_q(user)).select_related("ward", "community")
    if q and (folded := fold(q)):
        qs = qs.filter(search_text__contains=folded)
    if group_type:
        qs = qs.filter(group_type=group_type)
    if ward_code:
        qs = qs.filter(ward__code=ward_code)
    if community_id:
        qs = qs.filter(community_id=community_id)
    return qs.order_by("sort_key", "code", "pk")


def group_get(*, user, pk: int) -> Group:
    group = (
        Group.objects.filter(scope_q(user))
        .select_related("ward", "community", "province")
        .filter(pk=pk)
        .first()
    )
    if group is None:
        raise Http404
    return group


def group_members(*, user, group: Group) -> QuerySet[Member]:
    if not can_see_people(user):
        return Member.objects.none()
    return group.members.select_related("citizen").order_by("sort_key", "code")


def group_activities(*, group: Group) -> QuerySet[Activity]:
    return group.activities.annotate(helped_count=Count("helped")).order_by("-date", "-pk")


def activity_list(*, user, ward_code: str | None = None, year: int | None = None):
    qs = Activity.objects.filter(scope_q(user)).select_related("group", "ward")
    if ward_code:
        qs = qs.filter(ward__code=ward_code)
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-date", "-pk")


def activity_citizens(*, user, activity: Activity) -> list[Entity]:
    if not can_see_people(user):
        return []
    return list(activity.citizens.order_by("sort_key", "code"))


def citizens_search(*, user, ward: AdministrativeUnit, q: str, limit: int = 20) -> list[Entity]:
    """Citizens of `ward` (in the user's scope) whose name or code matches `q`."""
    folded = fold(q or "")
    if not folded or not ward_units(user).filter(pk=ward.pk).exists():
        return []
    return list(
        Entity.objects.filter(ward=ward, kind=Kind.CITIZEN, search_text__contains=folded)
        .select_related("citizen")
        .order_by("sort_key", "code")[:limit]
    )


def wards_for_entry(*, user) -> QuerySet[AdministrativeUnit]:
    return ward_units(user).filter(valid_to__isnull=True).order_by("code")


# --- Figures ----------------------------------------------------------------------------------


def rollup_units(*, user, level: str, unit_code: str | None = None) -> list[AdministrativeUnit]:
    """The provinces or wards (in force) of `level` the user may see (`user` None: every unit),
    narrowed to `unit_code` and the units under it."""
    grant = grant_of(user) if user is not None else None
    if user is not None and grant is None:
        return []
    parent = None
    if unit_code:
        parent = AdministrativeUnit.objects.filter(code=unit_code, valid_to__isnull=True).first()
        if parent is None:
            return []
    if level == RollupLevel.PROVINCE:
        qs = AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.PROVINCE)
        if grant is not None and grant.unit is not None:
            if grant.unit.level == AdministrativeUnit.Level.WARD:
                return []
            qs = qs.filter(pk=grant.unit_id)
        if parent is not None:
            qs = qs.filter(pk=parent.pk)
        return list(qs.order_by("code"))
    qs = (
        ward_units(user)
        if user is not None
        else AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.WARD)
    ).filter(valid_to__isnull=True)
    if parent is not None:
        qs = qs.filter(Q(pk=parent.pk) | Q(parent_id=parent.pk))
    return list(qs.order_by("code"))


def adults_count(*, units: list[AdministrativeUnit], level: str, year: int) -> dict[int, int]:
    """Citizens aged 15 or more in `year` (born in year − 15 or earlier), per unit id, read
    from the registry's birth-year tallies (a ward's or a province's adults without counting
    its citizens)."""
    if not units:
        return {}
    return adults_for_year(level=level, unit_ids=[u.pk for u in units], year=year, age=ADULT_AGE)


def rollup_rows(
    *, user, year: int, level: str = RollupLevel.WARD, unit_code: str | None = None
) -> list[dict]:
    """The contract's rows for the units of `level` in scope (`user` None: every unit), read
    from the summaries: per unit, a row for each group type it has figures for, then its `all`
    row (every type; citizens_reached counts each citizen once; reach_rate is the unit's reach
    of its adults, what a `digital_reach` target is measured against)."""
    units = rollup_units(user=user, level=level, unit_code=unit_code)
    if not units:
        return []
    field = "province_id" if level == RollupLevel.PROVINCE else "ward_id"
    ids = [u.pk for u in units]
    figures: dict[tuple[int, str], dict] = {}
    for row in (
        ActivitySummary.objects.filter(year=year, **{f"{field}__in": ids})
        .values(field, "group_type")
        .annotate(**{name: Sum(name) for name in _FIGURES})
        .order_by()
    ):
        figures[(row[field], row["group_type"])] = {name: row[name] for name in _FIGURES}
    active = (Q(from_year__isnull=True) | Q(from_year__lte=year)) & (
        Q(to_year__isnull=True) | Q(to_year__gte=year)
    )
    counts: dict[tuple[int, str], tuple[int, int]] = {}
    for unit_id, group_type, groups, members in (
        GroupTally.objects.filter(active, **{f"{field}__in": ids})
        .values_list(field, "group_type")
        .annotate(g=Sum("groups"), m=Sum("members"))
        .order_by()
    ):
        counts[(unit_id, group_type)] = (groups or 0, members or 0)
    adults = adults_count(units=units, level=level, year=year)
    rows = []
    for unit in units:
        unit_adults = adults.get(unit.pk, 0)
        total_groups = total_members = 0
        for group_type in TYPE_ORDER:
            groups, members = counts.get((unit.pk, group_type), (0, 0))
            total_groups += groups
            total_members += members
            figs = figures.get((unit.pk, group_type))
            if not (groups or members or figs):
                continue
            rows.append(_row(unit, year, group_type, groups, members, figs, unit_adults))
        rows.append(
            _row(
                unit,
                year,
                ALL_TYPES,
                total_groups,
                total_members,
                figures.get((unit.pk, ALL_TYPES)),
                unit_adults,
            )
        )
    return rows


def _row(
    unit: AdministrativeUnit,
    year: int,
    group_type: str,
    groups: int,
    members: int,
    figures: dict | None,
    adults: int,
) -> dict:
    figures = figures or dict.fromkeys(_FIGURES, 0)
    reached = figures["citizens_reached"]
    rate: Decimal | None = percent(reached, adults)
    return {
        "unit_code": unit.code,
        "unit_name": unit.name,
        "year": year,
        "group_type": group_type,
        "groups": groups,
        "members": members,
        **{name: figures[name] for name in _FIGURES},
        "adults": adults,
        "reach_rate": rate,
    }


def group_figures(*, ward: AdministrativeUnit, year: int) -> list[dict]:
    """Each group of `ward` (already in the user's scope) with its figures of `year`, read from
    the ward's detail rows (a few hundred groups): members active, activities, participants,
    people helped, dossiers, citizens reached."""
    groups = list(
        Group.objects.filter(ward=ward)
        .order_by("group_type", "sort_key", "code")
        .values("pk", "code", "name", "group_type", "founded")
    )
    activity = {
        row["group_id"]: row
        for row in Activity.objects.filter(ward=ward, year=year)
        .values("group_id")
        .annotate(
            activities=Count("pk"),
            participants=Sum("participants"),
            people_helped=Sum("people_helped"),
            dossiers=Sum("dossiers"),
        )
        .order_by()
    }
    reached = dict(
        Activity.objects.filter(ward=ward, year=year)
        .values_list("group_id")
        .annotate(n=Count("helped__citizen_id", distinct=True))
        .order_by()
    )
    active = (Q(joined__isnull=True) | Q(joined__year__lte=year)) & (
        Q(left__isnull=True) | Q(left__year__gte=year)
    )
    members = dict(
        Member.objects.filter(active, ward=ward)
        .values_list("group_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    labels = dict(GroupType.choices)
    rows = []
    for group in groups:
        if group["founded"] is not None and group["founded"].year > year:
            continue
        figures = activity.get(group["pk"], {})
        rows.append(
            {
                **group,
                "type_label": labels[group["group_type"]],
                "members": members.get(group["pk"], 0),
                "activities": figures.get("activities", 0),
                "participants": figures.get("participants") or 0,
                "people_helped": figures.get("people_helped") or 0,
                "dossiers": figures.get("dossiers") or 0,
                "citizens_reached": reached.get(group["pk"], 0),
            }
        )
    return rows
