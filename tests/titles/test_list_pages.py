"""The titles' lists page by cursor in Vietnamese name order: the registrations list, the review
queue and a residential area's households.

Each walks forward and back over every row once, in the order of its index (ward, the entity's
place in a Vietnamese list, id), keeps its filters on every page, answers a cursor it did not
make with a 400, and costs the same number of queries whatever the number of rows. The copy of
the entity's sort key on a registration is written by every way a registration is made and
follows a rename.
"""

from __future__ import annotations

import io
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.models import Entity, Kind
from registry.paging import encode
from registry.selectors import SEARCH_TOO_BROAD
from registry.services.entities import entity_update
from registry.services.imports import registry_import
from registry.text import sort_key
from tests.factories import make_clan, make_community, make_family
from tests.titles.factories import registration
from titles.models import Registration, State
from titles.services.imports import registrations_import
from titles.services.signoff import ward_sign_off
from titles.views.review import QUEUE_PAGE_SIZE
from titles.views.staff import LIST_PAGE_SIZE

YEAR = timezone.localdate().year
# Family names, middle names and given names whose Vietnamese order is not their byte order
# (Đ after D, Â after A, the tones), shuffled.
GIVEN = ["An", "Ánh", "Âu", "Bình", "Bích", "Cường", "Dũng", "Đào", "Đức", "Giang", "Hà", "Hải"]
FAMILY_NAMES = ["Nguyễn", "Trần", "Lê", "Đặng", "Đỗ", "Âu", "Ân", "Bùi"]


def _names(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(FAMILY_NAMES)} {rng.choice(['Văn', 'Thị', 'Đức'])} {GIVEN[i % len(GIVEN)]}"
        for i in range(count)
    ]


def _register(ward, names: list[str], *, prefix: str, area=None) -> list[Registration]:
    area = area or make_community(ward, code=f"{prefix}-TDP", name=f"Tổ dân phố {prefix}")
    return [
        registration(
            make_family(ward, code=f"{prefix}{i:03d}", head_name=name, community=area).entity,
            year=YEAR,
        )
        for i, name in enumerate(names)
    ]


def _vietnamese_order(rows: list[Registration]) -> list[int]:
    """The ids in the lists' order: ward, then the name's place in a Vietnamese list, then id."""
    return [
        r.pk
        for r in sorted(rows, key=lambda r: (r.ward_id, sort_key(r.entity.name, person=True), r.pk))
    ]


