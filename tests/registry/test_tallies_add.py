"""Creating one entity moves its tallies by one (`tallies_add`) instead of recomputing its
ward: the stored tallies must be exactly what a recomputation from the detail rows gives."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import BirthYearTally, Entity, EntityTally
from registry.services.entities import entity_update
from registry.services.tallies import entities_count_in, tallies_refresh
from tests.factories import (
    make_citizen,
    make_clan,
    make_community,
    make_family,
    make_unit,
)


def _stored() -> tuple[set, set]:
    entity_rows = set(
        EntityTally.objects.values_list(
            "level", "unit_id", "kind", "counted_from", "entities", "members", "ward_id",
            "province_id",
        )
    )  # fmt: skip
    birth_rows = set(
        BirthYearTally.objects.values_list("ward_id", "province_id", "birth_year", "citizens")
    )
    return entity_rows, birth_rows


def test_each_kind_created_alone_leaves_the_tallies_a_recount_gives(ward_a, ward_b):
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố 1")
    other = make_community(ward_b, code="TDP9", name="Tổ dân phố 9")
    clan = make_clan(ward_a, code="DH1")
    household = make_family(ward_a, code="H1", members=5, community=area, clan=clan)
    make_family(ward_a, code="H2", members=3, community=area)
    make_family(ward_b, code="H9", members=2, community=other)
    unit = make_unit(ward_a, code="DV1")
    make_citizen(ward_a, code="C1", birth_year=1960, family=household)
    make_citizen(ward_a, code="C2", birth_year=1960, family=household, unit=unit)
    make_citizen(ward_a, code="C3", birth_year=2015)  # no household: no area counts them
    make_citizen(ward_b, code="C9", birth_year=1990)

    entities, births = _stored()
    households = [r for r in entities if r[:3] == ("ward", ward_a.pk, "family")]
    assert [(r[4], r[5]) for r in households] == [(2, 8)]  # two households, 5 + 3 members
    tallies_refresh(ward_ids=[ward_a.pk, ward_b.pk])
    assert _stored() == (entities, births)


def _without_empty_rows(stored: tuple[set, set]) -> tuple[set, set]:
    """A recount makes no row for what counts nothing; a tally moved down to nothing keeps its
    row at zero, which reads the same."""
    entity_rows, birth_rows = stored
    return (
        {r for r in entity_rows if r[4] or r[5]},
        {r for r in birth_rows if r[3]},
    )


def test_members_and_birth_year_changed_leave_the_tallies_a_recount_gives(ward_a):
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố 1")
    household = make_family(ward_a, code="H1", members=5, community=area)
    make_family(ward_a, code="H2", members=3, community=area)
    citizen = make_citizen(ward_a, code="C1", birth_year=1960, family=household)
    make_citizen(ward_a, code="C2", birth_year=1961)

    entity_update(obj=household, name=household.entity.name, members=7)
    entity_update(obj=citizen, name=citizen.entity.name, birth_year=1961)

    entities, births = _stored()
    households = [r for r in entities if r[:3] == ("ward", ward_a.pk, "family")]
    assert [(r[4], r[5]) for r in households] == [(2, 10)]  # 7 + 3 members
    assert (ward_a.pk, ward_a.parent_id, 1961, 2) in births
    moved = _without_empty_rows((entities, births))
    tallies_refresh(ward_ids=[ward_a.pk])
    assert _without_empty_rows(_stored()) == moved


def test_a_few_entities_counted_in_an_earlier_year_leave_the_tallies_a_recount_gives(
    ward_a, ward_b
):
    """A household added after its ward kept a year, then registered for that year, counts in it
    from then on: its tallies move from its old first year's rows to the year's, as a recount
    of the ward would put them."""
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố 1")
    household = make_family(ward_a, code="H1", members=5, community=area)
    other = make_family(ward_a, code="H2", members=3, community=area)
    citizen = make_citizen(ward_a, code="C1", birth_year=1960, family=household)
    unit = make_unit(ward_a, code="DV1")
    elsewhere = make_family(ward_b, code="H9", members=2, community=make_community(ward_b))
    late = [household, other, citizen, unit, elsewhere]
    Entity.objects.filter(pk__in=[obj.entity_id for obj in late]).update(counted_from=2026)
    tallies_refresh(ward_ids=[ward_a.pk, ward_b.pk])

    # Registered for 2025: H1, its citizen and the unit; H2 for 2027 (later: nothing moves).
    # Their tally rows move; the ward is not recomputed (its rows deleted and written again).
    with CaptureQueriesContext(connection) as queries:
        entities_count_in(entity_ids=[household.pk, citizen.pk, unit.pk], year=2025)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    entities_count_in(entity_ids=[other.pk], year=2027)

    counted = dict(
        Entity.objects.filter(pk__in=[o.entity_id for o in late]).values_list(
            "code", "counted_from"
        )
    )
    assert counted == {"H1": 2025, "C1": 2025, "DV1": 2025, "H2": 2026, "H9": 2026}
    entities, births = _stored()
    area_households = {
        r[3]: (r[4], r[5]) for r in entities if r[:3] == ("community", area.pk, "family")
    }
    assert {year: n for year, n in area_households.items() if n != (0, 0)} == {
        2025: (1, 5),
        2026: (1, 3),
    }
    moved = _without_empty_rows((entities, births))
    tallies_refresh(ward_ids=[ward_a.pk, ward_b.pk])
    assert _without_empty_rows(_stored()) == moved
