"""Groups and digital literacy in a real browser, on a phone (390 px) and a desktop (1366 px),
in Vietnamese: alice, staff of ward A, records a mobile team's session at a household — the
citizens helped found by a search without diacritics — then sees it on the team's page and in
the ward's figures (the dashboard's "Groups and digital literacy" tab sends her to her ward).
Every page is read for untranslated English and must fit the screen without sideways scrolling.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from community.models import Activity
from community.services.groups import group_create
from tests.e2e.conftest import go_to_menu_item, login
from tests.factories import make_citizen, make_community
from titles.dashboard import percent_text

pytestmark = pytest.mark.django_db(transaction=True)

OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"
TODAY = timezone.localdate()


@pytest.mark.parametrize("width", [390, 1366])
def test_staff_records_a_mobile_teams_session_at_a_household(
    page, vietnamese, live_server, ward_a, alice, width
):
    page.set_viewport_size({"width": width, "height": 900})
    area = make_community(ward_a, code="TDP5", name="Tổ dân phố 5")
    team = group_create(
        ward=ward_a,
        code="LD05",
        name="Tổ lưu động Bình dân học vụ số 5",
        group_type="mobile_team",
        community=area.entity,
        founded=datetime.date(TODAY.year, 1, 1),
    )
    helped = make_citizen(ward_a, code="CD51", full_name="Nguyễn Văn Ánh", birth_year=1948)
    make_citizen(ward_a, code="CD52", full_name="Trần Thị Hoa", birth_year=1980)
    vietnamese.data |= {
        ward_a.name,
        "alice",
        team.name,
        team.code,
        area.entity.name,
        "Nguyễn Văn Ánh",
        "CD51",
        "Trần Thị Hoa",
        "VNeID",
        "iHanoi",
        "eTax Mobile",
        "VssID",
        "anh",
    }

    def fits() -> None:
        assert page.evaluate(OVERFLOW_JS) <= 0, f"{page.url} scrolls sideways at {width} px"

    login(page, live_server, "alice")
    go_to_menu_item(page, "/groups/")
    fits()
    vietnamese.check()
    page.locator(f"main a[href='/groups/{team.pk}/']").click()
    page.wait_for_url(f"**/groups/{team.pk}/")
    page.locator(f"a.button[href='/groups/{team.pk}/activities/new/']").click()
    page.wait_for_url(f"**/groups/{team.pk}/activities/new/")
    fits()
    vietnamese.check()

    # The household's resident, found without typing the diacritics.
    page.fill("#citizen-search", "anh")
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url(re.compile(r"\?q=anh$"))
    checkbox = page.locator(f"input[name=citizens][value='{helped.pk}']")
    expect(checkbox).to_be_visible()
    checkbox.check()
    page.fill("input[name=date]", TODAY.isoformat())
    page.select_option("select[name=activity_type]", "home_visit")
    page.fill("input[name=participants]", "3")
    page.locator("input[name=services][value=vneid]").check()
    page.locator("input[name=services][value=etax]").check()
    page.fill("input[name=dossiers]", "1")
    fits()
    vietnamese.check()
    page.locator("main form.stacked button[type=submit]").click()
    page.wait_for_url(f"**/groups/{team.pk}/")

    activity = Activity.objects.get(group=team)
    assert (activity.people_helped, activity.services) == (1, ["vneid", "etax"])
    vietnamese.data.add(activity.ref)
    rows = page.locator("table#activities tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(activity.ref)
    expect(rows.first).to_contain_text(TODAY.strftime("%d/%m/%Y"))
    fits()
    vietnamese.check()

    # The ward's figures: one activity, one citizen of the ward's two adults reached.
    page.goto(f"{live_server.url}/groups/dashboard/")
    page.wait_for_url(f"**/groups/dashboard/wards/{ward_a.code}/")
    with translation.override("vi"):
        expected = percent_text(Decimal("50.0"))
    expect(page.locator("#reach")).to_have_text(expected)
    groups = page.locator("table#groups tbody tr")
    expect(groups).to_have_count(1)
    expect(groups.first).to_contain_text(team.name)
    fits()
    vietnamese.check()
    page.locator(f"table#groups a[href='/groups/{team.pk}/']").click()
    page.wait_for_url(f"**/groups/{team.pk}/")
