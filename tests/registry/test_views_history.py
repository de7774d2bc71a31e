"""A current ward's page shows the communes before 1 July 2025 it was formed from; an old
commune's page shows the current wards it went into."""

import datetime as dt

import pytest
from django.urls import reverse

from registry.models import AdministrativeUnit, UnitSuccession

Level = AdministrativeUnit.Level
ENDED = dt.date(2025, 6, 30)


@pytest.fixture
def hang_bac(ward_a, ward_b):
    """Old Phường Hàng Bạc went wholly into ward A; old Hàng Bông was split between A and B."""
    province = AdministrativeUnit.objects.create(
        level=Level.PROVINCE_BEFORE_2025, code="01", name="Thành phố Hà Nội", valid_to=ENDED
    )
    district = AdministrativeUnit.objects.create(
        level=Level.DISTRICT, code="002", name="Quận Hoàn Kiếm", parent=province, valid_to=ENDED
    )
    old = AdministrativeUnit.objects.create(
        level=Level.WARD_BEFORE_2025,
        code="00061",
        name="Phường Hàng Bạc",
        parent=district,
        valid_to=ENDED,
    )
    split = AdministrativeUnit.objects.create(
        level=Level.WARD_BEFORE_2025,
        code="00070",  # the same code as ward A today
        name="Phường Hàng Bông",
        parent=district,
        valid_to=ENDED,
    )
    UnitSuccession.objects.create(before=old, after=ward_a, whole=True)
    UnitSuccession.objects.create(before=split, after=ward_a, whole=False)
    UnitSuccession.objects.create(before=split, after=ward_b, whole=False)
    return old


def test_a_ward_page_lists_what_it_was_formed_from(client, alice, ward_a, hang_bac):
    client.force_login(alice)
    page = client.get(reverse("ward_overview", args=[ward_a.code])).content.decode()
    assert "Formed on 1/7/2025 from" in page
    assert reverse("ward_before_2025", args=["00061"]) in page
    assert "Phường Hàng Bạc" in page and "Phường Hàng Bông" in page and "in part" in page


def test_an_old_commune_page_shows_where_it_went(client, alice, ward_a, ward_b, hang_bac):
    client.force_login(alice)
    page = client.get(reverse("ward_before_2025", args=["00070"])).content.decode()
    assert "Phường Hàng Bông" in page and "Quận Hoàn Kiếm" in page
    assert "On 1/7/2025 it went into" in page
    # Both wards are named; only the one in alice's scope is a link.
    assert reverse("ward_overview", args=[ward_a.code]) in page
    assert ward_b.name in page
    assert reverse("ward_overview", args=[ward_b.code]) not in page
    assert "is refused" in page


def test_an_old_commune_is_404_to_whoever_sees_none_of_its_wards(client, mallory, hang_bac):
    client.force_login(mallory)
    assert client.get(reverse("ward_before_2025", args=["00061"])).status_code == 404
    assert client.get(reverse("ward_before_2025", args=["99999"])).status_code == 404


@pytest.mark.vietnamese
def test_the_history_reads_in_vietnamese(client, alice, ward_a, hang_bac):
    client.force_login(alice)
    page = client.get(reverse("ward_before_2025", args=["00061"])).content.decode()
    assert "Ngày 1/7/2025 đã nhập vào" in page
    assert "toàn bộ" in page
