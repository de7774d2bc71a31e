"""Staff journeys in a real browser (phone-sized), switched to Vietnamese with the header's switch.

(a) Alice, staff of ward A, logs in through the login form, enters a new residential area,
    uploads its households as an XLSX workbook (check, then confirm), registers the area's
    households for the year, enters one household's evidence and submits it.
(b) A household self-assesses from the link alice hands out, in a browser that is not logged
    in; alice sees the values marked self-assessed and confirms them.

Every page both journeys load is read for untranslated English (`vietnamese` fixture).
Selectors use names, ids and URLs rather than wording, so that translations do not break them;
where wording is checked it is taken from the same catalogue the page uses.
"""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import Workbook
from playwright.sync_api import expect

from registry.models import Community, Family
from tests.e2e.conftest import VietnameseReader, go_to_menu_item, login, switch_language
from tests.factories import make_community, make_family
from tests.titles.factories import registration
from titles.models import Registration, RegistrationWindow, State
from titles.services.criteria import criteria_load_defaults

pytestmark = pytest.mark.django_db(transaction=True)

YEAR = timezone.localdate().year
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The households of the new residential area, as a ward association keeps them in Excel, with
# the Vietnamese column headers the import accepts.
HOUSEHOLDS = [
    ("HGD31", "Nguyễn Văn An", 4),
    ("HGD32", "Trần Thị Bình", 3),
    ("HGD33", "Lê Văn Cường", 5),
]


@pytest.fixture
def ward_a_setting(ward_a, province, alice):
    """The default criteria and an open registration window for ward A's province."""
    criteria_load_defaults()
    today = timezone.localdate()
    RegistrationWindow.objects.create(
        province=province,
        year=YEAR,
        opens_on=today - datetime.timedelta(days=30),
        closes_on=today + datetime.timedelta(days=30),
    )
    return ward_a


def _families_workbook(ward_code: str, area_code: str, rows=HOUSEHOLDS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã phường/xã", "Mã hộ", "Họ tên chủ hộ", "Số nhân khẩu", "Tổ dân phố"])
    for code, head, members in rows:
        sheet.append([ward_code, code, head, members, area_code])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _choose_workbook(page, content: bytes) -> None:
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "ho-gia-dinh-tdp3.xlsx", "mimeType": XLSX, "buffer": content}],
    )
    page.locator("form.stacked button[type=submit]").click()


def _vi(message: str) -> str:
    with translation.override("vi"):
        return gettext(message)


