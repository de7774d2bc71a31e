"""Every page of the journeys on a 390 px phone: no sideways scroll of the page itself (wide
tables scroll inside their box), the menu folds behind its button, checkboxes and buttons are
44 px tap targets, and the review queue and the decision form have a select-all.

Pages are visited as the role that uses them (staff, official, viewer, administrator) in
Vietnamese, with long Vietnamese names in the data, as a ward's real lists have them.
"""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from community.services.groups import activity_create, group_create, member_create
from registry.models import Kind
from tests.e2e.conftest import login, switch_language
from tests.factories import make_citizen, make_clan, make_community, make_family, make_unit
from tests.programmes.factories import (
    make_beneficiary,
    make_contribution,
    make_delivery,
    make_programme,
)
from tests.titles.factories import registration
from titles.models import Registration, State, Target
from titles.rules.criteria_file import DEFAULTS_DIR
from titles.services.criteria import criteria_load
from titles.services.evaluate import registrations_evaluate
from titles.services.registrations import self_assessment_link_issue
from titles.services.review import decision_issue, registrations_approve_passed
from titles.services.rollups import rollups_rebuild

YEAR = timezone.localdate().year
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
OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def ward_year(province, ward_a, bob):
    """Ward A this year: households that passed (two approved and recognised by a decision, two
    waiting in the review queue), one that failed, a clan, a unit and citizens; a digital team
    with a member and an activity; a support programme of the province with one record of
    each kind."""
    criteria_load(document=(DEFAULTS_DIR / "vn-family-448.json").read_text(encoding="utf-8"))
    Target.objects.create(unit=province, kind=Kind.FAMILY, year=YEAR, min_rate=70, max_rate=80)
    area = make_community(ward_a, code="TDP01", name="Tổ dân phố số 1 khu tập thể Nghĩa Tân")
    clan = make_clan(ward_a, code="DH01", name="Dòng họ Nguyễn Đình làng Nghĩa Đô")
    unit = make_unit(ward_a, code="DV01", name="Trường Trung học cơ sở Nghĩa Tân")
    names = [
        "Nguyễn Thị Phương Hoa",
        "Trần Văn Thành",
        "Lê Hoàng Bảo Ngọc",
        "Phạm Quang Minh",
    ]
    families = [
        make_family(ward_a, code=f"HGD{i:04d}", head_name=name, community=area, clan=clan)
        for i, name in enumerate(names)
    ]
    citizen = make_citizen(
        ward_a, code="CD0001", full_name="Tôn Nữ Thị Khánh Linh", family=families[0]
    )
    regs = [
        registration(f.entity, year=YEAR, state=State.SUBMITTED, evidence=FULL_MARKS)
        for f in families
    ]
    failing = make_family(ward_a, code="HGD9999", head_name="Đỗ Văn Hùng", community=area)
    registration(
        failing.entity, year=YEAR, state=State.SUBMITTED, evidence={**FULL_MARKS, "F1a": "0"}
    )
    registrations_evaluate(year=YEAR, ward=ward_a)
    registrations_approve_passed(user=bob, ward=ward_a, year=YEAR, ids=[r.pk for r in regs[:2]])
    decision = decision_issue(
        user=bob,
        ward=ward_a,
        year=YEAR,
        number="15/QĐ-UBND",
        date=datetime.date(YEAR, 11, 20),
        registrations=Registration.objects.filter(pk__in=[r.pk for r in regs[:2]]),
    )
    rollups_rebuild(province_id=province.pk)
    club = group_create(
        ward=ward_a,
        code="CLB01",
        name="Tổ công nghệ số cộng đồng tổ dân phố số 1 Nghĩa Tân",
        group_type="digital_team",
    )
    member_create(group=club, code="TV01", full_name="Hoàng Thị Thu Trang", role="Tổ trưởng")
    activity_create(
        group=club,
        ref="HD01",
        date=datetime.date(YEAR, 1, 15),
        activity_type="home_visit",
        participants=3,
        citizens=[citizen.entity],
    )
    programme = make_programme(province, code="BUA-TRUA")
    make_contribution(programme)
    make_beneficiary(programme, unit)
    make_delivery(programme, unit)
    return {
        "club": club,
        "programme": programme,
        "self_code": self_assessment_link_issue(registration=regs[3]).code,
        "area": area,
        "family": families[0],
        "clan": clan,
        "unit": unit,
        "registration": regs[0],
        "waiting": regs[2],
        "decision": decision,
    }


