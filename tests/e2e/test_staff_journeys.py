"""Staff journeys in a real browser (phone-sized, Vietnamese first).

(a) Alice, staff of ward A, registers a residential area's households for the year, enters one
    household's evidence on the generated form, sees it on the registration page and submits.
(b) A household self-assesses from the link alice hands out, in a browser that is not logged
    in; alice sees the values marked self-assessed and confirms them.

Selectors use names, ids and URLs rather than wording, so that translations do not break them;
where wording is checked it is taken from the same catalogue the page uses.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from tests.e2e.conftest import login
from tests.factories import make_community, make_family
from tests.titles.factories import registration
from titles.models import Registration, RegistrationWindow, State
from titles.services.criteria import criteria_load_defaults

# The journeys run in the product's default language and read Vietnamese text.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.vietnamese]

YEAR = timezone.localdate().year


@pytest.fixture
def ward_a_setting(ward_a, province, alice):
    """The default criteria, an open registration window, two residential areas of ward A."""
    criteria_load_defaults()
    today = timezone.localdate()
    RegistrationWindow.objects.create(
        province=province,
        year=YEAR,
        opens_on=today - datetime.timedelta(days=30),
        closes_on=today + datetime.timedelta(days=30),
    )
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")
    make_community(ward_a, code="TDP2", name="Tổ dân phố Hai")
    families = [
        make_family(ward_a, code=f"HGD{i}", head_name=name, community=area)
        for i, name in enumerate(["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"], start=1)
    ]
    return area, families




def _vi(message: str) -> str:
    with translation.override("vi"):
        return gettext(message)


def test_staff_registers_an_area_enters_evidence_and_submits(page, live_server, ward_a_setting):
    area, families = ward_a_setting
    login(page, live_server, "alice")

    page.goto(f"{live_server.url}/titles/registrations/")
    page.locator("a[href^='/titles/registrations/register-area/']").first.click()
    page.select_option("select[name=area]", value=str(area.pk))
    assert page.input_value("input[name=year]") == str(YEAR)
    page.locator("form.stacked button[type=submit]").click()

    # Back on the list, narrowed to the area: its three households are registered.
    page.wait_for_url("**/titles/registrations/?*")
    assert "3" in page.locator(".message.success").inner_text()
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 3
    assert Registration.objects.filter(year=YEAR, state=State.REGISTERED).count() == 3

    # Open Nguyễn Văn An's registration, then its evidence form.
    page.get_by_role("link", name="Nguyễn Văn An").click()
    reg = Registration.objects.get(entity=families[0].entity, year=YEAR)
    page.wait_for_url(f"**/titles/registrations/{reg.pk}/")
    page.locator(f"a[href='/titles/registrations/{reg.pk}/evidence/']").first.click()
    page.select_option("select[name=F1a]", value="yes")
    page.fill("input[name=F2c]", "3")
    page.fill("input[name=F1b]", "8")
    page.locator("form.evidence button[type=submit]").click()

    # The registration page shows what was entered.
    page.wait_for_url(f"**/titles/registrations/{reg.pk}/")
    assert page.locator(".message.success").is_visible()
    assert _vi("Yes") in page.locator("#criterion-F1a").inner_text()
    assert "3" in page.locator("#criterion-F2c").inner_text()
    assert "8" in page.locator("#criterion-F1b").inner_text()
    reg.refresh_from_db()
    assert reg.evidence == {"F1a": "yes", "F1b": "8", "F2c": "3"}

    # Submit it for evaluation.
    page.locator(f"form[action='/titles/registrations/{reg.pk}/submit/'] button").click()
    page.wait_for_selector("#registration-state[data-state=submitted]")
    reg.refresh_from_db()
    assert reg.state == State.SUBMITTED


def test_household_self_assesses_and_staff_confirms(browser, page, live_server, ward_a_setting):
    _, families = ward_a_setting
    reg = registration(families[1].entity, year=YEAR)
    login(page, live_server, "alice")

    # Alice opens the self-assessment link page and reads the link.
    page.goto(f"{live_server.url}/titles/registrations/{reg.pk}/self-link/")
    link = page.input_value("#self-link")
    assert link.startswith(f"{live_server.url}/titles/self/")
    copy = page.locator("button[data-copy-target=self-link]")
    assert copy.is_visible()  # the script has enhanced the page

    # The household, in a browser of its own that has never logged in.
    household = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    try:
        visitor = household.new_page()
        visitor.set_default_timeout(10_000)
        visitor.goto(link)
        assert "Trần Thị Bình" in visitor.content()
        visitor.select_option("select[name=F1a]", value="yes")
        visitor.select_option("select[name=F2a]", value="yes")
        visitor.select_option("select[name=F2b]", value="no")
        visitor.fill("input[name=F2c]", "4")
        visitor.fill("input[name=F3b]", "6")
        visitor.locator("form.evidence button[type=submit]").click()
        visitor.wait_for_url("**?sent=1")
        assert visitor.locator(".message.success h2").is_visible()
        assert visitor.locator("a[href^='/titles/registrations/']").count() == 0
    finally:
        household.close()

    reg.refresh_from_db()
    assert reg.evidence_self_assessed is True
    assert reg.evidence == {"F1a": "yes", "F2a": "yes", "F2b": "no", "F2c": "4", "F3b": "6"}

    # Alice sees the values marked self-assessed and confirms them.
    page.goto(f"{live_server.url}/titles/registrations/{reg.pk}/")
    notice = _vi(
        "The evidence was entered through the self-assessment link and has not been confirmed "
        "by staff yet."
    )
    assert page.locator(".notice", has_text=notice).count() == 1
    assert "4" in page.locator("#criterion-F2c").inner_text()
    assert _vi("No") in page.locator("#criterion-F2b").inner_text()
    page.locator(f"form[action='/titles/registrations/{reg.pk}/confirm/'] button").click()
    page.wait_for_selector(".message.success")
    reg.refresh_from_db()
    assert reg.evidence_self_assessed is False
    assert page.locator(f"form[action='/titles/registrations/{reg.pk}/confirm/']").count() == 0
