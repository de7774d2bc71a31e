"""The registrations API's cursor pages (`?cursor=`): every row once, in key order, at the same
cost however deep — no COUNT, no OFFSET, and on PostgreSQL a plan on the keyset index."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import Entity, Kind
from titles.models import Registration, State
from titles.services.rollups import rollups_refresh

URL = "/api/v1/registrations/"
KINDS = [Kind.FAMILY, Kind.CLAN, Kind.COMMUNITY, Kind.UNIT, Kind.CITIZEN]
STATES = [State.REGISTERED, State.SUBMITTED, State.EVALUATED]
YEARS = [2024, 2025, 2026]

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="query plans are PostgreSQL's"
)


def _bulk(ward, count: int, prefix: str = "E") -> list[Registration]:
    """`count` entities of every kind in turn, each registered in one of YEARS in one of
    STATES, written with bulk_create (fast enough for the thousands the plan test needs)."""
    entities = Entity.objects.bulk_create(
        Entity(
            kind=KINDS[n % len(KINDS)],
            province_id=ward.parent_id,
            ward=ward,
            code=f"{prefix}{n:05d}",
            name=f"Thực thể {prefix}{n:05d}",
        )
        for n in range(count)
    )
    return Registration.objects.bulk_create(
        Registration(
            entity=entity,
            kind=entity.kind,
            year=YEARS[n % len(YEARS)],
            state=STATES[(n // 2) % len(STATES)],
            ward=ward,
            province_id=ward.parent_id,
        )
        for n, entity in enumerate(entities)
    )


def _key(registration: Registration) -> tuple:
    return (registration.year, registration.kind, registration.pk)


def _walk(client, params: dict) -> tuple[list[dict], int]:
    """Every row of the list page by page through `next`; and how many pages it took."""
    rows, pages = [], 0
    response = client.get(URL, {**params, "cursor": ""})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "results"}
        rows += body["results"]
        pages += 1
        if body["next"] is None:
            return rows, pages
        query = parse_qs(urlsplit(body["next"]).query, keep_blank_values=True)
        assert "page" not in query
        response = client.get(body["next"])


def test_walking_by_cursor_gives_every_row_once_in_key_order(client, carol, ward_a, ward_b):
    made = _bulk(ward_a, 23, "A") + _bulk(ward_b, 17, "B")
    client.force_login(carol)
    rows, pages = _walk(client, {"page_size": 6})
    assert pages == 7  # 40 rows, 6 a page
    expected = sorted(made, key=_key, reverse=True)  # newest year, then title, then id
    assert [row["id"] for row in rows] == [r.pk for r in expected]


@pytest.mark.parametrize(
    "params,keep",
    [
        ({"year": 2025}, lambda r: r.year == 2025),
        ({"kind": "clan"}, lambda r: r.kind == "clan"),
        (
            {"status": "submitted", "year": 2024},
            lambda r: r.state == "submitted" and r.year == 2024,
        ),
        ({"ward": "00004"}, lambda r: r.ward.code == "00004"),
        ({"ward": "00004", "kind": "unit"}, lambda r: r.ward.code == "00004" and r.kind == "unit"),
    ],
)
def test_cursor_pages_keep_the_filters(client, carol, ward_a, ward_b, params, keep):
    made = _bulk(ward_a, 20, "A") + _bulk(ward_b, 20, "B")
    client.force_login(carol)
    rows, _pages = _walk(client, {**params, "page_size": 4})
    expected = sorted((r for r in made if keep(r)), key=_key, reverse=True)
    assert expected
    assert [row["id"] for row in rows] == [r.pk for r in expected]


def test_cursor_pages_are_scoped(client, alice, ward_a, ward_b):
    mine = _bulk(ward_a, 9, "A")
    _bulk(ward_b, 9, "B")
    client.force_login(alice)  # ward A's staff
    rows, _pages = _walk(client, {"page_size": 4})
    assert sorted(row["id"] for row in rows) == sorted(r.pk for r in mine)
    assert {row["ward"] for row in rows} == {"00070"}
    rows, _pages = _walk(client, {"ward": "00004"})
    assert rows == []


def test_next_names_the_last_row_s_key(client, carol, ward_a):
    made = _bulk(ward_a, 5)
    client.force_login(carol)
    body = client.get(URL, {"cursor": "", "page_size": 2}).json()
    last = sorted(made, key=_key, reverse=True)[1]
    query = parse_qs(urlsplit(body["next"]).query)
    assert query == {"cursor": [f"{last.year}.{last.kind}.{last.pk}"], "page_size": ["2"]}


def test_numbered_pages_work_as_before(client, carol, ward_a):
    _bulk(ward_a, 11)
    rollups_refresh(ward_ids=[ward_a.pk])  # what the services keep when they register
    client.force_login(carol)
    body = client.get(URL, {"page_size": 5, "page": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 11
    assert len(body["results"]) == 5
    assert "page=3" in body["next"] and "page" in body["previous"]
    assert "cursor" not in body["next"]


@pytest.mark.parametrize(
    "cursor",
    ["x", "2025", "2025.clan", "2025.clan.a", "2025.village.3", "2025.clan.3.4", "٢٠٢٥.clan.3",
     "2025.clan.3\n", "-1.clan.3", "2025.clan.1234567890123456789"],
)  # fmt: skip
def test_a_malformed_cursor_is_a_400_naming_it(client, carol, ward_a, cursor):
    _bulk(ward_a, 3)
    client.force_login(carol)
    response = client.get(URL, {"cursor": cursor})
    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]


def test_the_cursor_path_runs_a_fixed_number_of_queries(
    client, carol, ward_a, ward_b, django_assert_num_queries
):
    _bulk(ward_a, 30, "A")
    _bulk(ward_b, 30, "B")
    client.force_login(carol)
    first = client.get(URL, {"cursor": "", "page_size": 10}).json()
    # Session, user, grant, one page of rows (with their entity, ward and decision joined),
    # plus the request's savepoint pair; deep pages cost the same as the first.
    for url in (URL + "?cursor=&page_size=10", first["next"]):
        with django_assert_num_queries(6) as captured:
            assert client.get(url).status_code == 200
        sql = " ".join(query["sql"].upper() for query in captured.captured_queries)
        assert "COUNT(" not in sql
        assert "OFFSET" not in sql


def _registration_queries(captured) -> list[str]:
    return [
        query["sql"]
        for query in captured.captured_queries
        if 'FROM "titles_registration"' in query["sql"]
    ]


@postgresql_only
@pytest.mark.parametrize(
    "username,params",
    [
        ("carol", {}),
        ("carol", {"year": 2025}),
        ("carol", {"year": 2026, "kind": "family", "status": "submitted"}),
        ("carol", {"ward": "00004", "year": 2024}),
        ("alice", {"year": 2025}),
    ],
)
def test_the_cursor_path_walks_the_keyset_index(client, request, ward_a, ward_b, username, params):
    """With a few thousand rows and fresh statistics the planner reads the keyset index from
    the cursor's position, never the whole table (enable_seqscan left on)."""
    _bulk(ward_a, 3000, "A")
    _bulk(ward_b, 3000, "B")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE titles_registration")
        cursor.execute("ANALYZE registry_entity")
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone()[0] == "on"
    client.force_login(request.getfixturevalue(username))
    with CaptureQueriesContext(connection) as first:
        body = client.get(URL, {**params, "cursor": "", "page_size": 100}).json()
    assert body["next"]
    with CaptureQueriesContext(connection) as deeper:
        assert client.get(body["next"]).status_code == 200
    queries = _registration_queries(first) + _registration_queries(deeper)
    assert len(queries) == 2
    for sql in queries:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Seq Scan on titles_registration" not in plan, plan
        # One of the registration indexes: the keyset one entered at the cursor's position,
        # or, when every filter is given, the filters' own index (then it sorts what matches).
        assert re.search(r"Index Scan (Backward )?using reg_\w+ on titles_registration", plan) or (
            "Bitmap Index Scan on reg_" in plan
        ), plan


def test_the_schema_documents_both_ways_of_paging(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["get"]
    assert {"page", "page_size", "cursor"} <= {p["name"] for p in operation["parameters"]}
    listed = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    paginated = schema["components"]["schemas"][listed.rsplit("/", 1)[-1]]
    assert paginated["required"] == ["next", "results"]  # `count` only on numbered pages