def _journeys(world, ward) -> dict[str, list[str]]:
    family, reg = world["family"].entity_id, world["registration"].pk
    waiting = world["waiting"].pk
    return {
        "alice": [
            "/",
            f"/wards/{ward.code}/",
            "/registry/communities/",
            "/registry/families/",
            "/registry/clans/",
            "/registry/units/",
            "/registry/citizens/",
            f"/registry/families/{family}/",
            "/registry/families/new/",
            f"/registry/families/{family}/edit/",
            "/registry/import/",
            "/titles/registrations/",
            "/titles/registrations/new/",
            "/titles/registrations/import/",
            f"/titles/registrations/{waiting}/",
            f"/titles/registrations/{waiting}/evidence/",
            "/titles/dashboard/",
            "/titles/reports/choose/",
            "/accounts/password/",
        ],
        "bob": [
            "/titles/review/",
            f"/titles/registrations/{waiting}/",
            "/titles/decisions/new/",
            f"/titles/decisions/{world['decision'].pk}/",
            f"/titles/registrations/{reg}/certificate/",
            f"/titles/decisions/{world['decision'].pk}/certificates/",
            f"/titles/public-list/?year={YEAR}",
            "/titles/signoff/",
            f"/titles/signoff/{ward.code}/{YEAR}/",
            "/titles/dashboard/",
        ],
        "carol": [
            "/",
            "/titles/dashboard/",
            f"/titles/dashboard/ward/{ward.code}/",
            f"/titles/dashboard/area/{world['area'].entity_id}/",
            "/titles/reports/choose/",
            "/titles/signoff/",
            "/registry/families/",
        ],
        "dave": [
            "/",
            "/titles/dashboard/?province=01",
            "/audit/",
            "/titles/review/",
            "/titles/signoff/",
        ],
    }


def _overflowing_pages(page: Page, live_server, paths: list[str]) -> list[str]:
    problems = []
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        page.wait_for_load_state("load")
        excess = page.evaluate(OVERFLOW_JS)
        if excess > 0:
            wide = page.evaluate(
                """() => [...document.querySelectorAll('main *')]
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth
                                 && !e.closest('.table-scroll, .chart-box'))
                    .slice(0, 3).map(e => e.tagName + '.' + e.className)"""
            )
            problems.append(f"{path}: {excess}px too wide ({', '.join(wide)})")
    return problems


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("username", ["alice", "bob", "carol", "dave"])
def test_every_journey_page_fits_a_phone(page, live_server, request, ward_a, ward_year, username):
    request.getfixturevalue(username)
    login(page, live_server, username)
    problems = _overflowing_pages(page, live_server, _journeys(ward_year, ward_a)[username])
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_menu_folds_and_tap_targets_are_44px(page, live_server, alice, ward_year):
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/registry/families/")
    toggle = page.locator("nav.site-nav .menu-toggle")
    menu = page.locator("#site-menu")
    expect(toggle).to_be_visible()
    expect(menu).to_be_hidden()
    toggle.click()
    expect(menu).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    too_small = page.evaluate(
        """() => [...document.querySelectorAll(
                'button, .button, input[type=checkbox], input[type=radio], #site-menu a')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
            .filter(([_, box]) => box.height < 44 || box.width < 44)
            .map(([html, box]) => `${html} ${Math.round(box.width)}×${Math.round(box.height)}`)"""
    )
    assert not too_small, "\n".join(too_small)
    # On a desktop the menu is open and there is no button.
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(toggle).to_be_hidden()
    expect(menu).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_select_all_in_the_review_queue_and_the_decision_form(page, live_server, bob, ward_year):
    login(page, live_server, "bob")
    page.goto(f"{live_server.url}/titles/review/")
    master = page.locator("#queue thead input[data-select-all]")
    rows = page.locator("#queue tbody input[type=checkbox][name=ids]")
    assert rows.count() == 2  # the two that passed and wait for approval
    master.check()
    assert rows.evaluate_all("boxes => boxes.every(b => b.checked)")
    rows.first.uncheck()
    assert master.evaluate("m => m.indeterminate && !m.checked")
    master.click()  # from "some": ticks all
    assert rows.evaluate_all("boxes => boxes.every(b => b.checked)")
    master.click()
    assert rows.evaluate_all("boxes => boxes.every(b => !b.checked)")
    box = master.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44

    registrations_approve_passed(user=bob, ward=ward_year["area"].entity.ward, year=YEAR)
    page.goto(f"{live_server.url}/titles/decisions/new/")
    master = page.locator("#approved thead input[data-select-all]")
    rows = page.locator("#approved tbody input[type=checkbox][name=registrations]")
    assert rows.count() == 2
    master.check()
    assert rows.evaluate_all("boxes => boxes.every(b => b.checked)")
    master.uncheck()
    assert rows.evaluate_all("boxes => boxes.every(b => !b.checked)")


