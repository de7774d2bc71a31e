"""Support programmes in a real browser, switched to Vietnamese with the header's switch.

(a) An organiser (a province viewer whom the province's administrator linked to the programme)
    records a donation and a delivery on a desktop screen (1366 px).
(b) A member of the public opens the programme's public page on a phone (390 px): the totals
    are there, nothing overflows sideways, no child's name or code appears.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from programmes.models import Contribution, Delivery, ProgrammeOrganiser
from registry.models import Role
from tests.e2e.conftest import login, switch_language
from tests.factories import make_unit, make_user
from tests.programmes.factories import (
    make_beneficiary,
    make_contribution,
    make_delivery,
    make_programme,
)

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def setting(province, ward_a):
    school = make_unit(ward_a, code="MN1", name="Trường Mầm non Hoa Sen")
    programme = make_programme(province, code="BUA-TRUA")
    make_contribution(
        programme, ref="PT1", amount_vnd=5_000_000, donor="Quỹ Bảo trợ", donor_public=True
    )
    child = make_beneficiary(programme, school, code="TRE-001", full_name="Lò Thị Mai")
    make_delivery(programme, school, ref="PX1", days=40, amount_vnd=272_000, beneficiary=child)
    return programme, school


def test_an_organiser_records_a_donation_and_a_delivery(
    browser, live_server, setting, province, vietnamese
):
    programme, school = setting
    organiser = make_user("phutrach", Role.VIEWER, province)
    organiser.set_password("secret-pass-123")
    organiser.save()
    ProgrammeOrganiser.objects.create(programme=programme, province=province, user=organiser)
    page = vietnamese.page
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "phutrach")
    page.goto(f"{live_server.url}/programmes/p/{programme.code}/")
    vietnamese.check()

    page.locator(f"a[href='/programmes/p/{programme.code}/contributions/new/']").click()
    page.fill("input[name=ref]", "PT-99")
    page.fill("input[name=date]", "2025-10-01")
    page.fill("input[name=donor]", "Hội Phụ nữ phường")
    page.fill("input[name=amount_vnd]", "300000")
    page.check("input[name=donor_public]")
    vietnamese.data.update({"PT-99", "Hội Phụ nữ phường"})
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_url(lambda url: "/programmes/contributions/" in url)
    vietnamese.check()
    assert Contribution.objects.get(ref="PT-99").amount_vnd == 300_000

    page.goto(f"{live_server.url}/programmes/p/{programme.code}/")
    page.locator(f"a[href='/programmes/p/{programme.code}/deliveries/new/']").click()
    page.fill("input[name=ref]", "PX-99")
    page.fill("input[name=date]", "2025-10-02")
    page.select_option("select[name=school]", str(school.pk))
    page.select_option("select[name=kind]", "meals")
    page.fill("input[name=days]", "20")
    page.fill("input[name=amount_vnd]", "136000")
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_url(lambda url: "/programmes/deliveries/" in url)
    vietnamese.check()
    delivery = Delivery.objects.get(ref="PX-99")
    assert (delivery.days, delivery.amount_vnd, delivery.school_id) == (20, 136_000, school.pk)
    page.goto(f"{live_server.url}/programmes/p/{programme.code}/")
    # 272,000 + 136,000 spent; 5,300,000 raised: the statement moved at once.
    expect(page.locator("#main")).to_contain_text("408.000")
    expect(page.locator("#main")).to_contain_text("5.300.000")
    vietnamese.check()


def test_the_public_page_on_a_phone(page, live_server, setting, vietnamese):
    programme, _school = setting
    page.goto(f"{live_server.url}/programmes/{programme.code}/public/")
    switch_language(page, "vi")
    main = page.locator("#main")
    expect(main).to_contain_text("5.000.000")
    expect(main).to_contain_text("272.000")
    expect(main).to_contain_text("Quỹ Bảo trợ")
    text = main.inner_text()
    assert "Lò Thị Mai" not in text and "TRE-001" not in text
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    vietnamese.check()
