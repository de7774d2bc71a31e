"""The five list pages: scope, diacritics-insensitive search, filters, pagination, query counts."""

import re
from html import unescape
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import Unit
from tests.factories import make_citizen, make_clan, make_community, make_family, make_unit

KINDS = ["communities", "families", "clans", "units", "citizens"]


def _names(response) -> list[str]:
    return [row.entity.name for row in response.context["page"]]


def _list(client, kind, **params):
    return client.get(reverse("entity_list", args=[kind]), params)


@pytest.fixture
def people(ward_a, ward_b):
    """Citizens whose names differ only in case and diacritics, and one in the next ward."""
    make_citizen(ward_a, code="P1", full_name="Nguyễn Văn An")
    make_citizen(ward_a, code="P2", full_name="NGUYỄN VĂN BÌNH")
    make_citizen(ward_a, code="P3", full_name="Trần Thị Bình")
    make_citizen(ward_a, code="P4", full_name="Đinh Thị Hoa")
    make_citizen(ward_b, code="P5", full_name="Nguyễn Văn Cường")


def test_staff_sees_only_their_ward(client, alice, people):
    client.force_login(alice)
    response = _list(client, "citizens")
    assert response.status_code == 200
    assert sorted(_names(response)) == sorted(
        ["Nguyễn Văn An", "NGUYỄN VĂN BÌNH", "Trần Thị Bình", "Đinh Thị Hoa"]
    )
    assert response.context["show_ward"] is False


def test_search_is_diacritics_and_case_insensitive_and_every_word_must_match(client, alice, people):
    client.force_login(alice)
    found = _names(_list(client, "citizens", q="nguyen van"))
    assert sorted(found) == ["NGUYỄN VĂN BÌNH", "Nguyễn Văn An"]
    # The other ward's Nguyễn Văn Cường is not alice's to find.
    assert "Nguyễn Văn Cường" not in found
    assert _names(_list(client, "citizens", q="  nguyễn   VĂN  bình ")) == ["NGUYỄN VĂN BÌNH"]
    assert _names(_list(client, "citizens", q="dinh")) == ["Đinh Thị Hoa"]
    assert _names(_list(client, "citizens", q="binh tran")) == ["Trần Thị Bình"]
    assert _names(_list(client, "citizens", q="P3")) == ["Trần Thị Bình"]
    assert _names(_list(client, "citizens", q="nguyen xyz")) == []
    # Words match anywhere and in any order: "van nguyen" finds the same people.
    assert sorted(_names(_list(client, "citizens", q="van nguyen"))) == sorted(found)


def test_province_viewer_searches_the_whole_province_only(client, carol, people, ward_x):
    make_citizen(ward_x, code="P9", full_name="Nguyễn Văn Xa")
    client.force_login(carol)
    response = _list(client, "citizens", q="nguyen van")
    assert sorted(_names(response)) == ["NGUYỄN VĂN BÌNH", "Nguyễn Văn An", "Nguyễn Văn Cường"]
    assert response.context["show_ward"] is True


def test_ward_filter(client, carol, dave, people, ward_b, ward_x):
    client.force_login(carol)
    assert _names(_list(client, "citizens", ward=ward_b.code)) == ["Nguyễn Văn Cường"]
    # A ward outside the scope is not an empty list but a page that does not exist.
    assert _list(client, "citizens", ward=ward_x.code).status_code == 404
    assert _list(client, "citizens", ward="99999").status_code == 404
    client.force_login(dave)
    assert _list(client, "citizens", ward=ward_x.code).status_code == 200


def test_family_filters_by_residential_area_and_clan(client, alice, ward_a):
    area1 = make_community(ward_a, code="TDP1", name="Tổ 1")
    area2 = make_community(ward_a, code="TDP2", name="Tổ 2")
    clan = make_clan(ward_a, code="DH1")
    make_family(ward_a, code="F1", head_name="Một", community=area1, clan=clan)
    make_family(ward_a, code="F2", head_name="Hai", community=area2, clan=clan)
    make_family(ward_a, code="F3", head_name="Ba", community=area2)
    client.force_login(alice)
    assert _names(_list(client, "families", community=area2.pk)) == ["Ba", "Hai"]
    assert _names(_list(client, "families", clan=clan.pk)) == ["Hai", "Một"]
    response = _list(client, "families", community=area2.pk, clan=clan.pk)
    assert _names(response) == ["Hai"]
    assert [o.pk for o in response.context["narrowed_to"]] == [area2.pk, clan.pk]
    # A malformed filter is shown as an error and left out, not a server error.
    response = _list(client, "families", community="abc")
    assert response.status_code == 200
    assert len(_names(response)) == 3
    assert response.context["form"].errors


