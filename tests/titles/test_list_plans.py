"""The titles' lists read an index in the list's order (PostgreSQL).

A province viewer's registrations list, an official's review queue and a residential area's
households, first page and a page further on by cursor: the planned path reads
`titles_registration` through the index that matches the list's order and filters
(reg_province_list, reg_ward_list) and stops after a page, with no sequential scan of the
registrations and no COUNT over the province. Thousands of rows in two provinces, analysed, so
that the planner chooses as it would on a real database.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registry.models import Community, Entity, Family, Kind
from registry.text import fold, sort_key
from tests.factories import WardFactory
from titles.models import Registration, State
from titles.services.registrations import area_households

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="query plans are PostgreSQL's"
)

YEAR = timezone.localdate().year
PER_WARD = 1500


def _registered_households(ward, prefix: str, *, under_review: bool = True) -> Entity:
    area = Entity.objects.create(
        kind=Kind.COMMUNITY,
        province=ward.parent,
        ward=ward,
        code=f"{prefix}-TDP",
        name="Tổ dân phố 1",
        sort_key=sort_key("Tổ dân phố 1"),
        search_text="to dan pho 1",
    )
    Community.objects.create(entity=area)
    names = [f"Nguyễn Văn {prefix} {i:05d}" for i in range(PER_WARD)]
    entities = Entity.objects.bulk_create(
        Entity(
            kind=Kind.FAMILY,
            province=ward.parent,
            ward=ward,
            code=f"{prefix}{i:05d}",
            name=name,
            sort_key=sort_key(name, person=True),
            search_text=fold(name),
        )
        for i, name in enumerate(names)
    )
    Family.objects.bulk_create(Family(entity=e, members=4, community_id=area.pk) for e in entities)
    Registration.objects.bulk_create(
        Registration(
            entity=e,
            year=year,
            kind=Kind.FAMILY,
            ward=ward,
            province=ward.parent,
            sort_key=e.sort_key,
            state=State.EVALUATED if under_review and i % 3 == 0 else State.REGISTERED,
            passed=True if under_review and i % 3 == 0 else None,
        )
        for i, e in enumerate(entities)
        for year in (YEAR - 1, YEAR)
    )
    return area


@pytest.fixture
def many(province, other_province, ward_a, ward_b):
    wards = [ward_a, ward_b, *(WardFactory(parent=province) for _ in range(2))]
    areas = [_registered_households(ward, f"A{n}") for n, ward in enumerate(wards)]
    for n in range(2):
        _registered_households(WardFactory(parent=other_province), f"X{n}")
    with connection.cursor() as cursor:
        for table in ("registry_entity", "registry_family", "titles_registration"):
            cursor.execute(f"ANALYZE {table}")
    return areas


def _page_query(queries, table: str) -> str:
    [sql] = [
        q["sql"]
        for q in queries
        if f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"] and "COUNT(" not in q["sql"]
    ]
    return sql


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _pages(client, url: str, params: dict) -> list:
    with CaptureQueriesContext(connection) as first:
        page = client.get(url, params)
    assert page.status_code == 200
    cursor = page.context["page"].next_cursor
    assert cursor
    with CaptureQueriesContext(connection) as later:
        assert client.get(url, {**params, "cursor": cursor}).status_code == 200
    return [first.captured_queries, later.captured_queries]


def test_the_province_registrations_list_walks_its_index(client, carol, many):
    client.force_login(carol)
    for params in ({"year": YEAR}, {"year": YEAR, "kind": Kind.FAMILY, "state": "registered"}):
        for queries in _pages(client, reverse("registration_list"), params):
            assert not any(
                "COUNT(" in q["sql"] and "titles_registration" in q["sql"] for q in queries
            )
            plan = _plan(_page_query(queries, "titles_registration"))
            assert "Seq Scan on titles_registration" not in plan, plan
            assert "reg_province_list" in plan, plan
            assert "Sort" not in plan, plan


def test_the_review_queue_walks_its_ward_index(client, bob, many):
    client.force_login(bob)
    for params in ({"year": YEAR}, {"year": YEAR, "state": "evaluated", "result": "passed"}):
        for queries in _pages(client, reverse("review_queue"), params):
            plan = _plan(_page_query(queries, "titles_registration"))
            assert "Seq Scan on titles_registration" not in plan, plan
            assert "reg_ward_list" in plan, plan
            assert "Sort" not in plan, plan
            # The ward's counts by state are summed from its counts, never counted from the
            # registrations.
            assert not any(
                "COUNT(" in q["sql"] and 'FROM "titles_registration"' in q["sql"]
                for q in queries
            )
            assert any('FROM "titles_registrationcount"' in q["sql"] for q in queries)


def test_a_filtered_queue_of_the_one_ward_under_review_walks_its_index(
    client, bob, province, ward_a
):
    """Only the ward under review holds evaluated registrations (as in a city where one ward
    reviews at a time): taking ward, year and state as independent, the planner expected a
    handful of rows and sorted them all (Hanoi's 29,814: 87 ms); told how a ward's states go
    with the ward and year (extended statistics, titles 0021), it reads the first page off the
    list index."""
    _registered_households(ward_a, "R")
    for n in range(8):
        _registered_households(WardFactory(parent=province), f"Q{n}", under_review=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE titles_registration")
    client.force_login(bob)
    params = {"year": YEAR, "state": "evaluated", "result": "passed", "kind": Kind.FAMILY}
    for queries in _pages(client, reverse("review_queue"), params):
        plan = _plan(_page_query(queries, "titles_registration"))
        assert "reg_ward_list" in plan and "Sort" not in plan, plan


def test_the_area_households_read_the_area_not_the_province(client, carol, many):
    client.force_login(carol)
    url = reverse("dashboard_area", args=[many[0].pk])
    for queries in _pages(client, url, {"year": YEAR}):
        plan = _plan(_page_query(queries, "registry_family"))
        for table in ("titles_registration", "registry_entity", "registry_family"):
            assert f"Seq Scan on {table}" not in plan, plan


def test_registering_an_area_counts_from_the_area_not_from_every_household(many):
    """The confirmation counts the area's households not yet registered: from the area's own
    rows, never a scan of every entity (as NOT IN, Hanoi's took 0.6 s)."""
    area = Community.objects.get(pk=many[0].pk)
    Registration.objects.filter(entity__family__community=area, year=YEAR).first().delete()
    entities, already = area_households(community=area, year=YEAR)
    with CaptureQueriesContext(connection) as queries:
        assert entities.count() == 1
    assert already == PER_WARD - 1
    # Tables this small are scanned whole whatever the query says: with scans priced out, the
    # plan shows the shape the query allows. The area's households through its index, each one's
    # registration looked up by key (an anti-join); the NOT IN form was a filter over every
    # entity against a hashed subquery, which at Hanoi's scale meant reading all 8 million.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = _plan(queries.captured_queries[-1]["sql"])
    assert "Anti Join" in plan and "SubPlan" not in plan, plan
    assert "Index Cond: (community_id = " in plan, plan
    assert "Index Cond: ((entity_id = registry_entity.id) AND (year = " in plan, plan
