"""An official's year-end review in a real browser: log in, evaluate, override a criterion with a
reason, approve the batch, issue a decision, print a certificate. Evaluating, approving the batch
and issuing the decision each go through their confirmation (read at 390 px and 1366 px), run
as a job whose page says what it did, and come back to the queue as it was filtered.

The official switches the site to Vietnamese with the header's switch; every page is read for
untranslated English (`vietnamese` fixture). Elements are found by id and name, not by their
(translated) labels.
"""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import go_to_menu_item, login
from tests.factories import make_community, make_family
from tests.titles.factories import registration
from titles.models import Decision, Override, Registration, State
from titles.rules.criteria_file import DEFAULTS_DIR
from titles.services.criteria import criteria_load
from titles.views import review as review_views

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
def test_official_reviews_decides_and_prints(
    page, vietnamese, live_server, bob, ward_a, ward_a_families
):
    passing, failing = ward_a_families
    reason = "Cháu đã đi học lại từ tháng 9, có xác nhận của nhà trường"
    number = "15/QĐ-UBND"
    vietnamese.data |= {ward_a.name, "bob", reason, number, "Tổ dân phố Một"}
    vietnamese.data |= {"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"}

    login(page, live_server, "bob")
    vietnamese.check()
    go_to_menu_item(page, "/titles/review/")
    expect(page.locator("#count-registered .count")).to_have_text("4")
    vietnamese.check()

    # Evaluate now: the confirmation counts the four ready households, then the queue again.
    page.click("#evaluate-now")
    expect(page.locator("#confirm-counts tbody th")).to_have_text(["Gia đình học tập"])
    expect(page.locator("#confirm-counts tbody td")).to_have_text(["4"])
    vietnamese.check()
    page.click("#confirm-button")
    # It runs as a job: its page says what it did and leads back to the queue.
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator(".job .notice").first).to_contain_text("4")
    vietnamese.check()
    page.click("#job-back")
    expect(page.locator("#count-evaluated .count")).to_have_text("4")
    expect(page.locator("#approve-all")).to_be_enabled()
    vietnamese.check()

    page.click("text=Phạm Thị Dung")
    expect(page.locator("h1")).to_have_text("Phạm Thị Dung")
    expect(page.locator("#registration-state")).to_have_attribute("data-state", "evaluated")
    expect(page.locator("#approve-button")).to_have_count(0)
    vietnamese.check()

    page.click("#override-toggle")
    page.select_option("#override_criterion", "F1a")
    page.check("#override_met_0")
    page.fill("#override_reason", reason)
    vietnamese.check()
    page.locator("#override-form button[type=submit]").click()
    expect(page.locator("#criterion-F1a .override-reason")).to_have_text(reason)
    expect(page.locator("#overrides")).to_contain_text(reason)
    expect(page.locator("#overrides")).to_contain_text("bob")
    vietnamese.check()

    page.click("#approve-button")
    expect(page.locator("#registration-state")).to_have_attribute("data-state", "approved")
    vietnamese.check()

    page.click("#back-to-queue")
    # Narrowed to families, the queue sends its filters through the confirmation and back.
    page.select_option("#id_kind", "family")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"kind=family"))
    filtered = page.url
    page.click("#approve-all")
    page.wait_for_url(re.compile(r"/titles/review/approve-passed/\?"))
    expect(page.locator("#confirm-counts tbody td")).to_have_text(["3"])  # one is approved
    for width in (390, 1366):  # a phone, then a desktop: the page fits, its button is in view
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        expect(page.locator("#confirm-button")).to_be_in_viewport()
        expect(page.locator("#confirm-cancel")).to_be_visible()
    vietnamese.check()
    page.click("#confirm-button")
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("#job-bar")).to_have_attribute("value", "100")
    vietnamese.check()
    page.click("#job-back")
    page.wait_for_url(lambda url: url == filtered)
    expect(page.locator("#count-approved .count")).to_have_text("4")
    expect(page.locator("#id_kind")).to_have_value("family")
    page.set_viewport_size({"width": 390, "height": 844})
    vietnamese.check()

    page.click("#new-decision")
    expect(page.locator("#approved input[name=registrations]:checked")).to_have_count(4)
    page.fill("#id_number", number)
    page.fill("#id_date", timezone.localdate().isoformat())
    vietnamese.check()
    page.click("#issue-decision")
    # The decision's confirmation lists the four households it will recognise.
    expect(page.locator("#confirm-rows tbody tr")).to_have_count(4)
    expect(page.locator("#confirmation")).to_contain_text(number)
    vietnamese.check()
    page.click("#confirm-button")
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator(".job .notice")).to_contain_text(number)
    vietnamese.check()
    page.click("#job-back")
    page.wait_for_url(lambda url: url == filtered)
    page.locator("#decisions a", has_text=number).click()
    expect(page.locator("#decision-number")).to_have_text(number)
    expect(page.locator("#recognised tbody tr")).to_have_count(4)
    vietnamese.check()

    page.locator("#recognised tr", has_text="Phạm Thị Dung").locator(".certificate-link").click()
    expect(page.locator(".certificate-name")).to_have_text("Gia đình ông/bà Phạm Thị Dung")
    expect(page.locator(".certificate-honour")).to_contain_text("GIA ĐÌNH HỌC TẬP")
    expect(page.locator(".certificate-honour")).to_contain_text("Tiêu biểu")
    expect(page.locator(".certificate-decision")).to_contain_text(number)
    expect(page.locator(".letterhead-number")).to_have_text(re.compile(r"^Số: \d+/GCN-KH$"))
    expect(page.locator(".certificate-title")).to_have_text("GIẤY CHỨNG NHẬN")
    expect(page).to_have_url(re.compile(r"/titles/registrations/\d+/certificate/$"))
    vietnamese.check()

    # Printed, the certificate is alone on one landscape A4 sheet: no header, no help.
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator("main .no-print").first).to_be_hidden()
    expect(page.locator(".certificate-name")).to_be_visible()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    width, height = map(float, re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups())
    assert width > height  # landscape
    page.emulate_media(media="screen")

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

    assert set(vietnamese.read_paths) >= {
        reverse("login"),
        reverse("home"),
        reverse("review_queue"),
        reverse("registration_detail", args=[failing.pk]),
        reverse("decision_create"),
        reverse("ward_evaluate"),
        reverse("review_approve_passed"),
        reverse("decision_detail", args=[decision.pk]),
        reverse("certificate", args=[failing.pk]),
    }