def test_unit_type_and_citizen_filters(client, alice, ward_a):
    school = make_unit(ward_a, code="U1", name="Trường A", unit_type=Unit.UnitType.SCHOOL)
    make_unit(ward_a, code="U2", name="Công ty B", unit_type=Unit.UnitType.ENTERPRISE)
    family = make_family(ward_a, code="F1")
    make_citizen(ward_a, code="C1", full_name="Có hộ", family=family)
    make_citizen(ward_a, code="C2", full_name="Có đơn vị", unit=school)
    client.force_login(alice)
    assert _names(_list(client, "units", unit_type="school")) == ["Trường A"]
    assert _names(_list(client, "citizens", family=family.pk)) == ["Có hộ"]
    assert _names(_list(client, "citizens", unit=school.pk)) == ["Có đơn vị"]


def _cursor(page: str, rel: str) -> str | None:
    found = re.search(rf'href="\?([^"]*)" rel="{rel}"', page)
    if found is None:
        return None
    return parse_qs(unescape(found.group(1)))["cursor"][0]


def test_pages_go_by_cursor_and_keep_the_query_string(client, alice, ward_a):
    area = make_community(ward_a, code="TDP1")
    for i in range(52):
        make_family(ward_a, code=f"F{i:02d}", head_name=f"Nguyễn Hộ {i:02d}", community=area)
    make_family(ward_a, code="OTHER", head_name="Trần Khác", community=area)
    client.force_login(alice)
    first = _list(client, "families", q="nguyen")
    page = first.content.decode()
    assert len(first.context["page"]) == 50
    assert _cursor(page, "prev") is None
    assert re.search(r'href="\?q=nguyen&amp;cursor=[^"]+" rel="next"', page)
    second = _list(client, "families", q="nguyen", cursor=_cursor(page, "next"))
    shown = [row.entity.code for row in first.context["page"]] + [
        row.entity.code for row in second.context["page"]
    ]
    # Every match once, in the list's order (Vietnamese order of the heads' names), none other.
    assert shown == [f"F{i:02d}" for i in range(52)]
    assert _cursor(second.content.decode(), "next") is None
    back = _list(client, "families", q="nguyen", cursor=_cursor(second.content.decode(), "prev"))
    assert [row.entity.code for row in back.context["page"]] == shown[:50]
    assert "First page" in second.content.decode()


def test_a_cursor_not_made_by_the_list_is_a_400_naming_it(client, alice, ward_a):
    client.force_login(alice)
    for bad in ("abc", "W10=", "WyJ4IiwxLDIsM10"):
        response = _list(client, "families", cursor=bad)
        assert response.status_code == 400
        assert "cursor" in response.content.decode()


def test_the_whole_list_is_counted_from_the_tallies_and_a_search_is_not(client, carol, ward_a):
    for i in range(3):
        make_family(ward_a, code=f"F{i}", head_name=f"Nguyễn Hộ {i}")
    client.force_login(carol)
    assert _list(client, "families").context["total"] == 3
    assert "3 entries" in _list(client, "families").content.decode()
    assert _list(client, "families", q="nguyen").context["total"] is None


def test_short_words_alone_are_refused_across_a_province_but_not_in_one_ward(
    client, carol, alice, ward_a
):
    make_family(ward_a, code="F1", head_name="Lê Văn Hà")
    client.force_login(carol)
    refused = _list(client, "families", q="le ha")
    assert refused.status_code == 200
    assert list(refused.context["page"]) == []
    assert "longer word" in refused.content.decode()
    # A longer word narrows the search: the short ones then only filter what it found.
    assert [r.entity.code for r in _list(client, "families", q="le van").context["page"]] == ["F1"]
    # One ward is small enough to search by any word.
    assert len(_list(client, "families", q="le ha", ward=ward_a.code).context["page"]) == 1
    client.force_login(alice)
    assert len(_list(client, "families", q="le").context["page"]) == 1


def _fill(ward, n: int, offset: int = 0) -> None:
    """n linked rows of every kind in `ward`."""
    for i in range(offset, offset + n):
        area = make_community(ward, code=f"TDP{i}", name=f"Tổ {i}")
        clan = make_clan(ward, code=f"DH{i}", head_name="Trưởng họ")
        family = make_family(ward, code=f"F{i}", community=area, clan=clan)
        unit = make_unit(ward, code=f"U{i}")
        make_citizen(ward, code=f"C{i}", family=family, unit=unit)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("who", ["alice", "carol"])
def test_list_query_count_does_not_grow_with_rows(
    client, request, django_assert_max_num_queries, ward_a, ward_b, kind, who
):
    client.force_login(request.getfixturevalue(who))
    url = reverse("entity_list", args=[kind]) + "?q=to+nguyen"
    _fill(ward_a, 2)
    _fill(ward_b, 2)
    few = _queries(client, reverse("entity_list", args=[kind]))
    _fill(ward_a, 20, offset=2)
    _fill(ward_b, 20, offset=2)
    many = _queries(client, reverse("entity_list", args=[kind]))
    assert few == many
    with django_assert_max_num_queries(many):
        client.get(url)
    with django_assert_max_num_queries(9):
        client.get(reverse("entity_list", args=[kind]))
