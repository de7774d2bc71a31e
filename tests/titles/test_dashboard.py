"""The city dashboard: province → ward → residential area → households.

Figures on the pages are the roll-up rows (`titles.selectors.rollup_rows`) worded; scope:
carol (viewer of province 01) sees the province, its wards and areas; ward users (alice, bob,
eve, mallory) are sent to their ward's page; a ward or area outside the scope is a 404, and so
is every dashboard page for nobody (no role: nothing in scope, like every page of the product).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registry.models import AdministrativeUnit, RollupLevel
from tests.factories import WardFactory, make_community, make_family
from tests.titles.factories import registration
from titles import dashboard as figures
from titles.models import State, Target, WardSignOff
from titles.selectors import area_rollup_rows, rollup_rows
from titles.services.rollups import rollups_rebuild

YEAR = 2025


# --- page reading helpers ---------------------------------------------------------------------


class _Tables(HTMLParser):
    """Rows of the page's tables: {table id: [[cell text, ...], ...]} and rows keyed by their
    data-unit / data-household attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.rows_by_key: dict[str, list[str]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._row_key: str | None = None
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id") or ""
            self.tables.setdefault(self._table, [])
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
            self._row_key = attrs.get("data-unit") or attrs.get("data-household")
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table or ""].append(self._row)
            if self._row_key:
                self.rows_by_key[self._row_key] = self._row
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _tables(response) -> _Tables:
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser


def _text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _headline(response, kind: str) -> str:
    """The text of one title's headline card."""
    html = response.content.decode()
    match = re.search(rf'<li class="headline[^"]*" id="headline-{kind}">(.*?)</li>', html, re.S)
    assert match, f"no headline card for {kind}"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match.group(1)))).strip()


