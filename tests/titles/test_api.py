"""The titles API: registrations (list, detail, filters) and roll-up rows, scoped like the pages."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from tests.factories import make_clan, make_family
from tests.titles.factories import registration
from titles.models import State, Target
from titles.services.rollups import rollups_refresh

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
REGISTRATIONS = "/api/v1/registrations/"
ROLLUPS = "/api/v1/rollups/"


@pytest.fixture
def registrations(ward_a, ward_b, ward_x) -> dict:
    """In each ward: a family registered in 2024 and recognised (outstanding) in 2025, a clan
    registered in 2025. Returns {ward code: {"family_2024", "family_2025", "clan_2025"}}."""
    rows = {}
    for ward in (ward_a, ward_b, ward_x):
        family = make_family(ward, code="HGD1", head_name=f"Hộ {ward.code}")
        clan = make_clan(ward, code="DH1", name=f"Dòng họ {ward.code}")
        rows[ward.code] = {
            "family_2024": registration(family.entity, year=2024),
            "family_2025": registration(
                family.entity,
                year=2025,
                state=State.RECOGNIZED,
                outstanding=True,
                points=Decimal("96.5"),
                passed=True,
            ),
            "clan_2025": registration(clan.entity, year=2025),
        }
    # The factory writes rows directly; the services would keep the roll-ups (which give the
    # numbered pages their count) in the same transaction.
    rollups_refresh(ward_ids=[ward_a.pk, ward_b.pk, ward_x.pk])
    return rows


def _ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


# --- registrations ------------------------------------------------------------------------------


@pytest.mark.parametrize("username", list(SEES))
def test_registrations_are_scoped(client, request, registrations, username):
    client.force_login(request.getfixturevalue(username))
    response = client.get(REGISTRATIONS)
    assert response.status_code == 200
    body = response.json()
    assert {row["ward"] for row in body["results"]} == SEES[username]
    assert body["count"] == 3 * len(SEES[username])
    for ward_code, rows in registrations.items():
        for reg in rows.values():
            detail = client.get(f"{REGISTRATIONS}{reg.pk}/")
            assert detail.status_code == (200 if ward_code in SEES[username] else 404)


def test_registration_fields(client, bob, registrations):
    client.force_login(bob)
    reg = registrations[WARD_A]["family_2025"]
    assert client.get(f"{REGISTRATIONS}{reg.pk}/").json() == {
        "id": reg.pk,
        "entity": reg.entity_id,
        "kind": "family",
        "ward": WARD_A,
        "code": "HGD1",
        "name": f"Hộ {WARD_A}",
        "year": 2025,
        "state": "recognized",
        "outstanding": True,
        "points": 96.5,
        "passed": True,
        "decision_number": "QD-2025",
        "decision_date": "2025-12-01",
    }
    pending = client.get(f"{REGISTRATIONS}{registrations[WARD_A]['clan_2025'].pk}/").json()
    assert pending["points"] is None
    assert pending["passed"] is None
    assert pending["decision_number"] is None
    assert pending["decision_date"] is None


def test_registration_filters(client, carol, registrations):
    client.force_login(carol)
    a, b = registrations[WARD_A], registrations[WARD_B]

    def ids(**params):
        return _ids(client.get(REGISTRATIONS, params))

    assert ids(year=2024) == {a["family_2024"].pk, b["family_2024"].pk}
    assert ids(year=2025, kind="clan") == {a["clan_2025"].pk, b["clan_2025"].pk}
    assert ids(status="recognized") == {a["family_2025"].pk, b["family_2025"].pk}
    assert ids(ward=WARD_B, year=2025, kind="family") == {b["family_2025"].pk}
    assert ids(year=2023) == set()
    # Empty values are no filter.
    assert len(ids(year="", kind="", status="", ward="")) == 6


def test_registration_ward_outside_the_scope_is_an_empty_list(client, carol, alice, registrations):
    client.force_login(carol)
    assert client.get(REGISTRATIONS, {"ward": WARD_X}).json()["count"] == 0
    assert client.get(REGISTRATIONS, {"ward": "99999"}).json()["count"] == 0
    client.force_login(alice)
    assert client.get(REGISTRATIONS, {"ward": WARD_B}).json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "abc"}, "year"),
        ({"year": "1800"}, "year"),
        ({"year": "99999"}, "year"),
        ({"kind": "household"}, "kind"),
        ({"status": "won"}, "status"),
        ({"ward": "0" * 11}, "ward"),
    ],
)
def test_registration_bad_params_are_400_with_a_message(client, dave, params, field):
    client.force_login(dave)
    response = client.get(REGISTRATIONS, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field][0]


def test_registrations_auth(client, alice, registrations):
    reg = registrations[WARD_A]["clan_2025"]
    assert client.get(REGISTRATIONS).status_code == 401
    assert client.get(f"{REGISTRATIONS}{reg.pk}/").status_code == 401
    _token, key = AuthToken.objects.create(user=alice)
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert client.get(REGISTRATIONS, **auth).json()["count"] == 3
    assert client.get(f"{REGISTRATIONS}{reg.pk}/", **auth).status_code == 200
    other = registrations[WARD_B]["clan_2025"]
    assert client.get(f"{REGISTRATIONS}{other.pk}/", **auth).status_code == 404
    assert client.get(f"{REGISTRATIONS}abc/", **auth).status_code == 404


def test_registrations_pagination(client, dave, registrations):
    client.force_login(dave)
    first = client.get(REGISTRATIONS, {"page_size": 4}).json()
    assert first["count"] == 9
    assert len(first["results"]) == 4
    third = client.get(REGISTRATIONS, {"page_size": 4, "page": 3}).json()
    assert len(third["results"]) == 1
    assert third["next"] is None
    # Newest year first.
    assert [row["year"] for row in first["results"]] == [2025, 2025, 2025, 2025]


def test_registration_list_query_count_does_not_grow(client, carol, ward_a, ward_b):
    def add(ward, n):
        family = make_family(ward, code=f"HGD-{n}")
        registration(family.entity, year=2025, state=State.RECOGNIZED, points=Decimal(90))

    add(ward_a, 0)
    rollups_refresh(ward_ids=[ward_a.pk])
    client.force_login(carol)
    with CaptureQueriesContext(connection) as few:
        assert client.get(REGISTRATIONS).json()["count"] == 1
    for n in range(1, 6):
        add(ward_a, n)
        add(ward_b, n)
    rollups_refresh(ward_ids=[ward_a.pk, ward_b.pk])
    with CaptureQueriesContext(connection) as many:
        assert client.get(REGISTRATIONS).json()["count"] == 11
    assert len(many) == len(few)


def test_registration_list_query_count_is_small(
    client, dave, registrations, django_assert_max_num_queries
):
    _token, key = AuthToken.objects.create(user=dave)
    # Token and user, the user's tokens (knox drops expired ones), grant, the ward roll-ups
    # and their wards' codes (the count, and the ward-years a page spans), rows (plus the
    # request's savepoint pair); the ward filter's wards besides.
    with django_assert_max_num_queries(8):
        client.get(REGISTRATIONS, {"year": 2025}, HTTP_AUTHORIZATION=f"Token {key}")
    with django_assert_max_num_queries(9):
        client.get(REGISTRATIONS, {"year": 2025, "ward": WARD_A}, HTTP_AUTHORIZATION=f"Token {key}")


# --- roll-ups -----------------------------------------------------------------------------------

ROLLUP_COLUMNS = [
    "unit_code",
    "unit_name",
    "year",
    "kind",
    "entities",
    "registered",
    "recognized",
    "outstanding",
    "rate",
    "registered_rate",
    "target_min",
    "target_max",
    "status",
]


@pytest.fixture
def rollups(registrations, ward_a, ward_b, ward_x, province):
    """The summaries of the registrations fixture, and a 2025 family target for the province."""
    rollups_refresh(ward_ids=[ward_a.pk, ward_b.pk, ward_x.pk], entities=True)
    Target.objects.create(
        unit=province, kind="family", year=2025, min_rate=Decimal(70), max_rate=Decimal(80)
    )
    return registrations


@pytest.mark.parametrize("username", list(SEES))
def test_rollups_are_scoped(client, request, rollups, username):
    client.force_login(request.getfixturevalue(username))
    response = client.get(ROLLUPS, {"year": 2025})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["unit_code"] for row in rows} == SEES[username]
    assert all(list(row) == ROLLUP_COLUMNS for row in rows)


def test_rollup_row_values(client, alice, rollups):
    client.force_login(alice)
    rows = client.get(ROLLUPS, {"year": 2025, "kind": "family"}).json()["results"]
    assert rows == [
        {
            "unit_code": WARD_A,
            "unit_name": "Phường Hoàn Kiếm",
            "year": 2025,
            "kind": "family",
            "entities": 1,
            "registered": 1,
            "recognized": 1,
            "outstanding": 1,
            "rate": 100.0,
            "registered_rate": 100.0,
            "target_min": 70.0,
            "target_max": 80.0,
            "status": "above",
        }
    ]
    clan = client.get(ROLLUPS, {"year": 2025, "kind": "clan"}).json()["results"][0]
    assert (clan["registered"], clan["recognized"], clan["rate"]) == (1, 0, 0.0)
    assert clan["target_min"] is None
    assert clan["status"] == "no_target"


def test_rollup_levels_and_unit(client, carol, dave, alice, rollups):
    client.force_login(carol)
    provinces = client.get(ROLLUPS, {"year": 2025, "level": "province", "kind": "family"})
    assert [
        (r["unit_code"], r["entities"], r["recognized"]) for r in provinces.json()["results"]
    ] == [("01", 2, 2)]
    wards = client.get(ROLLUPS, {"year": 2025, "unit": WARD_B}).json()["results"]
    assert {row["unit_code"] for row in wards} == {WARD_B}
    # A unit outside the scope is absent: an empty list.
    assert client.get(ROLLUPS, {"year": 2025, "unit": "17"}).json()["count"] == 0
    assert client.get(ROLLUPS, {"year": 2025, "unit": WARD_X}).json()["count"] == 0
    client.force_login(alice)
    assert client.get(ROLLUPS, {"year": 2025, "level": "province"}).json()["count"] == 0
    client.force_login(dave)
    every = client.get(ROLLUPS, {"year": 2025, "level": "province"}).json()["results"]
    assert {row["unit_code"] for row in every} == {"01", "17"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "year"),
        ({"year": ""}, "year"),
        ({"year": "2025x"}, "year"),
        ({"year": 2025, "level": "country"}, "level"),
        ({"year": 2025, "kind": "household"}, "kind"),
        ({"year": 2025, "unit": "0" * 11}, "unit"),
    ],
)
def test_rollup_bad_params_are_400_with_a_message(client, carol, params, field):
    client.force_login(carol)
    response = client.get(ROLLUPS, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_rollups_auth_and_pagination(client, carol, rollups):
    assert client.get(ROLLUPS, {"year": 2025}).status_code == 401
    _token, key = AuthToken.objects.create(user=carol)
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    body = client.get(ROLLUPS, {"year": 2025, "page_size": 4}, **auth).json()
    assert body["count"] == 6  # wards A and B × family, clan and residential area
    assert len(body["results"]) == 4
    rest = client.get(body["next"], **auth).json()
    assert len(rest["results"]) == 2
    assert rest["next"] is None


def test_rollup_query_count_does_not_grow(client, carol, rollups, ward_a, ward_b):
    client.force_login(carol)
    with CaptureQueriesContext(connection) as few:
        client.get(ROLLUPS, {"year": 2025, "level": "community"})
    for n in range(5):
        for ward in (ward_a, ward_b):
            family = make_family(ward, code=f"HGD-{n}")
            registration(family.entity, year=2025)
    rollups_refresh(ward_ids=[ward_a.pk, ward_b.pk], entities=True)
    with CaptureQueriesContext(connection) as many:
        response = client.get(ROLLUPS, {"year": 2025, "level": "community"})
    assert response.json()["count"] > 2
    assert len(many) == len(few)
