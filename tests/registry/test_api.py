"""The registry API: every kind's list and detail, scoped like the pages, for every role."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from tests.factories import make_citizen, make_clan, make_community, make_family, make_unit

KINDS = ["families", "clans", "communities", "units", "citizens"]
WARD_A, WARD_B, WARD_X = "00070", "00004", "04825"

# The wards whose rows each user sees (conftest: who is who).
SEES = {
    "alice": {WARD_A},
    "bob": {WARD_A},
    "carol": {WARD_A, WARD_B},
    "dave": {WARD_A, WARD_B, WARD_X},
    "eve": {WARD_B},
    "mallory": {WARD_X},
    "nobody": set(),
}


def _url(kind: str, pk: int | str | None = None) -> str:
    return f"/api/v1/{kind}/" if pk is None else f"/api/v1/{kind}/{pk}/"


def _populate(ward, suffix: str = "") -> dict:
    area = make_community(ward, code=f"TDP1{suffix}", name=f"Tổ dân phố 1{suffix}")
    clan = make_clan(ward, code=f"DH1{suffix}", name="Dòng họ Nguyễn", head_name="Nguyễn Văn Tộc")
    family = make_family(ward, code=f"HGD1{suffix}", community=area, clan=clan, members=5)
    unit = make_unit(ward, code=f"DV1{suffix}")
    citizen = make_citizen(ward, code=f"CD1{suffix}", family=family, unit=unit)
    return {
        "communities": area,
        "clans": clan,
        "families": family,
        "units": unit,
        "citizens": citizen,
    }


@pytest.fixture
def registry(ward_a, ward_b, ward_x):
    """One entity of every kind in wards A and B (province P) and X (another province)."""
    return {ward.code: _populate(ward) for ward in (ward_a, ward_b, ward_x)}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("username", list(SEES))
def test_lists_and_details_are_scoped(client, request, registry, kind, username):
    user = request.getfixturevalue(username)
    client.force_login(user)
    response = client.get(_url(kind))
    assert response.status_code == 200
    body = response.json()
    assert {row["ward"] for row in body["results"]} == SEES[username]
    assert body["count"] == len(SEES[username])
    for ward_code, rows in registry.items():
        detail = client.get(_url(kind, rows[kind].pk))
        if ward_code in SEES[username]:
            assert detail.status_code == 200
            assert detail.json()["id"] == rows[kind].pk
        else:
            assert detail.status_code == 404


def test_family_fields_name_related_codes(client, alice, registry):
    client.force_login(alice)
    family = registry[WARD_A]["families"]
    assert client.get(_url("families", family.pk)).json() == {
        "id": family.pk,
        "ward": WARD_A,
        "code": "HGD1",
        "head_name": "Nguyễn Văn An",
        "members": 5,
        "community": "TDP1",
        "clan": "DH1",
    }


def test_every_kind_shows_its_contract_columns(client, alice, registry, ward_a):
    client.force_login(alice)
    rows = registry[WARD_A]
    assert client.get(_url("clans", rows["clans"].pk)).json() == {
        "id": rows["clans"].pk,
        "ward": WARD_A,
        "code": "DH1",
        "name": "Dòng họ Nguyễn",
        "head_name": "Nguyễn Văn Tộc",
    }
    assert client.get(_url("communities", rows["communities"].pk)).json() == {
        "id": rows["communities"].pk,
        "ward": WARD_A,
        "code": "TDP1",
        "name": "Tổ dân phố 1",
        "area_type": "to_dan_pho",
    }
    assert client.get(_url("units", rows["units"].pk)).json() == {
        "id": rows["units"].pk,
        "ward": WARD_A,
        "code": "DV1",
        "name": "Trường Tiểu học Thử",
        "unit_type": "school",
        "staff": 30,
    }
    assert client.get(_url("citizens", rows["citizens"].pk)).json() == {
        "id": rows["citizens"].pk,
        "ward": WARD_A,
        "code": "CD1",
        "full_name": "Trần Thị Bình",
        "birth_year": 1985,
        "family": "HGD1",
        "unit": "DV1",
    }
    # Optional links are null, not missing.
    loner = make_citizen(ward_a, code="CD9", full_name="Lê Văn Một")
    assert client.get(_url("citizens", loner.pk)).json()["family"] is None
    lone_family = make_family(ward_a, code="HGD9", community=rows["communities"])
    assert client.get(_url("families", lone_family.pk)).json()["clan"] is None


@pytest.mark.parametrize("kind", KINDS)
def test_ward_filter_by_code(client, carol, registry, kind):
    client.force_login(carol)
    rows = client.get(_url(kind), {"ward": WARD_B}).json()["results"]
    assert [row["id"] for row in rows] == [registry[WARD_B][kind].pk]
    # Outside the scope, or no such ward: absent, so an empty list (not a 404, not an error).
    assert client.get(_url(kind), {"ward": WARD_X}).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    assert client.get(_url(kind), {"ward": "99999"}).json()["count"] == 0
    # An empty value is no filter.
    assert client.get(_url(kind), {"ward": ""}).json()["count"] == 2


def test_ward_filter_for_a_ward_user_never_widens_the_scope(client, alice, registry):
    client.force_login(alice)
    assert client.get(_url("families"), {"ward": WARD_B}).json()["count"] == 0
    assert client.get(_url("families"), {"ward": WARD_A}).json()["count"] == 1


def test_malformed_ward_is_a_400_with_a_message(client, carol, registry):
    client.force_login(carol)
    response = client.get(_url("families"), {"ward": "0" * 11})
    assert response.status_code == 400
    assert "ward" in response.json()


@pytest.mark.parametrize("pk", ["abc", "-1", "1.5", "999999999999999999"])
def test_detail_of_a_bad_or_unknown_id_is_404(client, dave, registry, pk):
    client.force_login(dave)
    assert client.get(_url("families", pk)).status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_anonymous_gets_401(client, registry, kind):
    for url in (_url(kind), _url(kind, registry[WARD_A][kind].pk)):
        response = client.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_api_root_lists_the_endpoints_and_needs_a_login(client, alice):
    assert client.get("/api/v1/").status_code == 401
    client.force_login(alice)
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert set(response.json()) >= {*KINDS, "registrations", "rollups"}
    # The browsable page is the API's own documentation in a browser; its assets are ours.
    html = client.get("/api/v1/families/", HTTP_ACCEPT="text/html")
    assert html.status_code == 200
    assert b"/static/rest_framework/" in html.content


def test_token_authentication(client, alice, registry):
    _token, key = AuthToken.objects.create(user=alice)
    response = client.get(_url("families"), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert {row["ward"] for row in response.json()["results"]} == {WARD_A}
    family_b = registry[WARD_B]["families"]
    response = client.get(_url("families", family_b.pk), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 404
    assert client.get(_url("families"), HTTP_AUTHORIZATION="Token wrong").status_code == 401


def test_token_endpoint_exchanges_a_password_for_a_token(client, alice, registry):
    response = client.post(
        "/api/v1/token/",
        {"username": "alice", "password": "secret-pass-123"},
        content_type="application/json",
    )
    assert response.status_code == 200
    key = response.json()["token"]
    assert AuthToken.objects.get(user=alice).token_key == key[:15]
    assert client.get(_url("units"), HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    wrong = client.post(
        "/api/v1/token/", {"username": "alice", "password": "nope"}, content_type="application/json"
    )
    assert wrong.status_code == 400
    assert not wrong.json().get("token")


def test_token_of_a_user_without_a_grant_sees_nothing(client, nobody, registry):
    _token, key = AuthToken.objects.create(user=nobody)
    response = client.get(_url("citizens"), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_pagination(client, alice, ward_a):
    for n in range(101):
        make_community(ward_a, code=f"T{n:03d}", name=f"Tổ {n:03d}")
    client.force_login(alice)
    first = client.get(_url("communities")).json()
    assert first["count"] == 101
    assert len(first["results"]) == 100
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [row["code"] for row in second["results"]] == ["T100"]
    assert second["next"] is None
    small = client.get(_url("communities"), {"page_size": 7, "page": 2}).json()
    assert [row["code"] for row in small["results"]] == [f"T{n:03d}" for n in range(7, 14)]
    # Asking for more than the maximum (1000) gets the maximum, not an error.
    assert len(client.get(_url("communities"), {"page_size": 5000}).json()["results"]) == 101
    assert client.get(_url("communities"), {"page": 9}).status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_list_query_count_does_not_grow_with_rows(client, carol, ward_a, ward_b, kind):
    _populate(ward_a)
    client.force_login(carol)
    with CaptureQueriesContext(connection) as few:
        assert client.get(_url(kind)).json()["count"] == 1
    for n in range(4):
        _populate(ward_a, suffix=f"-{n}")
        _populate(ward_b, suffix=f"-{n}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(_url(kind)).json()["count"] == 9
    assert len(many) == len(few)


def test_list_query_count_is_small(client, dave, registry, django_assert_max_num_queries):
    _token, key = AuthToken.objects.create(user=dave)
    for kind in KINDS:
        # Token and user, the user's tokens (knox drops expired ones), grant, the ward's ids,
        # count (the tallies'), rows (plus the request's savepoint pair).
        with django_assert_max_num_queries(8):
            client.get(_url(kind), {"ward": WARD_A}, HTTP_AUTHORIZATION=f"Token {key}")
