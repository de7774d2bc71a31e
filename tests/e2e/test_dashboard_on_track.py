""" "Are we on track this year?" on the city dashboard, in a real browser.

- At 390 px and at 1366 px the current year's target is the one on the plan's path (Plan 291
  names 2025 and 2030; this year lies between), the charts come before the wards' table with a
  legend, the year in progress is marked, and the page does not scroll sideways.
- Over an emulated slow link (400 kbit/s, 400 ms: Chrome DevTools Protocol
  `Network.emulateNetworkConditions`) the dashboard is usable — table and charts drawn — within
  5 s. The server compresses its answers as the production proxy does (README: gzip).
"""

import re
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.middleware.gzip import GZipMiddleware
from django.utils import timezone
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from registry.models import Kind
from tests.e2e.conftest import login
from tests.factories import make_community, make_family
from tests.titles.factories import registration
from titles.models import State, Target
from titles.services.rollups import rollups_rebuild

YEAR = timezone.localdate().year
PLAN = {2025: (70, 80), 2030: (90, 95)}


def _on_the_path(year: int) -> tuple[int | Decimal, ...]:
    """The range the plan's straight line gives `year` (worked out here, not by the app)."""
    share = Decimal(year - 2025) / 5
    return tuple(
        (Decimal(a) + (Decimal(b) - Decimal(a)) * share).quantize(Decimal("0.1"), ROUND_HALF_UP)
        for a, b in zip(PLAN[2025], PLAN[2030], strict=True)
    )


@pytest.fixture
def city(province, ward_a, ward_b):
    """Plan targets for 2025 and 2030 only; this year's and last year's figures in two wards."""
    for year, (low, high) in PLAN.items():
        Target.objects.create(
            unit=province, kind=Kind.FAMILY, year=year, min_rate=low, max_rate=high
        )
    for ward, count, recognised in ((ward_a, 5, 4), (ward_b, 4, 1)):
        area = make_community(ward, code="TDP1", name=f"Tổ dân phố số 1 {ward.name}")
        for i in range(count):
            family = make_family(ward, code=f"H{i}", head_name=f"Nguyễn Văn Hộ {i}", community=area)
            state = State.RECOGNIZED if i < recognised else State.REGISTERED
            registration(family.entity, year=YEAR, state=state)
            registration(family.entity, year=YEAR - 1, state=State.RECOGNIZED)
    rollups_rebuild(province_id=province.pk)


def _numbers(text: str) -> list[Decimal]:
    return [Decimal(n.replace(",", ".")) for n in re.findall(r"\d+(?:,\d+)?", text)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1366])
def test_this_years_target_lies_on_the_plans_path(page, live_server, carol, city, width):
    assert 2025 < YEAR < 2030, "the plan's years bracket this year"
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server, "carol")
    page.goto(f"{live_server.url}/titles/dashboard/?year={YEAR}&kind=family")

    card = page.locator("#headline-family")
    target = card.locator(".headline-facts div").first
    expect(target.locator("dt")).to_contain_text(str(YEAR))
    low, high = _on_the_path(YEAR)
    assert _numbers(target.locator("dd").inner_text()) == [low, high]
    expect(page.locator("#target-rule")).to_be_visible()

    # The year in progress is marked in the trend table and on the chart's axis.
    expect(page.locator("#trend tr.in-progress th")).to_contain_text(str(YEAR))
    labels = page.evaluate(
        "Chart.getChart(document.getElementById('trend-chart')).data.labels.map(String)"
    )
    assert labels[-1].startswith(str(YEAR)) and labels[-1] != str(YEAR)
    assert labels[:-1] == [str(YEAR - 1)]

    # Charts before the table; a legend entry for every colour of the bars.
    order = page.evaluate(
        """() => ['trend-chart', 'ward-chart', 'wards'].map(
              id => document.getElementById(id).getBoundingClientRect().top)"""
    )
    assert order == sorted(order)
    assert page.locator(".legend .swatch").count() == 5  # four statuses and the target band
    bars = page.evaluate(
        "Chart.getChart(document.getElementById('ward-chart')).data.datasets[0].backgroundColor"
    )
    legend = page.locator(".legend .swatch").evaluate_all(
        "spans => spans.map(s => getComputedStyle(s).backgroundColor)"
    )
    for colour in bars:
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})" in legend

    # The wards' table: inside the page at 1366 px, scrolling in its own box on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    table = page.locator("#wards")
    box = page.locator(".table-scroll:has(#wards)")
    fits = table.evaluate("t => t.scrollWidth") <= box.evaluate("b => b.clientWidth")
    assert fits if width == 1366 else box.evaluate("b => getComputedStyle(b).overflowX") == "auto"


class CompressingStaticFilesHandler(StaticFilesHandler):
    """Static files gzipped for a client that accepts it, as the production proxy sends them."""

    def get_response(self, request):
        response = super().get_response(request)
        return GZipMiddleware(lambda _request: response).process_response(request, response)


@pytest.fixture
def compressing_server(settings):
    settings.MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *settings.MIDDLEWARE]
    server = LiveServer("127.0.0.1", start=False)
    server.thread.static_handler = CompressingStaticFilesHandler
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_dashboard_is_usable_within_5_s_over_a_slow_link(page, compressing_server, carol, city):
    login(page, compressing_server, "carol")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})  # a first visit
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 400,  # ms
            "downloadThroughput": 400 * 1000 / 8,  # bytes per second
            "uploadThroughput": 400 * 1000 / 8,
        },
    )
    started = time.monotonic()
    page.goto(f"{compressing_server.url}/titles/dashboard/?year={YEAR}", wait_until="commit")
    expect(page.locator("#wards tbody tr").first).to_be_visible(timeout=5_000)
    page.wait_for_function(
        """() => window.Chart
                 && Chart.getChart(document.getElementById('ward-chart'))
                 && Chart.getChart(document.getElementById('trend-chart'))""",
        timeout=5_000,
    )
    expect(page.locator("#ward-chart")).to_be_visible()
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"usable after {elapsed:.1f} s"
    # The link really was slow: one round trip alone takes the emulated latency.
    assert elapsed > 0.4