def _chart_data(response) -> dict:
    match = re.search(
        r'<script id="dashboard-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "no json_script element"
    return json.loads(match.group(1))


def _url(name: str, *args, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse(name, args=args) + (f"?{query}" if query else "")


# --- data ---------------------------------------------------------------------------------------


@pytest.fixture
def city(province, ward_a, ward_b):
    """Province 01 with targets; ward A: 5 households in two areas, ward B: 2 households.

    2025, families — ward A: registered 4, recognised 3 (one outstanding), rate 60.0 %;
    ward B: registered 1, recognised 1, rate 50.0 %; province: 7, 5, 4, 1 → 57.1 %.
    2024: one recognised household in ward A (province 14.3 %).
    """
    Target.objects.create(unit=province, kind="family", year=YEAR, min_rate=70, max_rate=80)
    Target.objects.create(unit=province, kind="family", year=2030, min_rate=80, max_rate=90)
    area1 = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")
    area2 = make_community(ward_a, code="TDP2", name="Tổ dân phố Hai")
    area9 = make_community(ward_b, code="TDP9", name="Tổ dân phố Chín")
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"]
    households = {
        f"HGD{i}": make_family(ward_a, code=f"HGD{i}", head_name=name, community=area1)
        for i, name in enumerate(names, start=1)
    }
    households["HGD5"] = make_family(ward_a, code="HGD5", head_name="Võ Văn Em", community=area2)
    households["B1"] = make_family(ward_b, code="B1", head_name="Đỗ Thị Giang", community=area9)
    households["B2"] = make_family(ward_b, code="B2", head_name="Hồ Văn Hải", community=area9)
    regs = {
        "HGD1": registration(
            households["HGD1"].entity, year=YEAR, state=State.RECOGNIZED, outstanding=True
        ),
        "HGD2": registration(households["HGD2"].entity, year=YEAR, state=State.RECOGNIZED),
        "HGD3": registration(households["HGD3"].entity, year=YEAR),
        "HGD5": registration(households["HGD5"].entity, year=YEAR, state=State.RECOGNIZED),
        "B1": registration(households["B1"].entity, year=YEAR, state=State.RECOGNIZED),
    }
    registration(households["HGD1"].entity, year=2024, state=State.RECOGNIZED)
    rollups_rebuild(province_id=province.pk)
    return {"areas": (area1, area2, area9), "households": households, "regs": regs}


def _ward_row(response, code: str) -> list[str]:
    return _tables(response).rows_by_key[code]


# --- the small helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "target_min", "year", "expected"),
    [
        (Decimal("57.1"), Decimal("80"), 2025, Decimal("4.6")),  # 22.9 ÷ 5 = 4.58
        (Decimal("60.0"), Decimal("70"), 2027, Decimal("3.3")),  # 10 ÷ 3
        (Decimal("69.5"), Decimal("70"), 2028, Decimal("0.3")),  # 0.25, half up
        (Decimal("0.0"), Decimal("70"), 2029, Decimal("70.0")),  # the last year left
        (Decimal("80.0"), Decimal("80"), 2025, None),  # reached
        (Decimal("91.5"), Decimal("80"), 2025, None),  # beyond
        (Decimal("50.0"), Decimal("80"), 2030, None),  # no year left
        (Decimal("50.0"), Decimal("80"), 2031, None),
        (None, Decimal("80"), 2025, None),  # no entities, no rate
        (Decimal("50.0"), None, 2025, None),  # no 2030 target
    ],
)
def test_yearly_increase_needed(rate, target_min, year, expected):
    assert figures.yearly_increase_needed(rate=rate, target_min=target_min, year=year) == expected


def test_gap_to_target():
    assert figures.gap_to_target(Decimal("57.1"), Decimal("70")) == Decimal("-12.9")
    assert figures.gap_to_target(Decimal("91.5"), Decimal("70")) == Decimal("21.5")
    assert figures.gap_to_target(None, Decimal("70")) is None
    assert figures.gap_to_target(Decimal("50"), None) is None


def test_sort_rows_keeps_missing_values_last_in_both_directions():
    rows = [
        {"unit_name": "Bình", "unit_code": "2", "rate": None, "target_min": None,
         "status": "no_target"},
        {"unit_name": "An", "unit_code": "1", "rate": Decimal("50"), "target_min": Decimal("70"),
         "status": "below"},
        {"unit_name": "Đông", "unit_code": "3", "rate": Decimal("90"), "target_min": Decimal("70"),
         "status": "above"},
    ]  # fmt: skip
    names = [r["unit_name"] for r in figures.sort_rows(rows, "rate", False)]
    assert names == ["An", "Đông", "Bình"]
    names = [r["unit_name"] for r in figures.sort_rows(rows, "rate", True)]
    assert names == ["Đông", "An", "Bình"]
    # Names sort without their diacritics: "Đông" between "Bình" and the end, like "Dong".
    assert [r["unit_name"] for r in figures.sort_rows(rows, "name", False)] == [
        "An",
        "Bình",
        "Đông",
    ]
    assert [r["unit_name"] for r in figures.sort_rows(rows, "status", False)] == [
        "An",
        "Đông",
        "Bình",
    ]
    assert figures.sort_rows(rows, "", False) == rows


def test_target_text_drops_needless_decimals():
    assert figures.target_text(
        {"target_min": Decimal("70.00"), "target_max": Decimal("80.00")}
    ) == ("70–80%")
    assert figures.target_text({"target_min": Decimal("72.50"), "target_max": Decimal("80")}) == (
        "72.5–80%"
    )
    assert figures.target_text({"target_min": None, "target_max": None}) == "–"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("rate", ("rate", False)), ("-rate", ("rate", True)), ("name", ("name", False)),
     ("-bogus", ("", False)), ("", ("", False)), (None, ("", False))],
)  # fmt: skip
def test_parse_sort(value, expected):
    assert figures.parse_sort(value) == expected


# --- the province page ------------------------------------------------------------------------


