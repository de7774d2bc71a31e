"""An official prints every certificate of a decision at once, in a real browser, at 390 px and
1366 px: from the decision's page to one page with one certificate per recognised registration,
each numbered ("Số: N/GCN-KH") and naming who holds the title as the paper does; the Print
button (run by a script file, as the Content Security Policy requires) opens the print dialog;
printed, each certificate is one A4 landscape sheet.

Screenshots of each width are kept in tests/e2e/artifacts/ (decision-list-<width>.png,
print-certificates-<width>[-full|-print].png).
"""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import make_citizen, make_clan, make_community, make_family
from tests.titles.factories import registration
from titles.models import Certificate, State
from titles.services import review

YEAR = timezone.localdate().year
HOLDERS = {
    "Nguyễn Văn An": "Gia đình ông/bà Nguyễn Văn An",
    "Trần Thị Bình": "Gia đình ông/bà Trần Thị Bình",
    "Lê Thị Cúc": "Ông/Bà Lê Thị Cúc",
    "Họ Phạm Đình": "Dòng họ Phạm Đình",
}


@pytest.fixture
def decision(bob, ward_a):
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")
    families = [
        make_family(ward_a, code=f"HGD{i}", head_name=name, community=area)
        for i, name in enumerate(["Nguyễn Văn An", "Trần Thị Bình"])
    ]
    citizen = make_citizen(ward_a, code="CD1", full_name="Lê Thị Cúc", family=families[0])
    clan = make_clan(ward_a, code="DH1", name="Họ Phạm Đình")
    entities = [*(f.entity for f in families), citizen.entity, clan.entity]
    approved = [
        registration(e, year=YEAR, state=State.APPROVED, passed=True, points=90) for e in entities
    ]
    # One more approved registration that the decision leaves out: it gets no certificate.
    left_out = make_family(ward_a, code="HGD9", head_name="Đỗ Văn Chờ", community=area)
    registration(left_out.entity, year=YEAR, state=State.APPROVED, passed=True, points=80)
    return review.decision_issue(
        user=bob,
        ward=ward_a,
        year=YEAR,
        number="15/QĐ-UBND",
        date=datetime.date(YEAR, 12, 7),
        registrations=approved,
    )


@pytest.mark.parametrize("width", [390, 1366])
def test_official_prints_every_certificate_of_a_decision(
    page, live_server, vietnamese, bob, decision, width
):
    page.set_viewport_size({"width": width, "height": 900})
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    login(page, live_server, "bob")
    vietnamese.data.update(HOLDERS)
    vietnamese.data.update(HOLDERS.values())
    page.goto(f"{live_server.url}/titles/decisions/{decision.pk}/")
    # The decision's list carries the letterhead and the certificate numbers too.
    expect(page.locator(".letterhead")).to_contain_text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    expect(page.locator(".letterhead")).to_contain_text(f"Hoàn Kiếm, ngày 07 tháng 12 năm {YEAR}")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"decision-list-{width}.png"), full_page=True)
    vietnamese.check()

    page.locator("#print-certificates").click()
    expect(page).to_have_url(re.compile(rf"/titles/decisions/{decision.pk}/certificates/$"))
    certificates = page.locator("article.certificate")
    expect(certificates).to_have_count(4)
    numbers = dict(
        Certificate.objects.filter(registration__decision=decision).values_list(
            "registration__entity__name", "number"
        )
    )
    assert sorted(numbers.values()) == [1, 2, 3, 4]
    for name, holder in HOLDERS.items():
        sheet = certificates.filter(has_text=holder)
        expect(sheet).to_have_count(1)
        expect(sheet.locator(".certificate-name")).to_be_visible()
        expect(sheet.locator(".certificate-name")).to_have_text(holder)
        number = sheet.locator(".letterhead-number")
        expect(number).to_be_visible()
        expect(number).to_have_text(f"Số: {numbers[name]}/GCN-KH")
        expect(sheet.locator(".certificate-decision")).to_contain_text("15/QĐ-UBND")
    expect(certificates.filter(has_text="Đỗ Văn Chờ")).to_have_count(0)
    # The page fits the screen: nothing scrolls sideways.
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, overflow
    page.screenshot(path=str(ARTIFACTS / f"print-certificates-{width}.png"), full_page=False)
    page.screenshot(path=str(ARTIFACTS / f"print-certificates-{width}-full.png"), full_page=True)

    # The Print button appears once its script has run, and opens the print dialog.
    button = page.locator("button[data-print]")
    expect(button).to_be_visible()
    page.evaluate("() => { window.print = () => { window.__printed = true; }; }")
    button.click()
    assert page.evaluate("() => window.__printed === true")
    assert refused == []
    vietnamese.check()

    # The named page the certificates print on: A4 landscape.
    sizes = page.evaluate(
        """() => [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules])
              .filter((rule) => rule instanceof CSSPageRule && rule.selectorText === "certificate")
              .map((rule) => rule.style.getPropertyValue("size"))"""
    )
    assert [size.lower() for size in sizes] == ["a4 landscape"]

    # Printed: one landscape sheet per certificate, nothing else on paper.
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(button).to_be_hidden()
    expect(certificates.first.locator(".certificate-name")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"print-certificates-{width}-print.png"), full_page=True)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 4
    for width_pt, height_pt in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf):
        assert float(width_pt) > float(height_pt)  # landscape
    page.emulate_media(media="screen")

    # A reprint shows the same numbers.
    page.reload()
    for name, holder in HOLDERS.items():
        expect(certificates.filter(has_text=holder).locator(".letterhead-number")).to_have_text(
            f"Số: {numbers[name]}/GCN-KH"
        )
    assert Certificate.objects.count() == 4


def test_the_certificates_file_prints_offline_one_landscape_sheet_each(
    page, live_server, bob, decision, settings
):
    """A decision too large for one page: the official prepares the file (a job), downloads
    it, and the file alone — every request from it refused — prints one A4 landscape sheet per
    certificate, numbered as the decision numbered them."""
    settings.CERTIFICATES_PAGE_MAX = 2
    login(page, live_server, "bob")
    page.goto(f"{live_server.url}/titles/decisions/{decision.pk}/certificates/")
    expect(page.locator("article.certificate")).to_have_count(0)
    page.locator("#certificates-file button").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    with page.expect_download() as download_info:
        page.locator("#job-download").click()
    html = Path(download_info.value.path()).read_text(encoding="utf-8")

    offline = page.context.new_page()
    fetched = []
    offline.route("**/*", lambda route: (fetched.append(route.request.url), route.abort()))
    offline.set_content(html)
    certificates = offline.locator("article.certificate")
    expect(certificates).to_have_count(4)
    numbers = sorted(
        Certificate.objects.filter(registration__decision=decision).values_list("number", flat=True)
    )
    texts = [certificates.nth(i).locator(".letterhead-number").inner_text() for i in range(4)]
    assert texts == [f"Số: {n}/GCN-KH" for n in numbers]
    offline.emulate_media(media="print")
    pdf = offline.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 4
    for width_pt, height_pt in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf):
        assert float(width_pt) > float(height_pt)  # landscape
    assert fetched == []
    offline.close()
