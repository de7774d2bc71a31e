"""The household's own page: its registrations and titles by year (from the titles, through the
registry's page hook), the way to this year's registration, and adding a citizen to it."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import Citizen
from tests.factories import make_community, make_family
from tests.titles.factories import registration
from titles.forms import current_year
from titles.models import State

YEAR = current_year()


@pytest.fixture
def household(ward_a):
    area = make_community(ward_a, code="TDP3", name="Tổ dân phố 3")
    return make_family(ward_a, code="HGD5", head_name="Nguyễn Thị Hoa", community=area)


@pytest.fixture
def history(household):
    """Recognised two years ago (outstanding), not recognised last year, registered this year."""
    return {
        YEAR - 2: registration(
            household.entity, year=YEAR - 2, state=State.RECOGNIZED, outstanding=True
        ),
        YEAR - 1: registration(household.entity, year=YEAR - 1, state=State.REJECTED),
        YEAR: registration(household.entity, year=YEAR),
    }


def _page(client, household) -> str:
    response = client.get(reverse("entity_detail", args=["families", household.pk]))
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_page_shows_every_year_and_leads_to_this_years_registration(
    client, alice, household, history
):
    client.force_login(alice)
    html = _page(client, household)
    for year, reg in history.items():
        assert f'<a href="{reverse("registration_detail", args=[reg.pk])}">{year}</a>' in html
    assert html.index(f">{YEAR}</a>") < html.index(f">{YEAR - 2}</a>")  # newest first
    decision = history[YEAR - 2].decision
    assert f"Recognised, outstanding · decision {decision.number} of 01/12/{YEAR - 2}" in html
    assert "Rejected: không đạt" in html
    current = reverse("registration_detail", args=[history[YEAR].pk])
    assert f'id="current-registration" href="{current}"' in html
    # Registered already: no offer to register it again.
    assert reverse("registration_create") not in html


def test_without_this_years_registration_staff_are_offered_to_register(
    client, alice, carol, household
):
    registration(household.entity, year=YEAR - 1, state=State.SUBMITTED)
    client.force_login(alice)
    html = _page(client, household)
    assert f"{reverse('registration_create')}?entity={household.pk}&amp;year={YEAR}" in html
    assert 'id="current-registration"' not in html
    client.force_login(carol)  # a viewer: sees the years, is offered nothing
    html = _page(client, household)
    assert f">{YEAR - 1}</a>" in html
    assert reverse("registration_create") not in html


def test_a_household_never_registered_says_so(client, alice, household):
    client.force_login(alice)
    assert "Not registered for any year yet." in _page(client, household)


def test_staff_add_a_citizen_to_the_household(client, alice, household):
    client.force_login(alice)
    html = _page(client, household)
    add = re.search(r'id="add-citizen" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    form = client.get(add)
    assert form.status_code == 200
    assert form.context["form"]["family"].value() == "HGD5"  # filled in
    response = client.post(
        add,
        {"code": "CD77", "full_name": "Nguyễn Văn Minh", "birth_year": "2010", "family": "HGD5"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("entity_detail", args=["families", household.pk])
    citizen = Citizen.objects.get(entity__code="CD77")
    assert citizen.family == household and citizen.entity.ward == household.entity.ward
    assert "Nguyễn Văn Minh" in _page(client, household)


def test_a_wrong_household_code_is_refused_in_vietnamese_and_nothing_is_saved(
    client, alice, household
):
    client.force_login(alice)
    url = f"{reverse('entity_create', args=['citizens'])}?ward=00070&family=HGD5"
    response = client.post(
        url, {"code": "CD78", "full_name": "Lê Thị Na", "birth_year": "2001", "family": "NOPE"}
    )
    assert response.status_code == 200
    assert "There is no household with code NOPE" in response.content.decode()
    assert not Citizen.objects.filter(entity__code="CD78").exists()


def test_only_staff_may_add_citizens_and_outsiders_see_nothing(
    client, carol, eve, household, history
):
    client.force_login(carol)
    assert 'id="add-citizen"' not in _page(client, household)
    client.force_login(eve)  # staff of another ward
    assert client.get(reverse("entity_detail", args=["families", household.pk])).status_code == 404
    add = f"{reverse('entity_create', args=['citizens'])}?ward=00070&family=HGD5"
    assert client.get(add).status_code == 404
    posted = client.post(
        add, {"code": "CD79", "full_name": "Lê Thị Na", "birth_year": "2001", "family": "HGD5"}
    )
    assert posted.status_code == 404
    assert not Citizen.objects.filter(entity__code="CD79").exists()


def test_more_years_cost_no_more_queries(client, alice, household, history):
    """The years' registrations and their decisions come in one query, however many years."""
    client.force_login(alice)
    url = reverse("entity_detail", args=["families", household.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as three_years:
        client.get(url)
    registration(household.entity, year=YEAR - 3, state=State.RECOGNIZED)
    with CaptureQueriesContext(connection) as four_years:
        client.get(url)
    assert len(four_years.captured_queries) == len(three_years.captured_queries)