def test_province_page_shows_the_rollup_rows(client, carol, city):
    client.force_login(carol)
    response = client.get(_url("dashboard", year=YEAR, kind="family"))
    assert response.status_code == 200
    expected = rollup_rows(user=carol, year=YEAR, level=RollupLevel.WARD, unit_code="01",
                           kind="family")  # fmt: skip
    assert [r["unit_code"] for r in expected] == ["00004", "00070"]
    shown = response.context["rows"]
    for row, want in zip(shown, expected, strict=True):
        assert {key: row[key] for key in want} == want
    # The table shows the same figures, worded.
    assert _ward_row(response, "00070") == [
        "Phường Hoàn Kiếm 00070", "5", "4", "3", "1", "60.0%", "75.0%", "70–80%",
        "Below target", "",
    ]  # fmt: skip
    assert _ward_row(response, "00004") == [
        "Phường Ba Đình 00004", "2", "1", "1", "0", "50.0%", "100.0%", "70–80%",
        "Below target", "",
    ]  # fmt: skip
    ward_link = reverse("dashboard_ward", args=["00070"])
    assert f'href="{ward_link}?year={YEAR}&amp;kind=family"' in response.content.decode()


def test_a_units_name_is_escaped_in_the_table(client, carol, city):
    AdministrativeUnit.objects.filter(code="00070").update(name="Phường <b>Hoàn Kiếm</b> & Co")
    client.force_login(carol)
    html = client.get(_url("dashboard", year=YEAR, kind="family")).content.decode()
    assert "Phường &lt;b&gt;Hoàn Kiếm&lt;/b&gt; &amp; Co</a>" in html
    assert 'data-sort="Phường &lt;b&gt;Hoàn Kiếm&lt;/b&gt; &amp; Co"' in html
    assert "<b>Hoàn Kiếm</b>" not in html


def test_province_headline_gap_and_2030_increase(client, carol, city):
    client.force_login(carol)
    response = client.get(_url("dashboard", year=YEAR))
    province_rows = rollup_rows(user=carol, year=YEAR, level=RollupLevel.PROVINCE, unit_code="01")
    family = next(r for r in province_rows if r["kind"] == "family")
    assert (family["entities"], family["recognized"], family["rate"]) == (7, 4, Decimal("57.1"))
    card = _headline(response, "family")
    assert "57.1%" in card
    assert "Below target" in card
    assert "70–80%" in card
    assert "−12.9 points" in card  # gap to the 2025 minimum
    assert "Needed each year to reach the 2030 target (80%) +4.6 points" in card
    assert "4 of 7" in card
    # Titles without figures still have their card, saying so.
    assert "No figures yet." in _headline(response, "clan")


def test_no_2030_increase_without_a_2030_target_or_once_reached(client, carol, city, province):
    client.force_login(carol)
    Target.objects.filter(year=2030).delete()
    # The plan's last named range (2025: 70–80 %) stays in force in 2030.
    card = _headline(client.get(_url("dashboard", year=YEAR)), "family")
    assert "Needed each year to reach the 2030 target (70%) +2.6 points" in card
    Target.objects.all().delete()
    card = _headline(client.get(_url("dashboard", year=YEAR)), "family")
    assert "Needed each year" not in card
    Target.objects.create(unit=province, kind="family", year=2030, min_rate=50, max_rate=60)
    card = _headline(client.get(_url("dashboard", year=YEAR)), "family")
    assert "Needed each year" not in card  # 57.1 % already reaches 50 %


def test_trend_has_every_year_with_figures(client, carol, city):
    client.force_login(carol)
    response = client.get(_url("dashboard", year=YEAR))
    # Families, and the residential areas (entities, none registered: 0 %).
    assert _tables(response).tables["trend"] == [
        ["2024", "14.3%", "0.0%"],
        ["2025", "57.1%", "0.0%"],
    ]
    assert "Years with figures: 2024 · 2025" in _text(response)


