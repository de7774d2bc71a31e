"""The registry's lists at province scope read an index in the list's order (PostgreSQL).

A province viewer's families list, first page and a page further on by cursor: the planned path
reads `registry_entity` through the index that matches the list's order and stops after a page,
with no sequential scan of the entities or the households and no COUNT. Thousands of rows in two
provinces, analysed, so that the planner chooses as it would on a real database.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import Community, Entity, Family, Kind
from registry.text import fold, sort_key
from tests.factories import WardFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="query plans are PostgreSQL's"
)

PER_WARD = 1500


def _households(ward, prefix: str) -> None:
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
            sort_key=sort_key(name),
            search_text=fold(name),
        )
        for i, name in enumerate(names)
    )
    Family.objects.bulk_create(Family(entity=e, members=4, community_id=area.pk) for e in entities)


@pytest.fixture
def many(province, other_province, ward_a, ward_b):
    for n, ward in enumerate([ward_a, ward_b, *(WardFactory(parent=province) for _ in range(2))]):
        _households(ward, f"A{n}")
    for n in range(2):
        _households(WardFactory(parent=other_province), f"X{n}")
    with connection.cursor() as cursor:
        for table in ("registry_entity", "registry_family", "registry_community"):
            cursor.execute(f"ANALYZE {table}")


def _list_query(queries) -> str:
    [sql] = [q["sql"] for q in queries if 'FROM "registry_family"' in q["sql"]]
    return sql


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_province_list_pages_walk_the_index_in_order(client, carol, many):
    client.force_login(carol)
    url = reverse("entity_list", args=["families"])
    with CaptureQueriesContext(connection) as first:
        page = client.get(url)
    assert page.status_code == 200
    cursor = page.context["page"].next_cursor
    with CaptureQueriesContext(connection) as later:
        assert client.get(url, {"cursor": cursor}).status_code == 200
    for queries in (first, later):
        assert not any("COUNT(" in q["sql"] and "registry_family" in q["sql"] for q in queries)
        plan = _plan(_list_query(queries.captured_queries))
        assert "Seq Scan on registry_entity" not in plan, plan
        assert "Seq Scan on registry_family" not in plan, plan
        assert "entity_province_kind_ward_sort" in plan, plan
