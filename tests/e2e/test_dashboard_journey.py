"""A dashboard viewer in a real browser on a phone-sized screen: logs in and switches to
Vietnamese with the header's switch, the chart is drawn by the vendored Chart.js, the ward table
sorts when a heading is clicked, and the figures drill down: city dashboard → ward → residential
area → its list of households → one household's page (and its registration).

Every page and chart is read for untranslated English (`vietnamese` fixture). Elements are
found by id and data attributes, not by their (translated) labels.
"""

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from registry.models import Kind
from tests.e2e.conftest import go_to_menu_item, login
from tests.e2e.language import READ_PAGE_JS
from tests.factories import make_community, make_family
from tests.titles.factories import registration
from titles.models import State, Target
from titles.services.rollups import rollups_rebuild

YEAR = timezone.localdate().year


@pytest.fixture
def city(province, ward_a, ward_b):
    """Ward A: 2 of 3 households recognised (66.7 %); ward B: 1 of 4 (25.0 %)."""
    Target.objects.create(unit=province, kind=Kind.FAMILY, year=YEAR, min_rate=70, max_rate=80)
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")
    homes = [
        make_family(ward_a, code=f"A{i}", head_name=name, community=area)
        for i, name in enumerate(["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"])
    ]
    first = registration(homes[0].entity, year=YEAR, state=State.RECOGNIZED, outstanding=True)
    registration(homes[1].entity, year=YEAR, state=State.RECOGNIZED)
    area_b = make_community(ward_b, code="TDP9", name="Tổ dân phố Chín")
    for i in range(4):
        family = make_family(ward_b, code=f"B{i}", head_name=f"Hộ {i}", community=area_b)
        registration(family.entity, year=YEAR, state=State.RECOGNIZED if i == 0 else "registered")
    rollups_rebuild(province_id=province.pk)
    return {"area": area, "household": homes[0], "registration": first}


def _ward_order(page) -> list[str]:
    return page.locator("#wards tbody tr").evaluate_all("rows => rows.map(row => row.dataset.unit)")


@pytest.mark.django_db(transaction=True)
def test_viewer_reads_the_dashboard_and_drills_down_to_a_household(
    page, vietnamese, live_server, carol, city
):
    vietnamese.data |= {"carol", "Thành phố Hà Nội", "Phường Hoàn Kiếm", "Phường Ba Đình"}
    vietnamese.data |= {"Tổ dân phố Một", "Tổ dân phố Chín", "Nguyễn Văn An", "Trần Thị Bình"}
    vietnamese.data |= {"Lê Văn Cường"}
    login(page, live_server, "carol")
    vietnamese.check()
    go_to_menu_item(page, "/titles/dashboard/")
    page.wait_for_url(f"**{reverse('dashboard')}")  # loaded, with its scripts run

    # The vendored Chart.js is loaded and has drawn the wards' chart.
    canvas = page.locator("#ward-chart")
    expect(canvas).to_be_visible()
    assert page.evaluate("typeof Chart") == "function"
    assert page.evaluate("Chart.getChart(document.getElementById('ward-chart')) !== undefined")
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    assert page.evaluate("Chart.getChart(document.getElementById('trend-chart')) !== undefined")
    # On a phone the page itself does not scroll sideways: wide tables scroll in their box.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    vietnamese.check()  # the charts' labels, legends and ticks too
    read = set(page.evaluate(READ_PAGE_JS)["texts"])
    drawn = page.evaluate(
        """() => {
          const bars = Chart.getChart(document.getElementById('ward-chart'));
          const lines = Chart.getChart(document.getElementById('trend-chart'));
          return [...bars.scales.x.ticks.map(t => t.label), bars.data.datasets[0].label,
                  ...lines.legend.legendItems.map(item => item.text)];
        }"""
    )
    assert drawn and set(drawn) <= read

    # Sorting by a heading happens in the page, without a reload.
    url_before = page.url
    assert _ward_order(page) == ["00004", "00070"]
    rate = page.locator("#wards th[data-sort-key=rate]")
    rate.locator("a").click()
    expect(rate).to_have_attribute("aria-sort", "ascending")
    assert _ward_order(page) == ["00004", "00070"]  # 25.0 % before 66.7 %
    rate.locator("a").click()
    expect(rate).to_have_attribute("aria-sort", "descending")
    assert _ward_order(page) == ["00070", "00004"]
    assert page.url == url_before
    page.locator("#wards th[data-sort-key=name] a").click()
    expect(rate).not_to_have_attribute("aria-sort", "descending")
    assert _ward_order(page) == ["00004", "00070"]  # Ba Đình, Hoàn Kiếm
    vietnamese.check()

    # Drill down: ward → residential area → its households → one household.
    page.locator("#wards tr[data-unit='00070'] th a").click()
    page.wait_for_url(f"**{reverse('dashboard_ward', args=['00070'])}*")
    vietnamese.check()
    page.locator("#areas tr[data-unit='00070/TDP1'] th a").click()
    page.wait_for_url(f"**{reverse('dashboard_area', args=[city['area'].pk])}*")
    households = page.locator("#households tbody tr")
    expect(households).to_have_count(3)
    household = page.locator(f"#households tr[data-household='{city['household'].pk}']")
    expect(household).to_have_attribute("data-state", State.RECOGNIZED)
    vietnamese.check()

    # The household's page in the registry …
    household.locator("th a").click()
    page.wait_for_url(f"**{reverse('entity_detail', args=['families', city['household'].pk])}")
    expect(page.locator("main h1")).to_have_text("Nguyễn Văn An")
    expect(page.locator("main .facts")).to_contain_text("Tổ dân phố Một")
    vietnamese.check()

    # … and, from the list, its registration for the year with the recognition.
    page.go_back()
    household.locator("td a").click()
    page.wait_for_url(f"**{reverse('registration_detail', args=[city['registration'].pk])}")
    expect(page.locator("main h1")).to_contain_text("Nguyễn Văn An")
    expect(page.locator("#registration-state")).to_have_attribute("data-state", State.RECOGNIZED)
    vietnamese.check()

    assert set(vietnamese.read_paths) >= {
        reverse("login"),
        reverse("home"),
        reverse("dashboard"),
        reverse("dashboard_ward", args=["00070"]),
        reverse("dashboard_area", args=[city["area"].pk]),
        reverse("entity_detail", args=["families", city["household"].pk]),
        reverse("registration_detail", args=[city["registration"].pk]),
    }
