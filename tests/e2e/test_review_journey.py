"""An official's year-end review in a real browser: evaluate, override, approve, decide, print.

Elements are found by id and name, not by their (translated) labels, so the journey holds in
Vietnamese, the language the browser asks for, whatever the catalogue says.
"""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import make_community, make_family
from tests.titles.factories import registration
from titles.criteria_file import DEFAULTS_DIR
from titles.models import Decision, Override, Registration, State
from titles.services.criteria import criteria_load

FULL_MARKS = {
    "F1a": "1",
    "F1b": "10",
    "F1c": "9",
    "F2a": "có",
    "F2b": "1",
    "F2c": "3",
    "F3a": "1",
    "F3b": "8",
    "F4a": "9",
    "F4b": "1",
}


def log_in(page, live_server, username: str, password: str = "secret-pass-123") -> None:
    """Like the shared `login` helper, but clicks the login form's own button: the page's first
    submit button is the header's language switch."""
    page.goto(f"{live_server.url}{reverse('login')}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("main form [type=submit]").click()
    expect(page.locator("main form input[name=password]")).to_have_count(0)


@pytest.fixture
def ward_a_families(ward_a):
    """The default family set, three households that pass and one that fails only on the
    required criterion F1a (every school-age child attends school)."""
    criteria_load(document=(DEFAULTS_DIR / "vn-family-448.json").read_text(encoding="utf-8"))
    year = timezone.localdate().year
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
    passing = [
        registration(
            make_family(ward_a, code=f"HGD{i}", head_name=name, community=area).entity,
            year=year,
            evidence=FULL_MARKS,
        )
        for i, name in enumerate(names)
    ]
    failing = registration(
        make_family(ward_a, code="HGD9", head_name="Phạm Thị Dung", community=area).entity,
        year=year,
        evidence={**FULL_MARKS, "F1a": "0"},
    )
    return passing, failing


@pytest.mark.django_db(transaction=True)
def test_official_reviews_decides_and_prints(page, live_server, bob, ward_a_families):
    passing, failing = ward_a_families
    reason = "Cháu đã đi học lại từ tháng 9, có xác nhận của nhà trường"
    number = "15/QĐ-UBND"

    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}{reverse('review_queue')}")
    expect(page.locator("#count-registered .count")).to_have_text("4")

    page.click("#evaluate-now")
    expect(page.locator("#count-evaluated .count")).to_have_text("4")
    expect(page.locator("#approve-all")).to_be_enabled()

    page.click("text=Phạm Thị Dung")
    expect(page.locator("h1")).to_have_text("Phạm Thị Dung")
    expect(page.locator("#registration-state")).to_have_attribute("data-state", "evaluated")
    expect(page.locator("#approve-button")).to_have_count(0)

    page.click("#override-toggle")
    page.select_option("#override_criterion", "F1a")
    page.check("#override_met_0")
    page.fill("#override_reason", reason)
    page.locator("#override-form button[type=submit]").click()
    expect(page.locator("#criterion-F1a .override-reason")).to_have_text(reason)
    expect(page.locator("#overrides")).to_contain_text(reason)
    expect(page.locator("#overrides")).to_contain_text("bob")

    page.click("#approve-button")
    expect(page.locator("#registration-state")).to_have_attribute("data-state", "approved")

    page.click("#back-to-queue")
    page.click("#approve-all")
    expect(page.locator("#count-approved .count")).to_have_text("4")

    page.click("#new-decision")
    expect(page.locator("#approved input[name=registrations]:checked")).to_have_count(4)
    page.fill("#id_number", number)
    page.fill("#id_date", timezone.localdate().isoformat())
    page.click("#issue-decision")
    expect(page.locator("#decision-number")).to_have_text(number)
    expect(page.locator("#recognised tbody tr")).to_have_count(4)

    page.locator("#recognised tr", has_text="Phạm Thị Dung").locator(".certificate-link").click()
    expect(page.locator("#certificate-name")).to_have_text("Phạm Thị Dung")
    expect(page.locator("#certificate-title")).to_contain_text("GIA ĐÌNH HỌC TẬP")
    expect(page.locator("#certificate-title")).to_contain_text("Tiêu biểu")
    expect(page.locator("#certificate-decision")).to_contain_text(number)
    expect(page.locator(".certificate-title")).to_have_text("GIẤY CHỨNG NHẬN")
    expect(page).to_have_url(re.compile(r"/titles/registrations/\d+/certificate/$"))

    decision = Decision.objects.get()
    assert decision.number == number
    states = set(Registration.objects.values_list("state", flat=True))
    assert states == {State.RECOGNIZED}
    override = Override.objects.get()
    assert (override.registration_id, override.criterion, override.met) == (
        failing.pk,
        "F1a",
        True,
    )
    assert override.reason == reason and override.user == bob