@pytest.mark.django_db(transaction=True)
def test_a_decision_for_more_than_can_be_ticked_on_a_phone(
    page, vietnamese, live_server, bob, ward_a, monkeypatch
):
    """Past the form's list (two here), a decision counts the approved registrations by title
    and takes them all but the codes left out, typed as a tired official would."""
    monkeypatch.setattr(review_views, "DECISION_LISTED_UP_TO", 2)
    year = timezone.localdate().year
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"]
    approved = [
        registration(
            make_family(ward_a, code=f"HGD{i}", head_name=name).entity,
            year=year,
            state=State.APPROVED,
            passed=True,
        )
        for i, name in enumerate(names)
    ]
    number = "16/QĐ-UBND"
    vietnamese.data |= {ward_a.name, "bob", number, *names}
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "bob")
    page.goto(f"{live_server.url}{reverse('decision_create')}?ward={ward_a.code}&year={year}")
    expect(page.locator("#approved-counts tbody td").first).to_have_text("4")
    expect(page.locator("input[name=registrations]")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    vietnamese.check()
    page.fill("#id_number", number)
    page.fill("#id_date", timezone.localdate().isoformat())
    page.fill("#id_leave_out", " hgd3, ")
    page.click("#issue-decision")
    expect(page.locator("#confirm-counts tbody td").first).to_have_text("3")
    expect(page.locator("#confirm-rows")).to_have_count(0)
    expect(page.locator(".confirm-note").last).to_contain_text("Phạm Thị Dung (HGD3)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    vietnamese.check()
    page.click("#confirm-button")
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator(".job .notice")).to_contain_text(number)
    vietnamese.check()
    states = {r.entity.code: Registration.objects.get(pk=r.pk).state for r in approved}
    assert states == {
        "HGD0": State.RECOGNIZED,
        "HGD1": State.RECOGNIZED,
        "HGD2": State.RECOGNIZED,
        "HGD3": State.APPROVED,
    }