def test_staff_enters_an_area_imports_its_households_registers_them_and_enters_evidence(
    page, vietnamese, live_server, ward_a_setting
):
    ward = ward_a_setting
    vietnamese.data |= {ward.name, "alice", "ho-gia-dinh-tdp3.xlsx", "Tổ dân phố Ba", "TDP3"}
    vietnamese.data |= {name for _, name, _ in HOUSEHOLDS}

    # Logging in: the browser asks for English; the header's switch turns the site Vietnamese.
    page.goto(f"{live_server.url}{reverse('login')}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    login(page, live_server, "alice")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    vietnamese.check()

    # A new residential area of ward A, from the registry's list of residential areas.
    go_to_menu_item(page, "/registry/communities/")
    vietnamese.check()
    page.locator("a.button[href^='/registry/communities/new/']").click()
    page.fill("input[name=code]", "TDP3")
    page.fill("input[name=name]", "Tổ dân phố Ba")
    page.select_option("select[name=area_type]", "to_dan_pho")
    vietnamese.check()
    page.locator("main form.stacked button[type=submit]").click()
    page.wait_for_url(re.compile(r"/registry/communities/\d+/$"))
    area = Community.objects.get(entity__ward=ward, entity__code="TDP3")
    assert page.url.endswith(reverse("entity_detail", args=["communities", area.pk]))
    expect(page.locator("main h1")).to_have_text("Tổ dân phố Ba")
    assert area.area_type == Community.AreaType.TO_DAN_PHO
    vietnamese.check()

    # Its households, from a workbook. A first file with a bad row is refused, row by row …
    go_to_menu_item(page, "/registry/import/")
    vietnamese.check()  # the column help in its closed <details> too
    page.select_option("select[name=kind]", "families")
    bad = [*HOUSEHOLDS[:2], (HOUSEHOLDS[2][0], HOUSEHOLDS[2][1], "năm")]
    _choose_workbook(page, _families_workbook(ward.code, "TDP3", bad))
    report = page.locator("section.report")
    expect(report).to_have_class("report failed")
    errors = report.locator("table.data tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.locator("td").nth(0)).to_have_text("4")  # the spreadsheet's row, header = 1
    expect(errors.locator("td").nth(1)).to_have_text("Số nhân khẩu")  # the header as written
    assert not Family.objects.filter(entity__ward=ward).exists()
    vietnamese.check()

    # … the corrected one is checked and reported, nothing written yet …
    page.locator("#import-again").click()
    page.select_option("select[name=kind]", "families")
    _choose_workbook(page, _families_workbook(ward.code, "TDP3"))
    expect(report).to_have_class("report ok")
    expect(report.locator(".counts div").nth(0).locator("dd")).to_have_text("3")
    expect(report.locator(".counts div").nth(1).locator("dd")).to_have_text("3")
    assert not Family.objects.filter(entity__ward=ward).exists()
    vietnamese.check()

    # … then confirmed: the import's report, then the families list with the three households
    # in the new area.
    page.locator("form.confirm button[type=submit]").click()
    expect(page.locator("#job-state")).to_have_text("Xong")
    expect(report.locator(".counts div").nth(1).locator("dd")).to_have_text("3")
    vietnamese.check()
    page.locator(".job-links a.primary").click()
    page.wait_for_url(f"**{reverse('entity_list', args=['families'])}")
    expect(page.locator("table.data tbody tr")).to_have_count(3)
    for _, name, _ in HOUSEHOLDS:
        expect(page.locator("table.data tbody")).to_contain_text(name)
    stored = {
        f.entity.code: (f.entity.name, f.members, f.community_id)
        for f in Family.objects.select_related("entity").filter(entity__ward=ward)
    }
    assert stored == {code: (name, members, area.pk) for code, name, members in HOUSEHOLDS}
    vietnamese.check()

    # The area's households registered for the year in one go.
    go_to_menu_item(page, "/titles/registrations/")
    vietnamese.check()
    page.locator("a[href^='/titles/registrations/register-area/']").first.click()
    page.select_option("select[name=area]", value=str(area.pk))
    assert page.input_value("input[name=year]") == str(YEAR)
    vietnamese.check()
    page.locator("form.stacked button[type=submit]").click()
    # The confirmation counts the three households, then back on the list.
    expect(page.locator("#confirm-counts tbody td").first).to_have_text("3")
    vietnamese.check()
    page.click("#confirm-button")
    page.wait_for_url(f"**{reverse('registration_list')}")
    expect(page.locator(".message.success")).to_contain_text("3")
    expect(page.locator("table.data tbody tr")).to_have_count(3)
    assert Registration.objects.filter(year=YEAR, state=State.REGISTERED).count() == 3
    vietnamese.check()

    # Nguyễn Văn An's registration, then its evidence form.
    page.get_by_role("link", name="Nguyễn Văn An").click()
    reg = Registration.objects.get(entity__code="HGD31", year=YEAR)
    page.wait_for_url(f"**/titles/registrations/{reg.pk}/")
    vietnamese.check()
    page.locator(f"a[href='/titles/registrations/{reg.pk}/evidence/']").first.click()
    vietnamese.check()
    page.select_option("select[name=F1a]", value="yes")
    page.fill("input[name=F2c]", "3")
    page.fill("input[name=F1b]", "8")
    page.locator("form.evidence button[type=submit]").click()

    # The registration page shows what was entered.
    page.wait_for_url(f"**/titles/registrations/{reg.pk}/")
    expect(page.locator(".message.success")).to_be_visible()
    expect(page.locator("#criterion-F1a")).to_contain_text(_vi("Yes"))
    expect(page.locator("#criterion-F2c")).to_contain_text("3")
    expect(page.locator("#criterion-F1b")).to_contain_text("8")
    reg.refresh_from_db()
    assert reg.evidence == {"F1a": "yes", "F1b": "8", "F2c": "3"}
    vietnamese.check()

    # Entering evidence handed it over for evaluation: no separate submit step is left.
    page.wait_for_selector("#registration-state[data-state=submitted]")
    expect(page.locator(f"form[action='/titles/registrations/{reg.pk}/submit/']")).to_have_count(0)
    reg.refresh_from_db()
    assert reg.state == State.SUBMITTED
    vietnamese.check()

    assert set(vietnamese.read_paths) >= {
        reverse("login"),
        reverse("home"),
        reverse("entity_list", args=["communities"]),
        reverse("entity_create", args=["communities"]),
        reverse("entity_detail", args=["communities", area.pk]),
        reverse("registry_import"),
        reverse("entity_list", args=["families"]),
        reverse("registration_list"),
        reverse("registration_register_area"),
        reverse("registration_detail", args=[reg.pk]),
        reverse("registration_evidence", args=[reg.pk]),
    }


def test_household_self_assesses_and_staff_confirms(
    page, other_page, vietnamese, live_server, ward_a_setting
):
    ward = ward_a_setting
    area = make_community(ward, code="TDP1", name="Tổ dân phố Một")
    family = make_family(ward, code="HGD2", head_name="Trần Thị Bình", community=area)
    reg = registration(family.entity, year=YEAR)
    vietnamese.data |= {ward.name, "alice", "Trần Thị Bình", "HGD2"}
    login(page, live_server, "alice")

    # Alice opens the self-assessment link page, issues a link and reads it.
    page.goto(f"{live_server.url}/titles/registrations/{reg.pk}/self-link/")
    page.click("#issue-link")
    link = page.input_value("#self-link")
    assert link.startswith(f"{live_server.url}/titles/self/")
    copy = page.locator("button[data-copy-target=self-link]")
    expect(copy).to_be_visible()  # the script has enhanced the page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    copy.click()
    expect(page.locator(".copy-status")).not_to_be_empty()  # the script's message
    vietnamese.check()

    # The household, on a phone of its own that has never logged in and asks for English.
    visitor = other_page
    reader = VietnameseReader(visitor)
    reader.data |= vietnamese.data
    visitor.goto(link)
    switch_language(visitor, "vi")
    expect(visitor.locator("main")).to_contain_text("Trần Thị Bình")
    reader.check()
    visitor.select_option("select[name=F1a]", value="yes")
    visitor.select_option("select[name=F2a]", value="yes")
    visitor.select_option("select[name=F2b]", value="no")
    visitor.fill("input[name=F2c]", "4")
    visitor.fill("input[name=F3b]", "6")
    visitor.locator("form.evidence button[type=submit]").click()
    visitor.wait_for_url("**?sent=1")
    expect(visitor.locator(".message.success h2")).to_be_visible()
    expect(visitor.locator("a[href^='/titles/registrations/']")).to_have_count(0)
    reader.check()

    reg.refresh_from_db()
    assert reg.evidence_self_assessed is True
    assert reg.evidence == {"F1a": "yes", "F2a": "yes", "F2b": "no", "F2c": "4", "F3b": "6"}

    # Alice sees the values marked self-assessed and confirms them.
    page.goto(f"{live_server.url}/titles/registrations/{reg.pk}/")
    notice = _vi(
        "The evidence was entered through the self-assessment link and has not been confirmed "
        "by staff yet."
    )
    expect(page.locator(".notice", has_text=notice)).to_have_count(1)
    expect(page.locator("#criterion-F2c")).to_contain_text("4")
    expect(page.locator("#criterion-F2b")).to_contain_text(_vi("No"))
    vietnamese.check()
    page.locator(f"form[action='/titles/registrations/{reg.pk}/confirm/'] button").click()
    page.wait_for_selector(".message.success")
    reg.refresh_from_db()
    assert reg.evidence_self_assessed is False
    expect(page.locator(f"form[action='/titles/registrations/{reg.pk}/confirm/']")).to_have_count(0)
    vietnamese.check()
