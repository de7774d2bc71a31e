"""The registrations and roll-ups APIs' numbered pages: the registrations' count from the
roll-ups (the number a COUNT finds), the roll-ups' rows built a page at a time."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import Kind
from tests.factories import make_clan, make_community, make_family
from titles import selectors
from titles.models import Registration, State
from titles.services.registrations import registration_create, registrations_register_area
from titles.services.rollups import rollups_refresh

REGISTRATIONS = "/api/v1/registrations/"
ROLLUPS = "/api/v1/rollups/"
WARD_A, WARD_B, WARD_X = "00070", "00004", "04825"


@pytest.fixture
def registered(dave, ward_a, ward_b, ward_x):
    """Registrations written through the titles' services (which keep the roll-ups)."""
    for n, ward in enumerate((ward_a, ward_b, ward_x)):
        area = make_community(ward, code=f"TDP-{n}")
        for i in range(2 + n):
            make_family(ward, code=f"HGD{n}-{i}", community=area)
        registrations_register_area(user=dave, community=area, year=2025)
        clan = make_clan(ward, code=f"DH{n}")
        registration_create(user=dave, entity=clan.entity, year=2024)
        registration_create(user=dave, entity=clan.entity, year=2025)
        registration_create(user=dave, entity=area.entity, year=2025)


@pytest.mark.parametrize("username", ["alice", "carol", "dave", "nobody"])
def test_numbered_pages_count_exactly_what_a_count_finds(client, request, registered, username):
    user = request.getfixturevalue(username)
    client.force_login(user)
    for params in (
        {},
        {"year": 2025},
        {"year": 2024},
        {"kind": Kind.FAMILY},
        {"year": 2025, "kind": Kind.CLAN},
        {"ward": WARD_A},
        {"ward": WARD_B, "year": 2025},
        {"ward": "99999"},
        {"status": State.REGISTERED},
        {"status": State.RECOGNIZED},
        {"status": State.SUBMITTED, "ward": WARD_A},
    ):
        real = selectors.registration_list(
            user=user,
            year=params.get("year"),
            kind=params.get("kind"),
            state=params.get("status"),
        )
        if "ward" in params:
            real = real.filter(ward__code=params["ward"])
        body = client.get(REGISTRATIONS, params).json()
        assert body["count"] == real.count(), params
    assert Registration.objects.count() > 10


def test_the_count_comes_from_the_roll_ups_without_a_state(client, carol, registered):
    client.force_login(carol)
    for params in ({"year": 2025}, {"ward": WARD_A}, {"status": State.RECOGNIZED}):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(REGISTRATIONS, params).status_code == 200
        sql = [q["sql"] for q in queries.captured_queries]
        assert not any("COUNT(" in s and "titles_registration" in s for s in sql), params
        assert any("titles_rollup" in s for s in sql), params


def test_rollup_pages_are_slices_of_the_rows(client, carol, registered, ward_a, ward_b):
    rollups_refresh(ward_ids=[ward_a.pk, ward_b.pk], entities=True)
    client.force_login(carol)
    rows = selectors.rollup_rows(user=carol, year=2025, level="community")
    assert len(rows) > 3
    seen = []
    page = 1
    while True:
        body = client.get(
            ROLLUPS, {"year": 2025, "level": "community", "page_size": 2, "page": page}
        ).json()
        assert body["count"] == len(rows)
        seen += body["results"]
        if body["next"] is None:
            break
        page += 1
    assert [(r["unit_code"], r["kind"]) for r in seen] == [
        (r["unit_code"], r["kind"]) for r in rows
    ]
    assert [r["entities"] for r in seen] == [r["entities"] for r in rows]
    assert [r["registered"] for r in seen] == [r["registered"] for r in rows]


def test_rollup_page_query_count_does_not_grow(client, carol, ward_a, ward_b, dave):
    """A page of a province's residential areas reads the wards it spans (here one), however
    many areas the province has."""

    def add(ward, n):
        area = make_community(ward, code=f"A{n}")
        make_family(ward, code=f"F{n}", community=area)
        registrations_register_area(user=dave, community=area, year=2025)

    add(ward_a, 0)
    add(ward_b, 0)
    client.force_login(carol)
    params = {"year": 2025, "level": "community", "page": 1, "page_size": 2}
    with CaptureQueriesContext(connection) as few:
        assert client.get(ROLLUPS, params).json()["count"] == 4
    for n in range(1, 6):
        add(ward_a, n)
        add(ward_b, n)
    with CaptureQueriesContext(connection) as many:
        assert client.get(ROLLUPS, {**params, "page": 2}).json()["count"] == 24
    assert len(many) == len(few)


@pytest.mark.parametrize(
    "params",
    [{}, {"year": 2025}, {"kind": Kind.FAMILY}, {"ward": WARD_B}, {"status": State.SUBMITTED}],
)
@pytest.mark.parametrize("page_size", [1, 2, 3, 5])
def test_numbered_pages_are_slices_of_the_list_in_its_order(
    client, carol, registered, params, page_size
):
    """The pages read ward-year by ward-year (from the roll-ups' counts) give exactly the rows
    the list's order puts on them."""
    client.force_login(carol)
    real = selectors.registration_list(
        user=carol, year=params.get("year"), kind=params.get("kind"), state=params.get("status")
    )
    if "ward" in params:
        real = real.filter(ward__code=params["ward"])
    want = list(real.values_list("pk", flat=True))
    got, page = [], 1
    while True:
        response = client.get(REGISTRATIONS, {**params, "page_size": page_size, "page": page})
        assert response.status_code == 200
        got += [row["id"] for row in response.json()["results"]]
        if response.json()["next"] is None:
            break
        page += 1
    assert got == want


@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
@pytest.mark.parametrize("params", [{}, {"year": 2025}, {"year": 2024, "ward": WARD_B}])
def test_numbered_pages_read_the_ward_index_not_the_province(
    client, carol, ward_a, ward_b, province, params
):
    from tests.factories import WardFactory
    from tests.titles.test_api_cursor import _bulk

    wards = [ward_a, ward_b, *(WardFactory(parent=province) for _ in range(6))]
    for n, ward in enumerate(wards):
        _bulk(ward, 1000, f"W{n}-")
    rollups_refresh(ward_ids=[w.pk for w in wards])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE titles_registration")
        cursor.execute("ANALYZE registry_entity")
    client.force_login(carol)
    for page in (1, 2):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(REGISTRATIONS, {**params, "page": page}).json()
        assert len(body["results"]) == 100
        sql = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].startswith('SELECT "titles_registration"."id"')
        ]
        assert len(sql) == 1
        assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql[0])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        # The page's ward-years through a registration index; the entities it joins for
        # their names may be hashed whole while there are only a few thousand of them.
        assert "Seq Scan on titles_registration" not in plan, plan
        assert "Index Scan on reg_" in plan or "Index Scan using reg_" in plan, plan