# --- The pages added for paper, households, groups and programmes --------------------------------


def _added_pages(world, ward) -> dict[str, list[str]]:
    """The pages of the slips, the household, the prints, the mass actions' confirmations, the
    groups and the programmes, by the role that uses them (None: anyone, without logging in)."""
    area, club = world["area"].entity_id, world["club"].pk
    code = world["programme"].code
    year = f"ward={ward.code}&year={YEAR}"
    groups = ["/groups/", f"/groups/{club}/", "/groups/dashboard/"]
    programmes = ["/programmes/", f"/programmes/p/{code}/", "/programmes/dashboard/"]
    return {
        "alice": [
            f"/registry/families/{world['family'].entity_id}/",
            f"/registry/communities/{area}/",
            f"/titles/registrations/areas/{area}/slips/?year={YEAR}",
            f"/titles/registrations/register-area/?{year}&area={area}",
            *groups,
            f"/groups/new/?ward={ward.code}",
            f"/groups/{club}/edit/",
            f"/groups/{club}/members/new/",
            f"/groups/{club}/activities/new/",
            f"/groups/dashboard/wards/{ward.code}/",
            *programmes,
            "/programmes/contributions/",
            "/programmes/beneficiaries/",
            "/programmes/deliveries/",
            "/programmes/import/",
            f"/programmes/p/{code}/wards/{ward.code}/",
        ],
        "bob": [
            f"/titles/decisions/{world['decision'].pk}/certificates/",
            f"/titles/review/evaluate/?{year}",
            f"/titles/review/approve-passed/?{year}&scope=all",
            f"/titles/signoff/{ward.code}/{YEAR}/sign-off/",
            *groups,
            *programmes,
        ],
        "carol": ["/groups/dashboard/", "/programmes/dashboard/"],
        None: [
            "/titles/s/",
            f"/titles/s/{world['self_code']}/",
            f"/programmes/{code}/public/",
        ],
    }


def _fits_and_reads_vietnamese(page: Page, live_server, vietnamese, paths: list[str]) -> list[str]:
    problems = []
    for path in paths:
        problems += _overflowing_pages(page, live_server, [path])
        vietnamese.check()
    return problems


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("username", ["alice", "bob", "carol", None])
def test_the_added_pages_fit_a_phone_and_read_vietnamese(
    page, vietnamese, live_server, request, ward_a, ward_year, username
):
    if username is None:
        page.goto(f"{live_server.url}/titles/s/")
        switch_language(page, "vi")
    else:
        request.getfixturevalue(username)
        login(page, live_server, username)
    paths = _added_pages(ward_year, ward_a)[username]
    problems = _fits_and_reads_vietnamese(page, live_server, vietnamese, paths)
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
def test_the_slip_sheet_fits_a_phone_and_reads_vietnamese(
    page, vietnamese, live_server, alice, ward_year
):
    login(page, live_server, "alice")
    area = ward_year["area"].entity_id
    page.goto(f"{live_server.url}/titles/registrations/areas/{area}/slips/?year={YEAR}")
    page.locator("#issue-slips").click()
    expect(page.locator(".slip-sheet > *").first).to_be_visible()
    assert page.evaluate(OVERFLOW_JS) <= 0
    vietnamese.check()


@pytest.mark.django_db(transaction=True)
def test_the_decision_confirmation_fits_a_phone_and_reads_vietnamese(
    page, vietnamese, live_server, bob, ward_a, ward_year
):
    registrations_approve_passed(user=bob, ward=ward_a, year=YEAR)
    login(page, live_server, "bob")
    page.goto(f"{live_server.url}/titles/decisions/new/?ward={ward_a.code}&year={YEAR}")
    page.fill("#decision-form input[name=number]", "16/QĐ-UBND")
    page.fill("#decision-form input[name=date]", f"{YEAR}-11-25")
    page.locator("#decision-form [type=submit]").last.click()
    expect(page.locator("input[name=confirmed]")).to_have_count(1)
    assert page.evaluate(OVERFLOW_JS) <= 0
    vietnamese.check()
