"""The programmes' pages: the public page, who records what, what each role reads."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEntry
from programmes.models import Contribution, Delivery, ProgrammeOrganiser
from registry.models import Role
from tests.factories import make_unit, make_user
from tests.programmes.factories import (
    make_beneficiary,
    make_contribution,
    make_delivery,
    make_programme,
)

CHILDREN = [("TRE-001", "Lò Thị Mai", 2020), ("TRE-002", "Cầm Văn Khánh", 2019)]


@pytest.fixture
def school(ward_a):
    return make_unit(ward_a, code="MN1", name="Trường Mầm non Hoa Sen")


@pytest.fixture
def programme(province, school):
    p = make_programme(province, code="BUA-TRUA")
    make_contribution(
        p, ref="PT1", amount_vnd=5_000_000, donor="Công ty Sữa Mộc Châu", donor_public=True
    )
    make_contribution(
        p, ref="PT2", amount_vnd=1_000_000, donor="Ông Nguyễn Văn Kín", donor_public=False
    )
    make_contribution(p, ref="HV1", amount_vnd=0, item="Máy tính bảng", quantity=7, donor="Ẩn danh")
    children = [
        make_beneficiary(p, school, code=code, full_name=name, birth_year=year)
        for code, name, year in CHILDREN
    ]
    make_delivery(p, school, ref="PX1", days=40, amount_vnd=272_000)
    make_delivery(
        p,
        school,
        ref="PX2",
        days=1,
        amount_vnd=6_800,
        beneficiary=children[0],
        date=dt.date(2025, 10, 3),
    )
    return p


def test_public_page_shows_the_totals_and_no_personal_data(client, programme):
    response = client.get(f"/programmes/{programme.code}/public/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "6,000,000" in body  # raised
    assert "278,800" in body  # spent: 272,000 + 6,800
    assert "5,721,200" in body  # balance
    assert "Công ty Sữa Mộc Châu" in body
    assert "Ông Nguyễn Văn Kín" not in body  # did not agree to be named
    assert "Trường Mầm non Hoa Sen" in body and "09/2025" in body
    assert "Máy tính bảng" in body
    for code, name, year in CHILDREN:
        assert code not in body
        assert name not in body
        assert str(year) not in body
    assert '<meta property="og:title" content="Chương trình BUA-TRUA">' in body
    assert 'property="og:description"' in body


def test_public_page_of_an_unknown_programme_is_404(client, db):
    assert client.get("/programmes/NOPE/public/").status_code == 404


def test_organiser_records_a_donation_and_a_delivery(client, province, ward_a, programme, school):
    admin = make_user("padmin", Role.ADMIN, province)
    organiser = make_user("organiser", Role.VIEWER, province)
    client.force_login(organiser)
    new_contribution = f"/programmes/p/{programme.code}/contributions/new/"
    assert client.get(new_contribution).status_code == 403
    client.force_login(admin)
    response = client.post(f"/programmes/p/{programme.code}/organisers/", {"username": "organiser"})
    assert response.status_code == 302
    assert ProgrammeOrganiser.objects.filter(user=organiser, programme=programme).exists()

    client.force_login(organiser)
    response = client.post(
        new_contribution,
        {
            "ref": "PT9",
            "date": "2025-10-01",
            "donor": "Hội Phụ nữ",
            "amount_vnd": "300000",
            "item": "",
            "quantity": "0",
            "donor_public": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Contribution.objects.get(ref="PT9").amount_vnd == 300_000
    response = client.post(
        f"/programmes/p/{programme.code}/deliveries/new/",
        {
            "ref": "PX9",
            "date": "2025-10-02",
            "school": school.pk,
            "kind": "meals",
            "beneficiary_code": "TRE-002",
            "days": "1",
            "item": "",
            "quantity": "0",
            "amount_vnd": "6800",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    delivery = Delivery.objects.get(ref="PX9")
    assert delivery.beneficiary.code == "TRE-002" and delivery.ward == ward_a
    assert AuditEntry.objects.filter(object_repr__contains="PX9").exists()
    # A refused form changes nothing and says why.
    response = client.post(
        f"/programmes/p/{programme.code}/deliveries/new/",
        {
            "ref": "PX10",
            "date": "2025-10-02",
            "school": school.pk,
            "kind": "meals",
            "days": "",
            "amount_vnd": "6800",
            "quantity": "0",
        },
    )
    assert response.status_code == 200
    assert not Delivery.objects.filter(ref="PX10").exists()


def test_viewers_never_see_childrens_data(client, carol, programme):
    client.force_login(carol)
    assert client.get("/programmes/beneficiaries/").status_code == 403
    page = client.get(f"/programmes/p/{programme.code}/").content.decode()
    deliveries = client.get("/programmes/deliveries/").content.decode()
    api = client.get("/api/v1/beneficiaries/").json()
    assert api["results"] == []
    for code, name, _year in CHILDREN:
        assert name not in page and code not in page
        assert code not in deliveries


def test_staff_read_their_wards_children(client, alice, eve, programme):
    client.force_login(alice)
    body = client.get("/programmes/beneficiaries/").content.decode()
    assert "Lò Thị Mai" in body and "TRE-001" in body
    assert client.get("/api/v1/beneficiaries/").json()["count"] == 2
    client.force_login(eve)  # staff of the next ward
    body = client.get("/programmes/beneficiaries/").content.decode()
    assert "Lò Thị Mai" not in body
    assert client.get("/api/v1/beneficiaries/").json()["count"] == 0


def test_outsiders_get_404(client, mallory, programme):
    client.force_login(mallory)
    for url in (
        f"/programmes/p/{programme.code}/",
        f"/programmes/p/{programme.code}/edit/",
        f"/programmes/p/{programme.code}/deliveries/new/",
        f"/api/v1/programmes/{programme.code}/",
        f"/api/v1/programmes/{programme.code}/statement/",
    ):
        assert client.get(url).status_code == 404, url


def test_api_statement(client, alice, programme):
    client.force_login(alice)
    data = client.get(f"/api/v1/programmes/{programme.code}/statement/").json()
    assert data["raised_vnd"] == 6_000_000
    assert data["spent_vnd"] == 278_800
    assert data["meal_days"] == 41
    assert data["cost_per_meal_day_vnd"] == 6800
    listed = client.get("/api/v1/programmes/").json()
    assert [p["code"] for p in listed["results"]] == ["BUA-TRUA"]


def test_programme_list_detail_and_dashboard(client, carol, programme):
    client.force_login(carol)
    assert "BUA-TRUA" in client.get("/programmes/").content.decode()
    detail = client.get(f"/programmes/p/{programme.code}/").content.decode()
    assert "6,000,000" in detail
    dashboard = client.get("/programmes/dashboard/").content.decode()
    assert "Chương trình BUA-TRUA" in dashboard and "278,800" in dashboard
    ward = client.get(f"/programmes/p/{programme.code}/wards/00070/").content.decode()
    assert "Trường Mầm non Hoa Sen" in ward


@pytest.mark.parametrize(
    "url",
    [
        "/programmes/",
        "/programmes/contributions/",
        "/programmes/beneficiaries/",
        "/programmes/deliveries/",
    ],
)
def test_lists_run_the_same_queries_whatever_their_length(client, alice, programme, school, url):
    """No query per row: a list of a few rows and one of many cost the same."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(alice)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(10):
        make_contribution(programme, ref=f"X{n}")
        make_beneficiary(programme, school, code=f"X{n}", full_name=f"Cháu {n}")
        make_delivery(programme, school, ref=f"X{n}")
        make_programme(programme.province, code=f"CT-X{n}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_an_administrator_removes_an_organiser(client, province, programme):
    admin = make_user("padmin", Role.ADMIN, province)
    organiser = make_user("organiser", Role.VIEWER, province)
    link = ProgrammeOrganiser.objects.create(programme=programme, province=province, user=organiser)
    client.force_login(organiser)  # an organiser does not manage the organisers
    url = f"/programmes/p/{programme.code}/organisers/"
    assert client.post(url, {"remove": link.pk}).status_code == 403
    client.force_login(admin)
    assert client.post(url, {"remove": link.pk}).status_code == 302
    assert not ProgrammeOrganiser.objects.exists()
    # An account without a role in the province cannot be linked.
    client.post(url, {"username": "nobody-here"})
    assert not ProgrammeOrganiser.objects.exists()