def _walk(client, url: str, params: dict) -> tuple[list[int], list[list[int]], str]:
    """Every page forward from the first: the ids in order, each page's ids, the last cursor."""
    seen, pages, cursor = [], [], None
    while True:
        response = client.get(url, {**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        page = response.context["page"]
        ids = [r.pk for r in page]
        pages.append(ids)
        seen += ids
        if not page.next_cursor:
            return seen, pages, page.previous_cursor
        cursor = page.next_cursor


def _walk_back(client, url: str, params: dict, cursor: str | None) -> list[list[int]]:
    pages = []
    while cursor:
        page = client.get(url, {**params, "cursor": cursor}).context["page"]
        pages.insert(0, [r.pk for r in page])
        cursor = page.previous_cursor
    return pages


# --- the registrations list -------------------------------------------------------------------


@pytest.fixture
def province_rows(ward_a, ward_b):
    """120 households registered in two wards of the province, and a clan in ward A."""
    rows = _register(ward_a, _names(70, 1), prefix="A") + _register(
        ward_b, _names(50, 2), prefix="B"
    )
    registration(make_clan(ward_a, code="DH1", name="Dòng họ Đỗ").entity, year=YEAR)
    return rows


def test_the_province_list_pages_forward_and_back_over_every_row_once_in_vietnamese_order(
    client, carol, province_rows
):
    client.force_login(carol)
    url = reverse("registration_list")
    params = {"year": YEAR, "kind": Kind.FAMILY}
    seen, pages, back_from = _walk(client, url, params)
    assert len(pages) == 3 and all(len(p) == LIST_PAGE_SIZE for p in pages[:2])
    assert seen == _vietnamese_order(province_rows)
    # Back from the last page by the "previous" links: the same pages.
    assert _walk_back(client, url, params, back_from) == pages[:-1]


def test_the_filters_stay_on_every_page(client, carol, ward_a, province_rows):
    client.force_login(carol)
    url = reverse("registration_list")
    params = {"year": YEAR, "kind": Kind.FAMILY, "ward": ward_a.code}
    first = client.get(url, params)
    html = first.content.decode()
    next_link = html.split('rel="next"')[0].rsplit("href=", 1)[1]
    for kept in ("kind=family", f"ward={ward_a.code}", f"year={YEAR}", "cursor="):
        assert kept in next_link, next_link
    seen, _pages, _back = _walk(client, url, params)
    in_ward_a = [r for r in province_rows if r.ward_id == ward_a.pk]
    assert seen == _vietnamese_order(in_ward_a)  # no household of ward B, no clan


def test_the_whole_list_says_how_many_it_holds_from_the_rollups(client, carol, province_rows):
    from titles.services.rollups import rollups_rebuild

    rollups_rebuild(province_id=province_rows[0].province_id)
    client.force_login(carol)
    url = reverse("registration_list")
    assert "121 registrations" in client.get(url, {"year": YEAR}).content.decode()
    assert "120 registrations" in client.get(url, {"year": YEAR, "kind": "family"}).content.decode()
    # A search or a state has no total (counting it would read all it matches).
    searched = client.get(url, {"year": YEAR, "q": "nguyen"}).content.decode()
    assert "registrations</p>" not in searched.replace("\n", "").replace(" ", "")


def test_a_province_search_by_short_words_only_is_refused_with_a_message(
    client, carol, ward_a, province_rows
):
    client.force_login(carol)
    url = reverse("registration_list")
    response = client.get(url, {"year": YEAR, "q": "an"})
    assert response.status_code == 200
    assert str(SEARCH_TOO_BROAD) in response.content.decode()
    assert list(response.context["page"]) == []
    # One ward is small enough to search by any word.
    narrowed = client.get(url, {"year": YEAR, "q": "an", "ward": ward_a.code})
    assert str(SEARCH_TOO_BROAD) not in narrowed.content.decode()
    assert len(narrowed.context["page"]) > 0


@pytest.mark.parametrize(
    "cursor", ["not-a-cursor!", encode("a", [1, "x"]), encode("z", [1, "x", 2]), "W10"]
)
def test_a_cursor_the_list_did_not_make_is_a_400(client, carol, bob, ward_a, cursor):
    area = make_community(ward_a, code="TDP9", name="Tổ dân phố Chín")
    client.force_login(carol)
    for url in (reverse("registration_list"), reverse("dashboard_area", args=[area.pk])):
        response = client.get(url, {"cursor": cursor})
        assert response.status_code == 400, url
        assert "cursor" in response.content.decode()
    client.force_login(bob)
    response = client.get(reverse("review_queue"), {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.content.decode()


def test_the_list_costs_the_same_queries_whatever_its_rows(
    client, carol, ward_a, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(carol)
    url = reverse("registration_list")
    _register(ward_a, _names(3, 3), prefix="S")
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"year": YEAR})
    _register(ward_a, _names(60, 4), prefix="M")
    with django_assert_max_num_queries(len(few)):
        response = client.get(url, {"year": YEAR})
    assert len(response.context["page"]) == LIST_PAGE_SIZE
    with django_assert_max_num_queries(len(few)):
        client.get(url, {"year": YEAR, "cursor": response.context["page"].next_cursor})


# --- the copy of the sort key -----------------------------------------------------------------


def _listed_names(client, ward) -> list[str]:
    response = client.get(reverse("registration_list"), {"year": YEAR, "ward": ward.code})
    return [r.entity.name for r in response.context["page"]]


def test_a_rename_re_sorts_the_list(client, carol, ward_a):
    rows = _register(ward_a, ["Nguyễn Văn Bình", "Nguyễn Văn Cường", "Nguyễn Văn Dũng"], prefix="R")
    client.force_login(carol)
    assert _listed_names(client, ward_a) == [
        "Nguyễn Văn Bình",
        "Nguyễn Văn Cường",
        "Nguyễn Văn Dũng",
    ]
    family = rows[2].entity.family
    entity_update(obj=family, name="Nguyễn Văn An", members=family.members)
    assert _listed_names(client, ward_a) == ["Nguyễn Văn An", "Nguyễn Văn Bình", "Nguyễn Văn Cường"]
    # An import that renames does the same.
    data = (
        f"ward,code,head_name,members,community\n{ward_a.code},R000,Nguyễn Văn Yến,4,R-TDP\n"
    ).encode()
    report = registry_import(
        file=io.BytesIO(data), filename="ho.csv", kind="families", dry_run=False
    )
    assert not report.errors, report.errors
    assert _listed_names(client, ward_a) == ["Nguyễn Văn An", "Nguyễn Văn Cường", "Nguyễn Văn Yến"]


def test_a_signed_off_year_keeps_its_order_through_a_rename(ward_a, bob):
    [row] = _register(ward_a, ["Nguyễn Văn Bình"], prefix="F")
    ward_sign_off(user=bob, ward=ward_a, year=YEAR)
    family = row.entity.family
    entity_update(obj=family, name="Nguyễn Văn An", members=family.members)
    row.refresh_from_db()
    assert row.sort_key == sort_key("Nguyễn Văn Bình", person=True)
    assert Entity.objects.get(pk=row.entity_id).name == "Nguyễn Văn An"


def test_every_way_of_registering_copies_the_sort_key(ward_a, province):
    from titles.services.registrations import registration_create

    area = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")
    one = make_family(ward_a, code="C1", head_name="Đỗ Thị Ánh", community=area)
    made = registration_create(user=None, entity=one.entity, year=YEAR)
    two = make_family(ward_a, code="C2", head_name="Âu Văn Đức", community=area)
    report = registrations_import(
        file=io.BytesIO(f"kind,ward,code\nfamily,{ward_a.code},C2\n".encode()),
        filename="dang-ky.csv",
        year=YEAR,
        dry_run=False,
    )
    assert not report.errors, report.errors
    stored = {r.entity_id: r.sort_key for r in Registration.objects.all()}
    assert stored[made.entity_id] == one.entity.sort_key == sort_key("Đỗ Thị Ánh", person=True)
    assert stored[two.entity_id] == two.entity.sort_key != ""


# --- the review queue -------------------------------------------------------------------------


def test_the_review_queue_pages_over_every_row_once_and_keeps_its_filters(
    client, bob, ward_a, ward_b
):
    rows = _register(ward_a, _names(60, 5), prefix="Q")
    evaluated = rows[::2]
    Registration.objects.filter(pk__in=[r.pk for r in evaluated]).update(
        state=State.EVALUATED, passed=True
    )
    _register(ward_b, _names(5, 6), prefix="N")
    client.force_login(bob)
    url = reverse("review_queue")
    seen, pages, back_from = _walk(client, url, {"year": YEAR})
    assert len(pages) == 2 and len(pages[0]) == QUEUE_PAGE_SIZE
    assert seen == _vietnamese_order(rows)
    assert _walk_back(client, url, {"year": YEAR}, back_from) == pages[:-1]
    filtered, _pages, _back = _walk(client, url, {"year": YEAR, "state": State.EVALUATED})
    assert filtered == _vietnamese_order(evaluated)
    first = client.get(url, {"year": YEAR, "state": State.EVALUATED}).content.decode()
    assert "30 registrations" in first


def test_the_review_queue_costs_the_same_queries_whatever_its_rows(
    client, bob, ward_a, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(bob)
    url = reverse("review_queue")
    _register(ward_a, _names(3, 7), prefix="S")
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"year": YEAR})
    _register(ward_a, _names(60, 8), prefix="M")
    with django_assert_max_num_queries(len(few)):
        response = client.get(url, {"year": YEAR})
    with django_assert_max_num_queries(len(few)):
        client.get(url, {"year": YEAR, "cursor": response.context["page"].next_cursor})


# --- a residential area's households -----------------------------------------------------------


def test_the_area_households_page_forward_and_back_in_vietnamese_order(client, carol, ward_a):
    area = make_community(ward_a, code="TDP5", name="Tổ dân phố Năm")
    families = [
        make_family(ward_a, code=f"H{i:03d}", head_name=name, community=area)
        for i, name in enumerate(_names(60, 9))
    ]
    client.force_login(carol)
    url = reverse("dashboard_area", args=[area.pk])
    seen, pages, back_from = _walk(client, url, {"year": YEAR})
    expected = sorted(families, key=lambda f: (f.entity.sort_key, f.pk))
    assert seen == [f.pk for f in expected]
    assert _walk_back(client, url, {"year": YEAR}, back_from) == pages[:-1]
