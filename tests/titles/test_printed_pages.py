"""A decision's page and the public list read their rows a keyset page at a time.

Both print the same order (by title, then Vietnamese name order, then id); their counts come
from aggregate queries, so neither the page's query count nor its rows grow with the list.
Walking the pages forward shows every row once, in order, numbered on; filters stay on the
page links; a cursor the list did not make is a 400.
"""

from __future__ import annotations

import datetime
import re
from contextlib import contextmanager

import pytest
from django.db import connection
from django.urls import reverse

from registry.models import Kind
from tests.factories import make_clan, make_community, make_family
from tests.titles.factories import registration
from titles.models import Decision, State
from titles.views import review

YEAR = 2025
# Names out of Vietnamese order by code, one a letter that sorts apart (Đ after D).
NAMES = ["Trần Văn Bình", "Đỗ Thị Hoa", "Nguyễn Văn An", "Dương Văn Cường", "Lê Thị Én"]


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(review, "DECISION_PAGE_SIZE", 3)
    monkeypatch.setattr(review, "PUBLIC_PAGE_SIZE", 3)


@pytest.fixture
def areas(ward_a):
    return make_community(ward_a, code="TDP1", name="Tổ 1"), make_community(
        ward_a, code="TDP2", name="Tổ 2"
    )


def _families(ward, areas, n: int, prefix: str = "F"):
    return [
        make_family(
            ward,
            code=f"{prefix}{i:03d}",
            head_name=f"{NAMES[i % len(NAMES)]} {i:03d}",
            community=areas[i % 2],
        ).entity
        for i in range(n)
    ]


def _decision(ward, entities, number: str = "1/QĐ-UBND", **fields) -> Decision:
    decision = Decision.objects.create(
        ward=ward,
        province=ward.parent,
        year=YEAR,
        number=number,
        date=datetime.date(YEAR, 12, 1),
    )
    for i, entity in enumerate(entities):
        registration(
            entity,
            YEAR,
            State.RECOGNIZED,
            decision=decision,
            passed=True,
            outstanding=(entity.kind == Kind.FAMILY and i % 3 == 0),
            **fields,
        )
    return decision


def _printed_order(entities):
    return sorted(entities, key=lambda e: (e.kind, e.sort_key, e.pk))


@contextmanager
def _counted():
    """The SQL of every query run inside, however the request logs them."""
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield statements


def _walk(client, url: str, params: dict) -> tuple[list, list[int]]:
    """Every page of a list by its Next links: the rows and their numbers, page after page."""
    rows, numbers, query = [], [], dict(params)
    for _ in range(50):
        response = client.get(url, query)
        assert response.status_code == 200
        page = response.context["page"]
        page_rows = list(page.rows) if page is not None else list(response.context["rows"])
        rows += page_rows
        numbers += [row.number for row in page_rows]
        links = re.findall(r'href="\?([^"]*)" rel="next"', response.content.decode())
        if not links:
            return rows, numbers
        query = dict(pair.split("=", 1) for pair in links[0].replace("&amp;", "&").split("&"))
        for key, value in params.items():
            assert query[key] == str(value), "the filters stay on the page links"
    raise AssertionError("the pages do not end")


# --- the decision's page ---------------------------------------------------------------------


def test_decision_pages_walk_every_row_once_in_order(client, bob, ward_a, areas, small_pages):
    entities = _families(ward_a, areas, 8) + [
        make_clan(ward_a, code=f"D{i}", name=name).entity
        for i, name in enumerate(["Dòng họ Vũ", "Dòng họ Đặng"])
    ]
    decision = _decision(ward_a, entities)
    client.force_login(bob)
    url = reverse("decision_detail", args=[decision.pk])
    rows, numbers = _walk(client, url, {})
    assert [r.entity_id for r in rows] == [e.pk for e in _printed_order(entities)]
    assert numbers == list(range(1, len(entities) + 1))
    first = client.get(url)
    assert first.context["total"] == 10
    assert {str(label): n for label, n in first.context["by_kind"]} == {
        str(Kind.FAMILY.label): 8,
        str(Kind.CLAN.label): 2,
    }
    assert first.context["outstanding"] == 3  # families 0, 3, 6
    assert len(first.context["page"].rows) == 3


def test_decision_pages_filtered_by_title_and_area(client, bob, ward_a, areas, small_pages):
    families = _families(ward_a, areas, 9)
    entities = families + [make_clan(ward_a, code="D1", name="Dòng họ Vũ").entity]
    decision = _decision(ward_a, entities)
    client.force_login(bob)
    url = reverse("decision_detail", args=[decision.pk])
    area = areas[1]
    rows, _ = _walk(client, url, {"kind": Kind.FAMILY, "area": area.pk})
    expected = [e for e in families if e.family.community_id == area.pk]
    assert [r.entity_id for r in rows] == [e.pk for e in _printed_order(expected)]
    rows, _ = _walk(client, url, {"kind": Kind.CLAN})
    assert [r.entity_id for r in rows] == [entities[-1].pk]
    # The counts are the decision's, whatever the rows shown.
    assert client.get(url, {"kind": Kind.CLAN}).context["total"] == 10


