"""Loose ends found by trying to break the app: NUL characters anywhere in an address, a page
number that is not one, a decision dated outside its year, caching of private answers, the
browsable roll-ups API and the 500 page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.factories import make_family
from tests.titles.factories import registration
from titles.models import Registration, State
from titles.review_forms import DecisionForm

_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)|<(?:\w+:)?\w+>")


def _routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every URL pattern as a path, each argument (converter or regex group) written `{}`."""
    routes = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += _routes(entry, route)
        elif isinstance(entry, URLPattern):
            routes.append(route)
    cleaned = []
    for route in routes:
        route = _GROUP.sub("{}", route).replace("^", "").replace("$", "").replace("\\", "")
        cleaned.append("/" + route.replace("/?", "/").lstrip("/"))
    return sorted(set(cleaned))


@pytest.fixture
def clients(dave, alice):
    anonymous, admin, staff = Client(), Client(), Client()
    admin.force_login(dave)
    staff.force_login(alice)
    return {"anonymous": anonymous, "admin": admin, "staff": staff}


def test_a_nul_in_any_path_or_parameter_is_a_400(clients):
    routes = _routes()
    assert len(routes) > 60  # the walk found the whole configuration (pages, API, admin)
    failures = []
    for route in routes:
        for who, client in clients.items():
            in_path = route.replace("{}", "1%00x") if "{}" in route else route + "%00"
            in_query = route.replace("{}", "1") + "?q=%00&year=2025%00&page=1"
            for url in (in_path, in_query):
                status = client.get(url).status_code
                if status not in (400, 404):
                    failures.append(f"GET {url} as {who}: {status}")
            status = client.post(in_query, {"name": "a\x00b"}).status_code
            if status >= 500:
                failures.append(f"POST {in_query} as {who}: {status}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "٣", "", "1e3"])
def test_a_malformed_page_number_is_a_400_naming_it(client, carol, ward_a, value):
    client.force_login(carol)
    api = client.get("/api/v1/families/", {"page": value})
    assert api.status_code == 400
    assert list(api.json()) == ["page"]
    page = client.get(reverse("entity_list", args=["families"]), {"page": value})
    assert page.status_code == 400
    assert "The parameter “page” must be a whole number, 1 or more." in page.content.decode()


def test_good_page_numbers_still_work(client, carol, ward_a):
    client.force_login(carol)
    assert client.get("/api/v1/families/", {"page": "1"}).status_code == 200
    assert client.get(reverse("entity_list", args=["families"]), {"page": "2"}).status_code == 200
    assert (
        client.get(reverse("entity_list", args=["families"]), {"page": "last"}).status_code == 200
    )


def test_private_answers_are_not_cached(client, carol, ward_a):
    # A public answer may be cached: the API's schema, read anonymously.
    assert "no-store" not in client.get("/api/schema/").get("Cache-Control", "")
    client.force_login(carol)
    for url in ("/", reverse("entity_list", args=["families"]), "/api/v1/families/"):
        cache = client.get(url)["Cache-Control"]
        assert "private" in cache and "no-store" in cache, url


def test_token_answers_are_not_cached(client, carol, ward_a):
    from knox.models import AuthToken

    _token, key = AuthToken.objects.create(user=carol)
    response = client.get("/api/v1/families/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_token_endpoint_reads_json_only(client, alice):
    form = client.post("/api/v1/token/", {"username": "alice", "password": "wrong"})
    assert form.status_code == 415
    from axes.models import AccessAttempt

    assert not AccessAttempt.objects.exists()  # another site's form spends no failed login


def test_the_browsable_roll_ups_api_answers(client, carol, ward_a):
    client.force_login(carol)
    response = client.get("/api/v1/rollups/", {"year": 2025}, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "results" in response.content.decode()  # the rows, shown as JSON in the page


def _decision_form(year: int, date: dt.date, approved) -> DecisionForm:
    data = {"number": "12/QĐ-UBND", "date": date.isoformat(), "registrations": [approved.pk]}
    return DecisionForm(data, approved=Registration.objects.all(), year=year)


def test_a_decision_is_dated_in_its_year_and_not_in_the_future(ward_a):
    approved = registration(make_family(ward_a, code="HGD1").entity, state=State.APPROVED)
    today = timezone.localdate()
    last_year = today.year - 1
    assert _decision_form(last_year, dt.date(last_year, 12, 15), approved).is_valid()
    early = _decision_form(last_year, dt.date(last_year - 1, 12, 31), approved)
    late = _decision_form(last_year, dt.date(today.year, 1, 2), approved)
    for form in (early, late):
        assert not form.is_valid()
        assert form.errors["date"] == [
            f"The decision's date must be in {last_year}, the year of the registrations."
        ]
    tomorrow = today + dt.timedelta(days=1)
    if tomorrow.year == today.year:
        future = _decision_form(today.year, tomorrow, approved)
        assert not future.is_valid()
        assert future.errors["date"] == ["The decision's date cannot be in the future."]
    assert _decision_form(today.year, today, approved).is_valid()


@pytest.mark.vietnamese
def test_the_500_page_is_styled_vietnamese_and_quotes_the_request_id(rf):
    from ops.views import server_error

    request = rf.get("/")
    request.id = "req-42"
    response = server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="vi">' in page and "Xin lỗi, đã có lỗi ở máy chủ" in page
    assert "req-42" in page and "app" in page and ".css" in page
