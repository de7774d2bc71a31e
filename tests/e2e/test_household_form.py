"""A new household on a 390 px phone: its residential area is chosen by typing part of the name
without accents, from suggestions that fit the screen."""

from django.urls import reverse
from playwright.sync_api import expect

from registry.models import Family
from tests.e2e.conftest import login
from tests.factories import make_clan, make_community

OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"


def test_staff_creates_a_household_choosing_the_area_by_typing(
    page, live_server, vietnamese, alice, ward_a
):
    make_community(ward_a, code="TDP01", name="Tổ dân phố số 1 khu tập thể Nghĩa Tân")
    wanted = make_community(ward_a, code="TDP02", name="Tổ dân phố số 2 làng Nghĩa Đô cổ")
    make_community(ward_a, code="TDP03", name="Tổ dân phố Mai Dịch")
    make_clan(ward_a, code="DH01", name="Dòng họ Nguyễn Đình làng Nghĩa Đô")
    vietnamese.data.update({"Nguyễn Văn Thử", "HGD-E2E"})
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}{reverse('entity_create', args=['families'])}")
    page.fill("input[name=code]", "HGD-E2E")
    page.fill("input[name=head_name]", "Nguyễn Văn Thử")
    page.fill("input[name=members]", "4")

    area = page.locator("input[name=community]")
    area.press_sequentially("nghia do", delay=30)
    options = page.locator("#id_community_suggestions [role=option]")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Tổ dân phố số 2 làng Nghĩa Đô cổ")
    # The list fits the phone's screen: nothing sticks out sideways.
    box = page.locator("#id_community_suggestions").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate(OVERFLOW_JS) <= 0
    vietnamese.check()

    options.first.click()
    expect(area).to_have_value("TDP02")
    expect(page.locator("#id_community_chosen")).to_have_text("Tổ dân phố số 2 làng Nghĩa Đô cổ")
    expect(page.locator("#id_community_suggestions")).to_be_hidden()

    # The clan with the keyboard: type, arrow down, Enter.
    clan = page.locator("input[name=clan]")
    clan.press_sequentially("nguyen dinh", delay=30)
    expect(page.locator("#id_clan_suggestions [role=option]")).to_have_count(1)
    clan.press("ArrowDown")
    clan.press("Enter")
    expect(clan).to_have_value("DH01")

    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_url(lambda url: "/new/" not in url)
    family = Family.objects.select_related("community__entity", "clan__entity").get(
        entity__code="HGD-E2E"
    )
    assert family.community == wanted
    assert family.clan.entity.code == "DH01"
    expect(page.locator("h1")).to_contain_text("Nguyễn Văn Thử")
    vietnamese.check()
