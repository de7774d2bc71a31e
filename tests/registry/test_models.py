"""The registry's invariants hold in the database itself, whatever code writes the rows."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When

from registry.models import Citizen, Entity, Family, Kind
from tests.factories import make_citizen, make_clan, make_community, make_family, make_unit


def _raises_integrity(fn) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_code_is_unique_per_ward_and_kind(ward_a, ward_b):
    make_community(ward_a, code="C1")
    make_community(ward_b, code="C1")  # same code in another ward is fine
    make_clan(ward_a, code="C1")  # and for another kind
    _raises_integrity(
        lambda: Entity.objects.create(
            kind=Kind.COMMUNITY, ward=ward_a, province=ward_a.parent, code="C1", name="x"
        )
    )


def test_family_community_must_be_in_the_same_ward(ward_a, ward_b):
    fam = make_family(ward_a, code="F1")
    elsewhere = make_community(ward_b, code="C9")
    _raises_integrity(lambda: Family.objects.filter(pk=fam.pk).update(community=elsewhere))


def test_family_clan_must_be_in_the_same_ward(ward_a, ward_b):
    fam = make_family(ward_a, code="F1")
    clan = make_clan(ward_b, code="D9")
    _raises_integrity(lambda: Family.objects.filter(pk=fam.pk).update(clan=clan))


def test_citizen_family_and_unit_must_be_in_the_same_ward(ward_a, ward_b):
    fam_b = make_family(ward_b, code="F2")
    unit_b = make_unit(ward_b, code="U2")
    _raises_integrity(lambda: make_citizen(ward_a, code="P1", family=fam_b))
    _raises_integrity(lambda: make_citizen(ward_a, code="P2", unit=unit_b))
    assert make_citizen(ward_b, code="P3", family=fam_b, unit=unit_b).entity.ward == ward_b


def test_entity_province_must_be_its_wards_province(ward_a, ward_x):
    _raises_integrity(
        lambda: Entity.objects.create(
            kind=Kind.CLAN, ward=ward_a, province=ward_x.parent, code="Z", name="z"
        )
    )


def test_entity_never_changes_ward(ward_a, ward_b):
    clan = make_clan(ward_a, code="D1")
    _raises_integrity(lambda: Entity.objects.filter(pk=clan.pk).update(ward=ward_b))


def test_kind_row_must_match_entity_kind(ward_a):
    clan = make_clan(ward_a, code="D1")
    community = make_community(ward_a, code="C1")
    _raises_integrity(
        lambda: Family.objects.create(entity=clan.entity, members=3, community=community)
    )


def test_positive_counts(ward_a):
    fam = make_family(ward_a, code="F1")
    _raises_integrity(lambda: Family.objects.filter(pk=fam.pk).update(members=0))


# --- Statements that write many rows at once (bulk loads, imports): every row is checked -------


def _entities(ward, kind: str, codes: list[str], province=None) -> list[Entity]:
    return Entity.objects.bulk_create(
        [
            Entity(kind=kind, ward=ward, province=province or ward.parent, code=c, name=c)
            for c in codes
        ]
    )


def test_a_multi_row_insert_with_one_bad_row_writes_nothing(ward_a, ward_b):
    here = make_community(ward_a, code="C1")
    there = make_community(ward_b, code="C2")
    entities = _entities(ward_a, Kind.FAMILY, ["F1", "F2", "F3"])
    rows = [Family(entity=e, members=2, community=here) for e in entities]
    rows[1].community = there  # the middle row points at another ward's area
    _raises_integrity(lambda: Family.objects.bulk_create(rows))
    assert not Family.objects.exists()
    # The same rows, all in the ward: accepted in one statement.
    rows[1].community = here
    Family.objects.bulk_create(rows)
    assert Family.objects.filter(community=here).count() == 3


def test_a_multi_row_insert_checks_every_rows_kind_and_province(ward_a, ward_x):
    clan = make_clan(ward_a, code="D1")
    community = make_community(ward_a, code="C1")
    families = _entities(ward_a, Kind.FAMILY, ["F1", "F2"])
    _raises_integrity(
        lambda: Family.objects.bulk_create(
            [
                Family(entity=families[0], members=2, community=community),
                Family(entity=clan.entity, members=2, community=community),  # a clan's entity
            ]
        )
    )
    _raises_integrity(
        lambda: Entity.objects.bulk_create(
            [
                Entity(kind=Kind.CLAN, ward=ward_a, province=ward_a.parent, code="OK", name="a"),
                Entity(kind=Kind.CLAN, ward=ward_a, province=ward_x.parent, code="Z", name="z"),
            ]
        )
    )
    assert not Entity.objects.filter(code__in=["OK", "Z"]).exists()


def test_a_multi_row_update_with_one_bad_row_changes_nothing(ward_a, ward_b):
    area_1 = make_community(ward_a, code="C1")
    area_2 = make_community(ward_a, code="C2")
    elsewhere = make_community(ward_b, code="C9")
    unit_b = make_unit(ward_b, code="U9")
    families = [make_family(ward_a, code=f"F{n}", community=area_1) for n in range(3)]
    citizens = [make_citizen(ward_a, code=f"P{n}", family=families[n]) for n in range(3)]
    _raises_integrity(
        lambda: Family.objects.filter(community=area_1).update(
            community=Case(
                When(entity_id=families[2].pk, then=Value(elsewhere.pk)),
                default=Value(area_2.pk),
            )
        )
    )
    assert Family.objects.filter(community=area_1).count() == 3
    Family.objects.filter(community=area_1).update(community=area_2)  # all in the ward: fine
    assert Family.objects.filter(community=area_2).count() == 3
    _raises_integrity(
        lambda: Citizen.objects.filter(pk__in=[c.pk for c in citizens]).update(unit=unit_b)
    )
    _raises_integrity(
        lambda: Entity.objects.filter(pk__in=[c.pk for c in citizens]).update(ward=ward_b)
    )
    assert set(Citizen.objects.values_list("unit", flat=True)) == {None}