def test_chart_data_is_written_with_json_script(client, carol, city):
    client.force_login(carol)
    response = client.get(_url("dashboard", year=YEAR, kind="family"))
    html = response.content.decode()
    assert '<canvas id="ward-chart"' in html
    assert 'src="/static/vendor/chartjs/chart.umd.min.js"' in html
    assert 'src="/static/js/dashboard.js"' in html
    # No inline script: the only <script> elements without src are JSON data.
    for attrs in re.findall(r"<script\b([^>]*)>", html):
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
    data = _chart_data(response)
    assert data["wards"]["labels"] == ["Phường Hoàn Kiếm", "Phường Ba Đình"]  # best first
    assert data["wards"]["rates"] == [60.0, 50.0]
    assert data["wards"]["statuses"] == ["below", "below"]
    assert data["wards"]["band"] == {"min": 70.0, "max": 80.0}
    assert data["trend"]["years"] == ["2024", "2025"]
    assert data["trend"]["series"] == [
        {"label": "Learning Family", "rates": [14.3, 57.1]},
        {"label": "Learning Community", "rates": [0.0, 0.0]},
    ]
    assert data["percent"] == "{value}%"


@pytest.mark.parametrize(
    ("sort", "order", "aria"),
    [
        ("", ["00004", "00070"], None),
        ("rate", ["00004", "00070"], ("rate", "ascending")),
        ("-rate", ["00070", "00004"], ("rate", "descending")),
        ("-entities", ["00070", "00004"], ("entities", "descending")),
        ("name", ["00004", "00070"], ("name", "ascending")),  # Ba Đình, Hoàn Kiếm
        ("-name", ["00070", "00004"], ("name", "descending")),
        ("nonsense", ["00004", "00070"], None),
    ],
)
def test_sort_param_orders_the_ward_table(client, carol, city, sort, order, aria):
    client.force_login(carol)
    response = client.get(_url("dashboard", year=YEAR, kind="family", sort=sort))
    assert [row["unit_code"] for row in response.context["rows"]] == order
    html = response.content.decode()
    assert re.findall(r'<tr data-unit="([^"]+)"', html) == order
    sorted_headings = re.findall(r'data-sort-key="(\w+)"[^>]*aria-sort="(\w+)"', html)
    assert sorted_headings == ([aria] if aria else [])


def test_heading_links_toggle_the_direction(client, carol, city):
    client.force_login(carol)
    html = client.get(_url("dashboard", year=YEAR, kind="family", sort="rate")).content.decode()
    assert re.search(r'data-sort-key="rate"[^>]*><a href="\?[^"]*sort=-rate', html)
    assert re.search(r'data-sort-key="entities"[^>]*><a href="\?[^"]*sort=entities', html)


def test_signed_off_wards_are_marked(client, carol, bob, city, ward_a, province):
    WardSignOff.objects.create(ward=ward_a, province=province, year=YEAR, action="sign_off",
                               user=bob)  # fmt: skip
    client.force_login(carol)
    response = client.get(_url("dashboard", year=YEAR, kind="family"))
    assert _ward_row(response, "00070")[-1] == "✓ Signed off"
    assert _ward_row(response, "00004")[-1] == ""
    ward_page = client.get(_url("dashboard_ward", "00070", year=YEAR))
    assert "were signed off on" in _text(ward_page)
    assert "signed off" not in _text(client.get(_url("dashboard_ward", "00070", year=2024)))


def test_bad_filters_are_shown_and_the_defaults_used(client, carol, city):
    client.force_login(carol)
    response = client.get(reverse("dashboard") + "?year=abc&kind=dragon")
    assert response.status_code == 200
    assert response.context["kind"] == "family"
    assert response.context["form"].errors.keys() == {"year", "kind"}
    assert 'class="errors"' in response.content.decode()


def test_the_form_shows_this_year_and_learning_family_by_default(client, carol, city):
    client.force_login(carol)
    response = client.get(reverse("dashboard"))
    this_year = timezone.localdate().year
    assert response.context["year"] == this_year
    html = response.content.decode()
    assert f'name="year" value="{this_year}"' in html
    assert '<option value="family" selected>' in html


