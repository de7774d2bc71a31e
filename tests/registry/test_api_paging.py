"""The registry API's pages: `?cursor=` beside `?page=`, and numbered pages counted from the
registry's tallies instead of a COUNT over the province."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import KIND_MODELS
from registry.selectors import KIND_SLUGS
from tests.factories import make_citizen, make_clan, make_community, make_family, make_unit

KINDS = ["families", "clans", "communities", "units", "citizens"]
WARD_A, WARD_B = "00070", "00004"


def _url(kind: str) -> str:
    return f"/api/v1/{kind}/"


def _populate(ward, n: int) -> None:
    """`n` entities of every kind in `ward`, written through the registry's services."""
    area = make_community(ward, code=f"TDP-{ward.code}", name="Tổ dân phố 1")
    for i in range(n):
        clan = make_clan(ward, code=f"DH{i}", name=f"Dòng họ {i}", head_name="Nguyễn Văn Tộc")
        family = make_family(
            ward, code=f"HGD{i}", head_name=f"Trần Văn {chr(65 + i)}", community=area, clan=clan
        )
        unit = make_unit(ward, code=f"DV{i}")
        make_citizen(ward, code=f"CD{i}", family=family, unit=unit)
        if i:
            make_community(ward, code=f"TDP{i}", name=f"Thôn {i}")


@pytest.fixture
def rows(ward_a, ward_b, ward_x):
    _populate(ward_a, 4)
    _populate(ward_b, 3)
    _populate(ward_x, 2)


def _walk(client, kind: str, params: dict) -> tuple[list[int], int]:
    ids, pages = [], 0
    response = client.get(_url(kind), {**params, "cursor": ""})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "results"}
        ids += [row["id"] for row in body["results"]]
        pages += 1
        if body["next"] is None:
            return ids, pages
        response = client.get(body["next"])


@pytest.mark.parametrize("kind", KINDS)
def test_cursor_pages_give_every_row_once_in_the_numbered_pages_order(client, carol, rows, kind):
    client.force_login(carol)
    numbered = client.get(_url(kind), {"page_size": 1000}).json()
    ids, pages = _walk(client, kind, {"page_size": 2})
    assert ids == [row["id"] for row in numbered["results"]]
    assert len(ids) == len(set(ids)) == numbered["count"]
    assert pages == -(-len(ids) // 2)
    ward_ids, _pages = _walk(client, kind, {"page_size": 3, "ward": WARD_B})
    model = KIND_MODELS[KIND_SLUGS[kind]]
    assert set(ward_ids) == set(
        model.objects.filter(entity__ward__code=WARD_B).values_list("pk", flat=True)
    )


def test_next_names_the_last_row_s_key(client, carol, rows):
    client.force_login(carol)
    body = client.get(_url("families"), {"cursor": "", "page_size": 2}).json()
    last = KIND_MODELS[KIND_SLUGS["families"]].objects.get(pk=body["results"][-1]["id"]).entity
    query = parse_qs(urlsplit(body["next"]).query)
    assert query == {
        "cursor": [f"{last.ward_id}.{last.sort_key}.{last.pk}"],
        "page_size": ["2"],
    }


@pytest.mark.parametrize("cursor", ["abc", "1.2", "1.x.3", "2025.family.12", "1.2.3.4", " "])
def test_a_cursor_the_list_did_not_give_is_a_400_naming_it(client, carol, rows, cursor):
    client.force_login(carol)
    response = client.get(_url("families"), {"cursor": cursor})
    assert response.status_code == 400
    assert list(response.json()) == ["cursor"]
    assert response.json()["cursor"][0]


def test_any_cursor_the_pattern_allows_is_a_position(client, carol, rows):
    client.force_login(carol)
    for cursor in ("0..0", "999999999999999999.9.999999999999999999", "1.0123.5"):
        assert client.get(_url("citizens"), {"cursor": cursor}).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("username", ["alice", "carol", "dave", "nobody"])
def test_numbered_pages_count_exactly_what_a_count_finds(client, request, rows, kind, username):
    """The count comes from the tallies (kept by the services that wrote the rows above); it
    is the number of rows a COUNT of the list finds, with and without a ward."""
    from registry.selectors import entity_list

    user = request.getfixturevalue(username)
    client.force_login(user)
    for params in ({}, {"ward": WARD_A}, {"ward": WARD_B}, {"ward": "99999"}):
        real = entity_list(user=user, kind=kind)
        if "ward" in params:
            real = real.filter(entity__ward__code=params["ward"])
        body = client.get(_url(kind), params).json()
        assert body["count"] == real.count(), params
    with CaptureQueriesContext(connection) as queries:
        client.get(_url(kind), {"page": 1})
    assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("kind", KINDS)
def test_cursor_page_query_count_does_not_grow_with_rows(client, carol, ward_a, ward_b, kind):
    _populate(ward_a, 1)
    client.force_login(carol)
    with CaptureQueriesContext(connection) as few:
        assert client.get(_url(kind), {"cursor": ""}).status_code == 200
    _populate(ward_b, 4)
    with CaptureQueriesContext(connection) as many:
        body = client.get(_url(kind), {"cursor": "", "page_size": 3}).json()
    assert len(body["results"]) == 3
    assert len(many) == len(few)


# --- plans (PostgreSQL) ---------------------------------------------------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="query plans are PostgreSQL's"
)


@pytest.fixture
def many(province, other_province, ward_a, ward_b):
    """Thousands of households in two provinces, analysed (as in test_list_plans)."""
    from registry.services.tallies import tallies_refresh
    from tests.factories import WardFactory
    from tests.registry.test_list_plans import _households

    wards = [ward_a, ward_b, *(WardFactory(parent=province) for _ in range(2))]
    wards += [WardFactory(parent=other_province) for _ in range(2)]
    for n, ward in enumerate(wards):
        _households(ward, f"A{n}")
    # Written in bulk, past the services that keep the tallies (the numbered pages' count).
    tallies_refresh(ward_ids=[ward.pk for ward in wards])
    with connection.cursor() as cursor:
        for table in ("registry_entity", "registry_family", "registry_community"):
            cursor.execute(f"ANALYZE {table}")


def _plan(queries) -> str:
    [sql] = [q["sql"] for q in queries if 'FROM "registry_family"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@postgresql_only
def test_province_pages_read_the_list_index_and_count_nothing(client, carol, many):
    client.force_login(carol)
    first = client.get(_url("families"), {"cursor": ""}).json()
    requests = [{"cursor": ""}, {"cursor": parse_qs(urlsplit(first["next"]).query)["cursor"][0]}]
    requests += [{"page": 1}, {"page": 2}, {"ward": WARD_A, "page": 2}]
    for params in requests:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url("families"), params).status_code == 200
        assert not any("COUNT(" in q["sql"] for q in queries.captured_queries), params
        plan = _plan(queries.captured_queries)
        assert "Seq Scan on registry_entity" not in plan, (params, plan)
        assert "Seq Scan on registry_family" not in plan, (params, plan)
        assert "entity_province_kind_ward_sort" in plan or "entity_ward_kind_sort" in plan, plan
        assert client.get(_url("families"), params).json()["results"], params