@pytest.mark.parametrize("cursor", ["nonsense", "WyJhIiwxXQ", "WyJ4IiwiZiIsIngiLDFd"])
def test_decision_page_bad_cursor_is_400(client, bob, ward_a, areas, cursor):
    decision = _decision(ward_a, _families(ward_a, areas, 2))
    client.force_login(bob)
    response = client.get(reverse("decision_detail", args=[decision.pk]), {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.content.decode()


def test_decision_page_queries_do_not_grow_with_rows(
    client, bob, ward_a, areas, small_pages, django_assert_max_num_queries
):
    small = _decision(ward_a, _families(ward_a, areas, 2, "S"), number="1")
    large = _decision(ward_a, _families(ward_a, areas, 30, "L"), number="2")
    client.force_login(bob)
    with _counted() as ctx:
        client.get(reverse("decision_detail", args=[small.pk]))
    assert not any("OFFSET" in q for q in ctx)
    page = client.get(reverse("decision_detail", args=[large.pk]))
    with django_assert_max_num_queries(len(ctx)):
        client.get(
            reverse("decision_detail", args=[large.pk]),
            {"cursor": page.context["page"].next_cursor, "n": 4},
        )


# --- the public list ---------------------------------------------------------------------------


def _public(client, **params):
    return client.get(reverse("public_list"), {"year": YEAR, **params})


def _passed(entities):
    for i, entity in enumerate(entities):
        registration(
            entity,
            YEAR,
            State.APPROVED if i % 2 else State.EVALUATED,
            passed=True,
            eval_outstanding=i % 4 == 0,
        )


def test_public_list_pages_by_title_numbered_on(client, bob, ward_a, areas, small_pages):
    families = _families(ward_a, areas, 7)
    clans = [
        make_clan(ward_a, code=f"D{i}", name=f"Dòng họ {n}").entity for i, n in enumerate("ĐB")
    ]
    _passed(families + clans)
    client.force_login(bob)
    rows, numbers = _walk(client, reverse("public_list"), {"year": YEAR, "ward": ward_a.code})
    expected = _printed_order(families + clans)
    assert [r.entity_id for r in rows] == [e.pk for e in expected]
    # Numbered per title, going on across pages: clans first ("clan" < "family").
    assert numbers == [1, 2, 1, 2, 3, 4, 5, 6, 7]
    first = _public(client, ward=ward_a.code)
    html = first.content.decode()
    assert 'id="choose-area"' in html and "TM. BAN CHẤP HÀNH" in html
    # The titles' counts are the whole list's, not the page's.
    assert {r.kind: r.kind_total for r in first.context["rows"]} == {
        Kind.CLAN: 2,
        Kind.FAMILY: 7,
    }


def test_public_list_of_an_area_is_whole(client, bob, ward_a, areas, small_pages):
    families = _families(ward_a, areas, 12)
    _passed(families)
    client.force_login(bob)
    area = areas[0]
    response = _public(client, ward=ward_a.code, area=area.pk, kind=Kind.FAMILY)
    assert response.status_code == 200
    assert response.context["page"] is None
    expected = [e for e in families if e.family.community_id == area.pk]
    rows = response.context["rows"]
    assert [r.entity_id for r in rows] == [e.pk for e in _printed_order(expected)]
    assert [r.number for r in rows] == list(range(1, 7))
    assert 'rel="next"' not in response.content.decode()


def test_public_list_filters_survive_paging(client, bob, ward_a, areas, small_pages):
    families = _families(ward_a, areas, 8)
    _passed(families + [make_clan(ward_a, code="D1", name="Dòng họ Vũ").entity])
    client.force_login(bob)
    params = {"year": YEAR, "ward": ward_a.code, "kind": Kind.FAMILY}
    rows, numbers = _walk(client, reverse("public_list"), params)
    assert [r.entity_id for r in rows] == [e.pk for e in _printed_order(families)]
    assert numbers == list(range(1, 9))


def test_public_list_bad_cursor_is_400(client, bob, ward_a, areas):
    _passed(_families(ward_a, areas, 2))
    client.force_login(bob)
    assert _public(client, ward=ward_a.code, cursor="nonsense").status_code == 400


def test_public_list_queries_do_not_grow_with_rows(
    client, bob, ward_a, areas, small_pages, django_assert_max_num_queries
):
    _passed(_families(ward_a, areas, 2, "S"))
    client.force_login(bob)
    with _counted() as ctx:
        _public(client, ward=ward_a.code)
    assert not any("OFFSET" in q for q in ctx)
    _passed(_families(ward_a, areas, 30, "L"))
    cursor = _public(client, ward=ward_a.code).context["page"].next_cursor
    with django_assert_max_num_queries(len(ctx)):
        _public(client, ward=ward_a.code, cursor=cursor)
