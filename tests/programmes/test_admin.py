"""Django admin for the support programmes: scoped like the pages, read-only. A province
administrator sees their province's programmes and records; another province's are 404; the
children's names stay on the programme's pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programmes.models import Beneficiary, Contribution, Delivery, Programme
from registry.models import Role
from tests.factories import UserFactory, make_unit, make_user
from tests.programmes.factories import (
    make_beneficiary,
    make_contribution,
    make_delivery,
    make_programme,
)


@pytest.fixture
def programmes(province, other_province, ward_a, ward_x):
    made = {}
    for key, prov, ward in (("a", province, ward_a), ("x", other_province, ward_x)):
        school = make_unit(ward, code=f"MN-{key}", name=f"Trường Mầm non {key}")
        programme = make_programme(prov, code=f"CT-{key.upper()}")
        made[key] = {
            "programme": programme,
            "contribution": make_contribution(programme, ref=f"PT-{key}"),
            "beneficiary": make_beneficiary(programme, school, code=f"TRE-{key}"),
            "delivery": make_delivery(programme, school, ref=f"PX-{key}"),
        }
    return made


@pytest.fixture
def province_admin(province):
    user = make_user("pat", Role.ADMIN, province)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


MODELS = ("programme", "contribution", "beneficiary", "delivery")


def test_province_admin_sees_their_province_only(client, province_admin, programmes):
    client.force_login(province_admin)
    for model in MODELS:
        response = client.get(f"/admin/programmes/{model}/")
        assert response.status_code == 200
        assert {row.pk for row in response.context["cl"].result_list} == {
            programmes["a"][model].pk
        }, model
        outside = programmes["x"][model].pk
        assert client.get(f"/admin/programmes/{model}/{outside}/change/").status_code == 404
        own = programmes["a"][model].pk
        assert client.get(f"/admin/programmes/{model}/{own}/change/").status_code == 200


def test_superuser_sees_both_provinces_and_nothing_changes(client, db, programmes):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    for model in MODELS:
        response = client.get(f"/admin/programmes/{model}/")
        assert len(response.context["cl"].result_list) == 2, model
        assert client.get(f"/admin/programmes/{model}/add/").status_code == 403
        pk = programmes["a"][model].pk
        assert client.post(f"/admin/programmes/{model}/{pk}/change/", {}).status_code == 403
        delete = client.post(f"/admin/programmes/{model}/{pk}/delete/", {"post": "yes"})
        assert delete.status_code == 403
    counts = [m.objects.count() for m in (Programme, Contribution, Beneficiary, Delivery)]
    assert counts == [2, 2, 2, 2]


def test_a_childs_name_is_not_shown(client, province_admin, programmes):
    client.force_login(province_admin)
    child = programmes["a"]["beneficiary"]
    pages = [
        client.get("/admin/programmes/beneficiary/").content.decode(),
        client.get(f"/admin/programmes/beneficiary/{child.pk}/change/").content.decode(),
    ]
    assert all(child.full_name not in page for page in pages)
    assert child.code in pages[0]


def test_the_delivery_list_reads_a_fixed_number_of_rows(client, province_admin, programmes, ward_a):
    client.force_login(province_admin)
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/programmes/delivery/")
    programme = programmes["a"]["programme"]
    school = make_unit(ward_a, code="MN-2", name="Trường Mầm non Hai")
    for i in range(8):
        make_delivery(programme, school, ref=f"PX-M{i}")
    with CaptureQueriesContext(connection) as many:
        client.get("/admin/programmes/delivery/")
    assert len(many) == len(few)


def test_staff_and_viewers_are_not_let_in(client, alice, carol, programmes):
    for user in (alice, carol):
        client.force_login(user)
        response = client.get("/admin/programmes/programme/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
