"""The registry's invariants hold in the database itself, whatever code writes the rows."""

import pytest
from django.db import IntegrityError, transaction

from registry.models import Entity, Family, Kind
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
