"""Django admin for the titles: scoped like the pages; only registration windows are editable.

A province administrator sees their province's registrations, events, overrides and decisions
and may open windows for their province only; criteria sets are read-only (loaded from files).
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import Role
from tests.factories import UserFactory, make_family, make_user
from tests.titles.factories import FAMILY_DOC, load, registration
from titles.models import (
    CriteriaSet,
    Override,
    Registration,
    RegistrationEvent,
    RegistrationWindow,
    State,
)

REGISTRATIONS = "/admin/titles/registration/"
WINDOWS = "/admin/titles/registrationwindow/"


@pytest.fixture
def regs(ward_a, ward_b, ward_x, bob):
    made = {}
    for key, ward in (("a", ward_a), ("b", ward_b), ("x", ward_x)):
        family = make_family(ward, code=f"HGD-{key.upper()}", head_name=f"Hộ {key}")
        reg = registration(family.entity, year=2025, state=State.EVALUATED)
        RegistrationEvent.objects.create(
            registration=reg, action=RegistrationEvent.Action.REGISTER, to_state="registered"
        )
        Override.objects.create(
            registration=reg, criterion="F1", met=True, reason="lý do", user=bob
        )
        made[key] = reg
    registration(made["a"].entity, year=2024, state=State.RECOGNIZED)
    return made


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def province_admin(province):
    user = make_user("pat", Role.ADMIN, province)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _codes(client, url=REGISTRATIONS, **params) -> set[str]:
    response = client.get(url, params)
    assert response.status_code == 200
    rows = response.context["cl"].result_list
    return {getattr(row, "registration", row).entity.code for row in rows}


def test_superuser_sees_every_registration(client, superuser, regs):
    client.force_login(superuser)
    assert _codes(client) == {"HGD-A", "HGD-B", "HGD-X"}


def test_province_admin_sees_their_province_only(client, province_admin, regs):
    client.force_login(province_admin)
    assert _codes(client) == {"HGD-A", "HGD-B"}
    assert _codes(client, "/admin/titles/registrationevent/") == {"HGD-A", "HGD-B"}
    assert _codes(client, "/admin/titles/override/") == {"HGD-A", "HGD-B"}
    assert client.get(f"{REGISTRATIONS}{regs['x'].pk}/change/").status_code == 404
    assert client.get(f"{REGISTRATIONS}{regs['a'].pk}/change/").status_code == 200
    decisions = client.get("/admin/titles/decision/")
    assert [d.ward.code for d in decisions.context["cl"].result_list] == ["00070"]


def test_ward_staff_let_into_the_admin_sees_only_their_ward(client, alice, regs):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client.force_login(alice)
    # Without model permissions a staff user does not see the titles at all…
    assert client.get(REGISTRATIONS).status_code == 403
    # …and with them, only their ward.
    alice.user_permissions.add(Permission.objects.get(codename="view_registration"))
    client.force_login(alice)
    assert _codes(client) == {"HGD-A"}


def test_registrations_and_history_are_read_only(client, superuser, regs):
    client.force_login(superuser)
    for model in ("registration", "registrationevent", "override", "decision", "criteriaset"):
        assert client.get(f"/admin/titles/{model}/add/").status_code == 403
    response = client.post(
        f"{REGISTRATIONS}{regs['a'].pk}/change/", {"state": State.APPROVED, "year": 2030}
    )
    assert response.status_code == 403
    assert client.post(f"{REGISTRATIONS}{regs['a'].pk}/delete/", {"post": "yes"}).status_code == 403
    regs["a"].refresh_from_db()
    assert regs["a"].state == State.EVALUATED and regs["a"].year == 2025


def test_search_is_diacritics_insensitive(client, superuser, regs):
    client.force_login(superuser)
    assert _codes(client, q="ho a") == {"HGD-A"}


def test_registration_list_query_count_does_not_grow(client, superuser, regs, ward_a):
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as few:
        client.get(REGISTRATIONS)
    for i in range(20):
        registration(make_family(ward_a, code=f"M{i}").entity, year=2025)
    with CaptureQueriesContext(connection) as many:
        client.get(REGISTRATIONS)
    assert len(many) == len(few)


def test_criteria_sets_are_read_only_and_scoped(client, province_admin, other_province):
    national = load(FAMILY_DOC)
    foreign = load({**FAMILY_DOC, "code": "PT-FAM", "province": other_province.code})
    client.force_login(province_admin)
    response = client.get("/admin/titles/criteriaset/")
    assert {s.code for s in response.context["cl"].result_list} == {national.code}
    assert client.get(f"/admin/titles/criteriaset/{national.pk}/change/").status_code == 200
    assert client.get(f"/admin/titles/criteriaset/{foreign.pk}/change/").status_code == 404
    assert client.post(f"/admin/titles/criteriaset/{national.pk}/change/", {}).status_code == 403
    assert CriteriaSet.objects.get(pk=national.pk).digest == national.digest


def _window_data(province, year=2026, opens="2026-01-01", closes="2026-03-31"):
    return {"province": province.pk, "year": year, "opens_on": opens, "closes_on": closes}


def test_province_admin_opens_a_window_for_their_province_only(
    client, province_admin, province, other_province
):
    client.force_login(province_admin)
    form = client.get(f"{WINDOWS}add/").context["adminform"].form
    assert list(form.fields["province"].queryset) == [province]

    response = client.post(f"{WINDOWS}add/", _window_data(province))
    assert response.status_code == 302
    window = RegistrationWindow.objects.get()
    assert (window.province, window.opens_on) == (province, datetime.date(2026, 1, 1))

    refused = client.post(f"{WINDOWS}add/", _window_data(other_province, year=2027))
    assert refused.status_code == 200 and "province" in refused.context["adminform"].form.errors
    assert RegistrationWindow.objects.count() == 1

    foreign = RegistrationWindow.objects.create(
        province=other_province,
        year=2026,
        opens_on=datetime.date(2026, 1, 1),
        closes_on=datetime.date(2026, 2, 1),
    )
    assert {w.pk for w in client.get(WINDOWS).context["cl"].result_list} == {window.pk}
    assert client.get(f"{WINDOWS}{foreign.pk}/change/").status_code == 404


def test_window_checks_are_shown_not_500(client, province_admin, province):
    client.force_login(province_admin)
    backwards = client.post(
        f"{WINDOWS}add/", _window_data(province, opens="2026-03-01", closes="2026-01-01")
    )
    assert backwards.status_code == 200 and backwards.context["adminform"].form.errors
    client.post(f"{WINDOWS}add/", _window_data(province))
    twice = client.post(f"{WINDOWS}add/", _window_data(province))
    assert twice.status_code == 200 and twice.context["adminform"].form.errors
    assert RegistrationWindow.objects.count() == 1


def test_global_admin_edits_any_window(client, dave, other_province):
    dave.is_staff = True
    dave.save(update_fields=["is_staff"])
    client.force_login(dave)
    assert client.post(f"{WINDOWS}add/", _window_data(other_province)).status_code == 302
    window = RegistrationWindow.objects.get()
    response = client.post(
        f"{WINDOWS}{window.pk}/change/", _window_data(other_province, closes="2026-04-30")
    )
    assert response.status_code == 302
    window.refresh_from_db()
    assert window.closes_on == datetime.date(2026, 4, 30)


def test_officials_and_viewers_are_not_let_in(client, bob, carol, regs):
    for user in (bob, carol):
        client.force_login(user)
        response = client.get(REGISTRATIONS)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Registration.objects.count() == 4