def test_a_title_without_figures_says_so(client, carol, city):
    client.force_login(carol)
    response = client.get(_url("dashboard", year=YEAR, kind="unit"))
    assert response.context["rows"] == []
    assert "No figures for this title and year yet." in _text(response)
    assert '<canvas id="ward-chart"' not in response.content.decode()


@pytest.mark.vietnamese
def test_vietnamese_first_with_its_number_format(client, carol, city):
    client.force_login(carol)
    response = client.get(_url("dashboard", year=YEAR, kind="family"))
    assert response.wsgi_request.LANGUAGE_CODE == "vi"
    row = _ward_row(response, "00070")
    assert row[5].startswith("60,0") and row[5].endswith("%")
    assert "57,1" in _headline(response, "family")
    assert _chart_data(response)["wards"]["rates"] == [60.0, 50.0]  # data stays plain numbers


# --- scope --------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_log_in(client, city):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("who", "ward"), [("bob", "00070"), ("alice", "00070"),
                                           ("eve", "00004"), ("mallory", "04825")])  # fmt: skip
def test_ward_users_are_sent_to_their_ward(client, request, city, who, ward):
    client.force_login(request.getfixturevalue(who))
    response = client.get(_url("dashboard", year=YEAR, kind="clan"))
    assert response.status_code == 302
    assert response["Location"] == _url("dashboard_ward", ward, year=YEAR, kind="clan")
    assert client.get(response["Location"]).status_code == 200


def test_viewer_sees_her_province_and_drills_down(client, carol, city):
    client.force_login(carol)
    area1 = city["areas"][0]
    assert client.get(reverse("dashboard")).context["province"]["code"] == "01"
    assert client.get(reverse("dashboard_ward", args=["00070"])).status_code == 200
    assert client.get(reverse("dashboard_area", args=[area1.pk])).status_code == 200


def test_global_admin_picks_a_province(client, dave, city, ward_x):
    client.force_login(dave)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert [p["code"] for p in response.context["provinces"]] == ["01", "17"]
    response = client.get(_url("dashboard", province="01", year=YEAR))
    assert response.context["province"]["code"] == "01"
    assert [r["unit_code"] for r in response.context["rows"]] == ["00004", "00070"]
    assert client.get(_url("dashboard", province="99")).status_code == 404
    # The way back up from a ward names the province.
    ward_page = client.get(_url("dashboard_ward", "00070", year=YEAR))
    assert f'href="{reverse("dashboard")}?year={YEAR}&amp;kind=family&amp;province=01"' in (
        ward_page.content.decode()
    )


@pytest.mark.parametrize("who", ["eve", "mallory", "nobody"])
def test_outsiders_get_404_on_ward_a_and_its_areas(client, request, city, who):
    client.force_login(request.getfixturevalue(who))
    area1 = city["areas"][0]
    assert client.get(reverse("dashboard_ward", args=["00070"])).status_code == 404
    assert client.get(reverse("dashboard_area", args=[area1.pk])).status_code == 404


def test_carol_gets_404_outside_her_province(client, carol, city, ward_x):
    client.force_login(carol)
    other_area = make_community(ward_x, code="K1", name="Khu Một")
    assert client.get(reverse("dashboard_ward", args=["04825"])).status_code == 404
    assert client.get(reverse("dashboard_area", args=[other_area.pk])).status_code == 404


def test_nobody_gets_404_on_the_dashboard(client, nobody, city):
    """No role, nothing in scope: the same 404 as for any page outside the scope (the home page
    is where a user without a role is told so)."""
    client.force_login(nobody)
    assert client.get(reverse("dashboard")).status_code == 404


def test_the_nav_links_to_the_dashboard_for_users_with_a_role(client, carol, nobody, city):
    client.force_login(carol)
    assert f'href="{reverse("dashboard")}"' in client.get(reverse("home")).content.decode()
    client.force_login(nobody)
    assert f'href="{reverse("dashboard")}"' not in client.get(reverse("home")).content.decode()


