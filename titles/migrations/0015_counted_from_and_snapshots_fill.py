"""Existing data under the year rule and the freeze.

1. Each ward-year signed off (and not reopened) gets its snapshot from its current figures (the
   roll-up rows and the entity tallies as the pages show them now).
2. Each entity gets its `counted_from` by the registry's year rule (`registry.services.tallies`),
   from when it was recorded (`created_at`): the year after the latest earlier year its ward
   kept in the system (some of the year's registrations recorded during it; none: every
   year), and no later than the first year it registered for.
3. The entity tallies are recomputed by first year counted.
"""

import datetime as dt
from collections import Counter

from django.db import migrations
from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

WARD, COMMUNITY, PROVINCE = "ward", "community", "province"
KINDS = ("family", "clan", "community", "unit", "citizen")


def _snapshots(apps) -> None:
    WardSignOff = apps.get_model("titles", "WardSignOff")
    Rollup = apps.get_model("titles", "Rollup")
    RollupSnapshot = apps.get_model("titles", "RollupSnapshot")
    EntityTally = apps.get_model("registry", "EntityTally")
    Entity = apps.get_model("registry", "Entity")
    newest: dict[tuple[int, int], tuple[str, int]] = {}
    for ward_id, province_id, year, action in WardSignOff.objects.order_by("pk").values_list(
        "ward_id", "province_id", "year", "action"
    ):
        newest[(ward_id, year)] = (action, province_id)
    rows = []
    for (ward_id, year), (action, province_id) in sorted(newest.items()):
        if action != "sign_off":
            continue
        areas = list(
            Entity.objects.filter(ward_id=ward_id, kind="community").values_list("pk", flat=True)
        )
        entities: Counter = Counter()
        for level, unit_id, kind, n in EntityTally.objects.filter(
            Q(level=WARD, unit_id=ward_id) | Q(level=COMMUNITY, unit_id__in=areas)
        ).values_list("level", "unit_id", "kind", "entities"):
            entities[(level, unit_id, kind)] += n
        stored = {
            (r.level, r.unit_id, r.kind): r
            for r in Rollup.objects.filter(ward_id=ward_id, year=year).filter(
                Q(level=WARD, unit_id=ward_id) | Q(level=COMMUNITY)
            )
        }
        keys = {(WARD, ward_id, kind) for kind in KINDS} | set(stored) | set(entities)
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
                    registered=figure.registered if figure else 0,
                    recognized=figure.recognized if figure else 0,
                    outstanding=figure.outstanding if figure else 0,
                )
            )
    RollupSnapshot.objects.bulk_create(rows, batch_size=2000)


def _counted_from(apps) -> None:
    Registration = apps.get_model("titles", "Registration")
    Entity = apps.get_model("registry", "Entity")
    zone = timezone.get_default_timezone()
    first_recorded = (
        Registration.objects.values_list("ward_id", "year")
        .annotate(at=Min("created_at"))
        .order_by()
    )
    # Latest year last: each update overwrites the earlier years' for the entities it matches.
    for ward_id, year, at in sorted(first_recorded, key=lambda row: (row[0], row[1])):
        next_year = dt.datetime(year + 1, 1, 1, tzinfo=zone)
        if at >= next_year:
            continue  # the year was loaded afterwards, not kept in the system
        Entity.objects.filter(ward_id=ward_id, created_at__gte=next_year).update(
            counted_from=year + 1
        )
    first_registered = (
        Registration.objects.values_list("entity_id").annotate(first=Min("year")).order_by()
    )
    by_year: dict[int, list[int]] = {}
    for entity_id, first in first_registered:
        by_year.setdefault(first, []).append(entity_id)
    for year, ids in by_year.items():
        for start in range(0, len(ids), 900):
            Entity.objects.filter(pk__in=ids[start : start + 900], counted_from__gt=year).update(
                counted_from=year
            )


def _tallies(apps) -> None:
    """As `registry.services.tallies.tallies_refresh`, for every ward at once."""
    Entity = apps.get_model("registry", "Entity")
    Family = apps.get_model("registry", "Family")
    Citizen = apps.get_model("registry", "Citizen")
    EntityTally = apps.get_model("registry", "EntityTally")
    counts: Counter = Counter()
    wards: dict[tuple, tuple[int | None, int]] = {}
    for ward_id, province_id, kind, since, n in (
        Entity.objects.annotate(since=Coalesce("counted_from", 0))
        .values_list("ward_id", "province_id", "kind", "since")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[(WARD, ward_id, kind, since)] += n
        counts[(PROVINCE, province_id, kind, since)] += n
        wards[(WARD, ward_id)] = (ward_id, province_id)
        wards[(PROVINCE, province_id)] = (None, province_id)
    for area_id, ward_id, province_id, since in (
        Entity.objects.filter(kind="community")
        .annotate(since=Coalesce("counted_from", 0))
        .values_list("pk", "ward_id", "province_id", "since")
    ):
        counts[(COMMUNITY, area_id, "community", since)] += 1
        wards[(COMMUNITY, area_id)] = (ward_id, province_id)
    for area_id, since, n in (
        Family.objects.annotate(since=Coalesce("entity__counted_from", 0))
        .values_list("community_id", "since")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[(COMMUNITY, area_id, "family", since)] += n
    for area_id, since, n in (
        Citizen.objects.filter(family__isnull=False)
        .annotate(since=Coalesce("entity__counted_from", 0))
        .values_list("family__community_id", "since")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[(COMMUNITY, area_id, "citizen", since)] += n
    EntityTally.objects.all().delete()
    rows = []
    for (level, unit_id, kind, since), n in counts.items():
        ward_id, province_id = wards[(level, unit_id)]
        rows.append(
            EntityTally(
                level=level,
                unit_id=unit_id,
                ward_id=ward_id,
                province_id=province_id,
                kind=kind,
                counted_from=since,
                entities=n,
            )
        )
    EntityTally.objects.bulk_create(rows, batch_size=2000)


def forward(apps, schema_editor) -> None:
    _snapshots(apps)
    _counted_from(apps)
    _tallies(apps)


def backward(apps, schema_editor) -> None:
    apps.get_model("titles", "RollupSnapshot").objects.all().delete()
    Entity = apps.get_model("registry", "Entity")
    Entity.objects.update(counted_from=None)
    _tallies(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0011_entity_counted_from"),
        ("titles", "0014_rollup_snapshots"),
    ]

    operations = [migrations.RunPython(forward, backward)]
