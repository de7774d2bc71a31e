"""Writing one group, member or activity (the pages' forms); files go through
`community.services.imports`. Each write checks the row (`full_clean`), is audited by the
audit app's signals, and refreshes its ward's summaries in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Activity, ActivityCitizen, Group, Member
from community.services.summaries import summaries_refresh
from registry.models import AdministrativeUnit, Entity, Kind
from registry.text import sort_key


def _same_ward(entity: Entity | None, ward_id: int, kind: str, field: str) -> None:
    if entity is not None and (entity.ward_id != ward_id or entity.kind != kind):
        raise ValidationError({field: _("Choose one of this commune/ward's records.")})


@transaction.atomic
def group_create(
    *,
    ward: AdministrativeUnit,
    code: str,
    name: str,
    group_type: str,
    community: Entity | None = None,
    founded: dt.date | None = None,
    leader_name: str = "",
) -> Group:
    if ward.level != AdministrativeUnit.Level.WARD or ward.valid_to is not None:
        raise ValidationError({"ward": _("Groups belong to a commune/ward in force.")})
    _same_ward(community, ward.pk, Kind.COMMUNITY, "community")
    group = Group(
        ward=ward,
        province_id=ward.parent_id,
        code=code.strip(),
        name=name.strip(),
        group_type=group_type,
        community=community,
        founded=founded,
        leader_name=leader_name.strip(),
    )
    group.refresh_search_text()
    group.full_clean()
    group.save()
    summaries_refresh(ward_ids=[ward.pk])
    return group


@transaction.atomic
def group_update(
    *,
    group: Group,
    name: str,
    group_type: str,
    community: Entity | None = None,
    founded: dt.date | None = None,
    leader_name: str = "",
) -> Group:
    """Change a group (its ward and code stay); writes only if something changed."""
    _same_ward(community, group.ward_id, Kind.COMMUNITY, "community")
    new = {
        "name": name.strip(),
        "group_type": group_type,
        "community": community,
        "founded": founded,
        "leader_name": leader_name.strip(),
    }
    changed = [f for f, v in new.items() if getattr(group, f) != v]
    if not changed:
        return group
    for f in changed:
        setattr(group, f, new[f])
    group.refresh_search_text()
    group.full_clean()
    group.save(update_fields=[*changed, "search_text", "sort_key", "updated_at"])
    summaries_refresh(ward_ids=[group.ward_id])
    return group


@transaction.atomic
def member_create(
    *,
    group: Group,
    code: str,
    full_name: str,
    citizen: Entity | None = None,
    role: str = "",
    joined: dt.date | None = None,
    left: dt.date | None = None,
) -> Member:
    _same_ward(citizen, group.ward_id, Kind.CITIZEN, "citizen")
    member = Member(
        group=group,
        ward_id=group.ward_id,
        province_id=group.province_id,
        code=code.strip(),
        full_name=full_name.strip(),
        citizen=citizen,
        role=role.strip(),
        joined=joined,
        left=left,
        sort_key=sort_key(full_name, person=True),
    )
    member.full_clean()
    member.save()
    summaries_refresh(ward_ids=[group.ward_id])
    return member


@transaction.atomic
def activity_create(
    *,
    group: Group,
    date: dt.date,
    ref: str = "",
    activity_type: str,
    participants: int,
    people_helped: int | None = None,
    services: Iterable[str] = (),
    dossiers: int = 0,
    citizens: Iterable[Entity] = (),
    note: str = "",
) -> Activity:
    """Record an activity of `group`; the citizens helped are citizens of the group's ward.

    `people_helped` left out is the number of citizens; given, it is at least that. An empty
    `ref` is numbered by the date: 20250601-1, 20250601-2, … (the first free one of the group).
    """
    citizens = list(dict.fromkeys(citizens))
    for citizen in citizens:
        _same_ward(citizen, group.ward_id, Kind.CITIZEN, "citizens")
    if date > timezone.localdate():
        raise ValidationError({"date": _("Record an activity once it has taken place.")})
    if people_helped is None:
        people_helped = len(citizens)
    if people_helped < len(citizens):
        raise ValidationError(
            {"people_helped": _("At least the number of citizens chosen as helped.")}
        )
    ref = ref.strip() or _next_ref(group, date)
    activity = Activity(
        group=group,
        ward_id=group.ward_id,
        province_id=group.province_id,
        ref=ref,
        date=date,
        year=date.year,
        activity_type=activity_type,
        participants=participants,
        people_helped=people_helped,
        services=list(services),
        dossiers=dossiers,
        note=note.strip(),
    )
    activity.full_clean()
    activity.save()
    ActivityCitizen.objects.bulk_create(
        [ActivityCitizen(activity=activity, citizen=c) for c in citizens]
    )
    summaries_refresh(ward_ids=[group.ward_id])
    return activity


def _next_ref(group: Group, date: dt.date) -> str:
    prefix = f"{date:%Y%m%d}-"
    taken = set(group.activities.filter(ref__startswith=prefix).values_list("ref", flat=True))
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"