# --- the ward page ----------------------------------------------------------------------------


def test_ward_page_shows_its_areas_rollup_rows(client, bob, city):
    client.force_login(bob)
    area1, area2, _ = city["areas"]
    response = client.get(_url("dashboard_ward", "00070", year=YEAR, kind="family"))
    assert response.status_code == 200
    expected = rollup_rows(user=bob, year=YEAR, level=RollupLevel.COMMUNITY, unit_code="00070",
                           kind="family")  # fmt: skip
    shown = response.context["rows"]
    for row, want in zip(shown, expected, strict=True):
        assert {key: row[key] for key in want} == want
    assert _ward_row(response, "00070/TDP1")[:9] == [
        "Tổ dân phố Một 00070/TDP1", "4", "3", "2", "1", "50.0%", "66.7%", "70–80%",
        "Below target",
    ]  # fmt: skip
    assert _ward_row(response, "00070/TDP2")[5] == "100.0%"
    assert _ward_row(response, "00070/TDP2")[8] == "Above target"
    html = response.content.decode()
    assert f'href="{reverse("dashboard_area", args=[area1.pk])}?year={YEAR}&amp;kind=family"' in (
        html
    )
    assert "60.0%" in _headline(response, "family")  # the ward's own headline
    # A ward user has no province page to go back to.
    assert response.context["province_url"] == ""


def test_ward_page_for_a_title_areas_do_not_count(client, bob, city):
    client.force_login(bob)
    response = client.get(_url("dashboard_ward", "00070", year=YEAR, kind="clan"))
    assert response.context["rows"] == []
    assert "choose Learning Family" in _text(response)


# --- the area page ----------------------------------------------------------------------------


def test_area_page_lists_households_with_their_state(client, carol, city):
    client.force_login(carol)
    area1 = city["areas"][0]
    households, regs = city["households"], city["regs"]
    response = client.get(_url("dashboard_area", area1.pk, year=YEAR))
    assert response.status_code == 200
    rows = _tables(response).rows_by_key
    hh = {code: str(households[code].pk) for code in ("HGD1", "HGD2", "HGD3", "HGD4")}
    assert rows[hh["HGD1"]] == ["Nguyễn Văn An", "HGD1", "4", "Recognised", "★ Outstanding"]
    assert rows[hh["HGD2"]] == ["Trần Thị Bình", "HGD2", "4", "Recognised", ""]
    assert rows[hh["HGD3"]] == ["Lê Văn Cường", "HGD3", "4", "Registered", ""]
    assert rows[hh["HGD4"]] == ["Phạm Thị Dung", "HGD4", "4", "not registered", ""]
    assert len(rows) == 4  # only this area's households
    html = response.content.decode()
    assert reverse("entity_detail", args=["families", households["HGD4"].pk]) in html
    assert reverse("registration_detail", args=[regs["HGD1"].pk]) in html
    # The area's figures are its roll-up rows.
    card = _headline(response, "family")
    assert "50.0%" in card and "2 of 4" in card
    # Another year: the same households, their state in that year.
    response = client.get(_url("dashboard_area", area1.pk, year=2024))
    rows = _tables(response).rows_by_key
    assert rows[hh["HGD1"]][3:] == ["Recognised", ""]
    assert rows[hh["HGD2"]][3] == "not registered"


@pytest.mark.parametrize("year", [YEAR, 2024])
def test_an_areas_rows_are_its_rows_among_its_wards(carol, city, year):
    """The area page works out one area's rows; they are the ward's rows of that area."""
    ward_rows = rollup_rows(user=carol, year=year, level=RollupLevel.COMMUNITY, unit_code="00070")
    for code in ("00070/TDP1", "00070/TDP2", "00070/NONE"):
        rows = area_rollup_rows(user=carol, year=year, ward_code="00070", area_code=code)
        assert rows == [row for row in ward_rows if row["unit_code"] == code]
    assert area_rollup_rows(user=carol, year=YEAR, ward_code="00070", area_code="00070/TDP1")


