"""The bulk-load machinery behind `generate_demo`: rows made in a process of their own, B-tree
indexes built once at the end, ids drawn from a sequence in one block."""

import multiprocessing
import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from devtools.bulk import BulkWriter, in_background, indexes_built_at_end
from registry.models import AdministrativeUnit, Entity, Kind
from registry.services.divisions import divisions_load

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL bulk-load path"
)


def test_items_come_in_order_from_another_process():
    def made():
        for i in range(50):
            yield i, os.getpid()

    items = list(in_background(made(), depth=2))
    assert [i for i, _pid in items] == list(range(50))
    assert {pid for _i, pid in items} != {os.getpid()}
    assert not multiprocessing.active_children()


def test_an_error_while_making_is_raised_to_the_writer():
    def made():
        yield 1
        raise ValueError("bad row")

    items = in_background(made())
    assert next(items) == 1
    with pytest.raises(ValueError, match="bad row"):
        next(items)
    assert not multiprocessing.active_children()


def test_a_writer_that_stops_early_stops_the_maker():
    def made():
        yield from range(10**12)

    items = in_background(made(), depth=2)
    assert next(items) == 0
    items.close()  # what an exception in the writing loop does to the generator
    assert not multiprocessing.active_children()


@pytest.mark.django_db
def test_the_maker_leaves_the_database_connection_alone():
    """The child shares the connection's socket and exits without closing it."""
    divisions_load(province_codes=["12"])

    def made():
        yield from range(3)

    assert list(in_background(made())) == [0, 1, 2]
    assert AdministrativeUnit.objects.filter(level="province", code="12").exists()


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('registry_entity', 'registry_family', 'registry_citizen')"
        )
        return dict(cursor.fetchall())


@postgresql_only
@pytest.mark.django_db
def test_the_indexes_are_back_after_a_bulk_load_with_the_same_definitions():
    divisions_load(province_codes=["12"])
    before = _indexes()
    assert "entity_ward_kind_sort" in before and "registry_entity_search_trgm" in before
    call_command(
        "generate_demo", "--province", "12", "--households", "200", "--without-titles",
        stdout=StringIO(),
    )  # fmt: skip
    assert _indexes() == before
    with connection.cursor() as cursor:  # and the planner uses them
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT 1 FROM registry_entity WHERE ward_id = 1 AND kind = 'family' "
            "AND sort_key = 'x'"
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "entity_ward_kind_sort" in plan


@postgresql_only
@pytest.mark.django_db
def test_a_failed_load_leaves_the_indexes_as_they_were():
    divisions_load(province_codes=["12"])
    before = _indexes()
    ward = AdministrativeUnit.objects.filter(level="ward").first()
    with pytest.raises(IntegrityError), transaction.atomic(), indexes_built_at_end(Entity):
        assert "entity_ward_kind_sort" not in _indexes()  # dropped while loading
        row = {"kind": Kind.FAMILY, "province": ward.parent, "ward": ward, "name": "A"}
        Entity.objects.create(code="HGD1", **row)
        Entity.objects.create(code="HGD1", **row)  # the unique constraint still refuses it
    assert _indexes() == before


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_ids_come_as_one_block_of_the_sequence():
    with transaction.atomic():
        writer = BulkWriter()
        first = writer.next_ids(Entity, 5)
        second = writer.next_ids(Entity, 3)
    assert first == list(range(first[0], first[0] + 5))
    assert second == list(range(first[-1] + 1, first[-1] + 4))
    divisions_load(province_codes=["12"])
    ward = AdministrativeUnit.objects.filter(level="ward").first()
    entity = Entity.objects.create(
        kind=Kind.FAMILY, province=ward.parent, ward=ward, code="X1", name="A"
    )
    assert entity.pk > second[-1]  # the sequence went on after the block
