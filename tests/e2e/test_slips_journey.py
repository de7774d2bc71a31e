"""Self-assessment slips and the household's page in a real browser, on a phone (390 px) and a
desktop (1366 px), in Vietnamese.

(a) Alice prints the slip sheet of a residential area from the area's page; the printed sheet
    (a PDF of the page as Chromium prints it) holds six slips to an A4 page. A household reads the
    QR code of its slip — decoded from the SVG the browser shows — and fills in its
    self-assessment on a phone of its own; another household types the short code instead.
(b) Alice opens a household's page: its years, this year's registration, and adds a citizen.

Every page is read for untranslated English (`vietnamese` fixture) and checked for sideways
scrolling at both widths.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from registry.models import Citizen
from tests.e2e.conftest import VietnameseReader, login, switch_language
from tests.factories import make_community, make_family
from tests.qr import decode_qr_svg
from tests.titles.factories import registration
from titles.models import Registration, RegistrationWindow, State
from titles.services import registrations as registering
from titles.services.criteria import criteria_load_defaults

pytestmark = pytest.mark.django_db(transaction=True)

YEAR = timezone.localdate().year
WIDTHS = [390, 1366]
OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"
HOUSEHOLDS = [
    ("HGD41", "Nguyễn Văn An"),
    ("HGD42", "Trần Thị Bình"),
    ("HGD43", "Lê Văn Cường"),
    ("HGD44", "Phạm Thị Dung"),
    ("HGD45", "Hoàng Văn Em"),
    ("HGD46", "Vũ Thị Giang"),
    ("HGD47", "Đỗ Văn Hùng"),
    ("HGD48", "Bùi Thị Lan"),  # already holds a working link: no slip
]


@pytest.fixture
def street(ward_a, province, alice):
    """A residential area of eight registered households, one with a working link already."""
    criteria_load_defaults()
    today = timezone.localdate()
    RegistrationWindow.objects.create(
        province=province,
        year=YEAR,
        opens_on=today - datetime.timedelta(days=30),
        closes_on=today + datetime.timedelta(days=30),
    )
    area = make_community(ward_a, code="TDP9", name="Tổ dân phố Chín")
    regs = {}
    for code, name in HOUSEHOLDS:
        family = make_family(ward_a, code=code, head_name=name, community=area)
        regs[name] = registration(family.entity, year=YEAR)
    registering.self_assessment_token(registration=regs["Bùi Thị Lan"])
    return area, regs


def _no_sideways_scroll(page) -> None:
    assert page.evaluate(OVERFLOW_JS) <= 0, f"{page.url} scrolls sideways"


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


@pytest.mark.parametrize("width", WIDTHS)
def test_slip_sheet_qr_code_opens_the_households_form(
    page, other_page, vietnamese, live_server, street, width
):
    area, regs = street
    page.set_viewport_size({"width": width, "height": 900})
    vietnamese.data |= {"alice", area.entity.name, "TDP9", *(n for _c, n in HOUSEHOLDS)}
    vietnamese.data |= {c for c, _n in HOUSEHOLDS}
    login(page, live_server, "alice")

    # From the area's page to the confirmation, which says what printing will do.
    page.goto(f"{live_server.url}/registry/communities/{area.pk}/")
    page.locator("#area-slips").click()
    plan = page.locator("#slip-plan")
    expect(plan).to_contain_text("7 hộ gia đình chưa có đường dẫn dùng được")
    expect(plan).to_contain_text("1 hộ gia đình đã có đường dẫn đang dùng được")
    _no_sideways_scroll(page)
    vietnamese.check()

    # The sheet: one slip per household without a link, each with a QR code and a code.
    page.locator("#issue-slips").click()
    slips = page.locator(".slip")
    expect(slips).to_have_count(7)
    expect(page.locator("button[data-print]")).to_be_visible()  # the script is on
    codes = [c.strip() for c in page.locator(".slip-code").all_inner_texts()]
    links = page.locator(".slip-link").all_inner_texts()
    vietnamese.data |= {*codes, *links, live_server.url}
    _no_sideways_scroll(page)
    qr = slips.first.locator("svg.qr")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 100 and abs(box["width"] - box["height"]) < 1  # big enough, square
    vietnamese.check()

    # Printed: six slips to an A4 page (two columns), so seven slips take two pages.
    page.emulate_media(media="print")
    first, second = slips.nth(0).bounding_box(), slips.nth(1).bounding_box()
    assert first["y"] == second["y"] and first["x"] < second["x"]
    assert _pdf_pages(page.pdf(format="A4")) == 2
    page.emulate_media(media="screen")

    # The QR code of the first slip, read from the SVG the browser shows, is its link.
    link = decode_qr_svg(qr.evaluate("svg => svg.outerHTML"))
    assert link == links[0].strip()
    household = slips.first.locator(".slip-who strong").inner_text()

    # The household opens it on a phone of its own and answers.
    visitor = other_page
    reader = VietnameseReader(visitor)
    reader.data |= vietnamese.data
    visitor.goto(link)
    switch_language(visitor, "vi")
    expect(visitor.locator("main")).to_contain_text(household)
    visitor.select_option("select[name=F1a]", value="yes")
    visitor.fill("input[name=F3b]", "6")
    visitor.locator("form.evidence button[type=submit]").click()
    visitor.wait_for_url("**?sent=1")
    expect(visitor.locator(".message.success h2")).to_be_visible()
    reader.check()
    opened = Registration.objects.get(entity__name=household, year=YEAR)
    assert opened.evidence_self_assessed and opened.evidence["F3b"] == "6"

    # Another household types its code by hand, in small letters and without the dash.
    visitor.goto(f"{live_server.url}/titles/s/")
    visitor.fill("input[name=code]", "ZZZZZ-ZZZZZ")
    visitor.locator("main form button[type=submit]").click()
    expect(visitor.locator(".errors")).to_contain_text("Không có phiếu nào mang mã ZZZZZ-ZZZZZ")
    visitor.fill("input[name=code]", codes[1].replace("-", "").lower())
    visitor.locator("main form button[type=submit]").click()
    second_household = slips.nth(1).locator(".slip-who strong").inner_text()
    expect(visitor.locator("main")).to_contain_text(second_household)
    visitor.select_option("select[name=F1a]", value="no")
    visitor.locator("form.evidence button[type=submit]").click()
    visitor.wait_for_url("**?sent=1")
    reader.data |= {"ZZZZZ-ZZZZZ"}
    reader.check()
    assert Registration.objects.get(entity__name=second_household).evidence == {"F1a": "no"}

    # The household that already had a link got no slip, and its link still works.
    assert "Bùi Thị Lan" not in page.locator(".slip-sheet").inner_text()
    assert registering.self_assessment_link_live(registration=regs["Bùi Thị Lan"]) is not None


@pytest.mark.parametrize("width", WIDTHS)
def test_copy_link_says_it_copied(page, vietnamese, live_server, street, width):
    _area, regs = street
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/titles/registrations/{regs['Nguyễn Văn An'].pk}/self-link/")
    page.click("#issue-link")
    link = page.input_value("#self-link")
    assert decode_qr_svg(page.locator("svg.qr").evaluate("svg => svg.outerHTML")) == link
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.locator("button[data-copy-target=self-link]").click()
    expect(page.locator(".copy-status")).to_have_text("Đã sao chép đường dẫn")
    assert page.evaluate("navigator.clipboard.readText()") == link
    _no_sideways_scroll(page)
    code = page.locator(".slip-code").inner_text().strip()
    vietnamese.data |= {"alice", "Nguyễn Văn An", "HGD41", link, code, live_server.url}
    vietnamese.check()


@pytest.mark.parametrize("width", WIDTHS)
def test_household_page_years_current_registration_and_a_new_citizen(
    page, vietnamese, live_server, ward_a, alice, width
):
    criteria_load_defaults()
    area = make_community(ward_a, code="TDP8", name="Tổ dân phố Tám")
    family = make_family(ward_a, code="HGD81", head_name="Ngô Thị Mai", community=area)
    past = registration(family.entity, year=YEAR - 1, state=State.RECOGNIZED, outstanding=True)
    current = registration(family.entity, year=YEAR)
    vietnamese.data |= {"alice", "Ngô Thị Mai", "HGD81", "Tổ dân phố Tám", past.decision.number}
    vietnamese.data |= {"CD81", "Ngô Văn Nam"}
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server, "alice")

    page.goto(f"{live_server.url}/registry/families/{family.pk}/")
    titles = page.locator(".entity-titles")
    expect(titles.locator("tbody tr")).to_have_count(2)
    expect(titles.locator("tbody tr").first).to_contain_text(str(YEAR))
    expect(titles.locator("tbody tr").nth(1)).to_contain_text("Được công nhận, tiêu biểu")
    expect(titles.locator("tbody tr").nth(1)).to_contain_text(f"01/12/{YEAR - 1}")
    expect(page.locator("a[href^='/titles/registrations/new/']")).to_have_count(0)
    _no_sideways_scroll(page)
    vietnamese.check()

    page.locator("#current-registration").click()
    page.wait_for_url(f"**/titles/registrations/{current.pk}/")
    page.go_back()

    page.locator("#add-citizen").click()
    expect(page.locator("input[name=family]")).to_have_value("HGD81")
    page.fill("input[name=code]", "CD81")
    page.fill("input[name=full_name]", "Ngô Văn Nam")
    page.fill("input[name=birth_year]", "2012")
    _no_sideways_scroll(page)
    vietnamese.check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**/registry/families/{family.pk}/")
    expect(page.locator("main")).to_contain_text("Ngô Văn Nam")
    assert Citizen.objects.get(entity__code="CD81").family_id == family.pk
    vietnamese.check()