def test_a_new_area_shows_on_the_next_request(client, carol, city, ward_a):
    """The units a page reads are kept for that request only."""
    client.force_login(carol)
    url = _url("dashboard_ward", "00070", year=YEAR, kind="family")
    assert "00070/TDP3" not in _tables(client.get(url)).rows_by_key
    area = make_community(ward_a, code="TDP3", name="Tổ dân phố Ba")
    registration(make_family(ward_a, code="HGD6", community=area).entity, year=YEAR)
    rollups_rebuild(province_id=ward_a.parent_id)
    assert _ward_row(client.get(url), "00070/TDP3")[:3] == ["Tổ dân phố Ba 00070/TDP3", "1", "1"]


def test_area_page_is_paginated_by_50(client, carol, ward_a):
    area = make_community(ward_a, code="TDP7", name="Tổ dân phố Bảy")
    for i in range(52):
        make_family(ward_a, code=f"H{i:02d}", head_name=f"Hộ {i:02d}", community=area)
    client.force_login(carol)
    first = client.get(reverse("dashboard_area", args=[area.pk]))
    assert len(_tables(first).tables["households"]) == 50
    assert "52 households" in first.content.decode()
    cursor = first.context["page"].next_cursor
    second = client.get(reverse("dashboard_area", args=[area.pk]), {"cursor": cursor})
    assert len(_tables(second).tables["households"]) == 2
    assert [row[1] for row in _tables(second).tables["households"]] == ["H50", "H51"]


# --- queries ------------------------------------------------------------------------------------

# Whatever the number of wards, areas or households: session, user, grant, the roll-up reads
# (5 per call of rollup_rows, one more call per further year of the trend), sign-offs, years.
QUERY_BUDGET = 30


def _grow(province, wards: int, start: int) -> None:
    for n in range(start, start + wards):
        ward = WardFactory(code=f"1{n:04d}", name=f"Phường Số {n}", parent=province)
        area = make_community(ward, code="TDP1", name="Tổ dân phố Một")
        for i in range(2):
            family = make_family(ward, code=f"H{i}", head_name=f"Hộ {i}", community=area)
            state = State.RECOGNIZED if i == 0 else State.REGISTERED
            registration(family.entity, year=YEAR, state=state)
            registration(family.entity, year=YEAR - 1, state=state)
    rollups_rebuild(province_id=province.pk)


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_wards(
    client, carol, province, django_assert_max_num_queries
):
    client.force_login(carol)
    url = _url("dashboard", year=YEAR, kind="family", sort="-rate")
    _grow(province, 3, 0)
    with django_assert_max_num_queries(QUERY_BUDGET):
        client.get(url)
    three = _count(client, url)
    _grow(province, 7, 3)
    with django_assert_max_num_queries(QUERY_BUDGET):
        response = client.get(url)
    assert len(response.context["rows"]) == 10
    assert _count(client, url) == three


def test_ward_and_area_pages_query_count_does_not_grow(client, carol, ward_a):
    client.force_login(carol)
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")

    def add(households: int, start: int) -> None:
        other = make_community(ward_a, code=f"TDPX{start}", name=f"Tổ {start}")
        for i in range(start, start + households):
            family = make_family(ward_a, code=f"H{i}", head_name=f"Hộ {i}", community=area)
            registration(family.entity, year=YEAR, state=State.RECOGNIZED, outstanding=i % 2 == 0)
            make_family(ward_a, code=f"O{i}", head_name=f"Hộ khác {i}", community=other)
        rollups_rebuild(province_id=ward_a.parent_id)

    ward_url = _url("dashboard_ward", "00070", year=YEAR)
    area_url = _url("dashboard_area", area.pk, year=YEAR)
    add(2, 0)
    few = (_count(client, ward_url), _count(client, area_url))
    add(8, 2)
    assert (_count(client, ward_url), _count(client, area_url)) == few
    assert max(few) <= QUERY_BUDGET
