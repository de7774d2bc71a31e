"""The printable public list and the certificates."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from registry.models import Role
from tests.factories import make_clan, make_community, make_family, make_user
from tests.titles.factories import registration
from titles.models import Decision, State

YEAR = 2025


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def oscar(ward_b):
    return make_user("oscar", Role.OFFICIAL, ward_b)


@pytest.fixture
def area(ward_a):
    return make_community(ward_a, code="TDP1", name="Tổ dân phố Một")


@pytest.fixture
def regs(ward_a, ward_b, area):
    def family(code: str, name: str, community=None):
        return make_family(ward_a, code=code, head_name=name, community=community).entity

    return {
        "approved": registration(
            family("F1", "Nguyễn Văn Duyệt", area),
            state=State.APPROVED,
            passed=True,
            points=90,
            eval_outstanding=True,
        ),
        "passed": registration(
            family("F2", "Trần Thị Đạt", area), state=State.EVALUATED, passed=True, points=80
        ),
        "failed": registration(
            family("F3", "Lê Văn Trượt", area), state=State.EVALUATED, passed=False, points=40
        ),
        "registered": registration(family("F4", "Phạm Văn Mới")),
        "rejected": registration(family("F5", "Đỗ Văn Loại"), state=State.REJECTED),
        "elsewhere": registration(
            family("F6", "Vũ Văn Khác"), state=State.APPROVED, passed=True, points=85
        ),
        "clan": registration(
            make_clan(ward_a, code="D1", name="Dòng họ Hoàng").entity,
            state=State.EVALUATED,
            passed=True,
            points=70,
        ),
        "ward_b": registration(
            make_family(ward_b, code="B1", head_name="Người Phường Bên").entity,
            state=State.APPROVED,
            passed=True,
            points=99,
        ),
    }


def _public(client, **params):
    return client.get(reverse("public_list"), {"year": YEAR, **params})


def test_public_list_shows_approved_and_passed_by_title(client, bob, regs, english):
    client.force_login(bob)
    response = _public(client)
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("approved", "passed", "elsewhere", "clan"):
        assert regs[key].entity.name in html
    for key in ("failed", "registered", "rejected", "ward_b"):
        assert regs[key].entity.name not in html
    assert html.index("Learning Family") < html.index("Learning Clan")
    assert "Tổ dân phố Một" in html  # a family's residential area
    assert "css/print.css" in html
    assert "Posted publicly for 10 days, from ____/____/______" in html


def test_public_list_posting_period_and_filters(client, bob, regs, area, english):
    client.force_login(bob)
    response = _public(client, posted_from="2025-11-20", kind="family", area=area.pk)
    html = response.content.decode()
    assert response.context["posted_to"] == datetime.date(2025, 11, 29)
    assert "Posted publicly for 10 days, from 11/20/2025 to 11/29/2025" in html
    names = [r.entity.name for r in response.context["rows"]]
    assert names == ["Nguyễn Văn Duyệt", "Trần Thị Đạt"]


@pytest.mark.parametrize("who", ["alice", "carol", "dave"])
def test_public_list_for_everyone_in_scope(client, request, regs, who):
    client.force_login(request.getfixturevalue(who))
    response = _public(client, ward="00070")
    assert response.status_code == 200
    assert [r.entity.name for r in response.context["rows"]] != []


def test_province_viewer_picks_a_ward_first(client, carol, regs):
    client.force_login(carol)
    response = _public(client)
    assert "titles/review/ward_pick.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "Phường Hoàn Kiếm" in html and "Phường Ba Đình" in html


@pytest.mark.parametrize("who", ["eve", "mallory", "nobody", "oscar"])
def test_public_list_of_another_ward_is_404(client, request, regs, who):
    client.force_login(request.getfixturevalue(who))
    assert _public(client, ward="00070").status_code == 404


def test_nobody_gets_nothing_without_a_ward_either(client, nobody):
    client.force_login(nobody)
    assert _public(client).status_code == 404


def test_public_list_query_count_does_not_grow(
    client, bob, ward_a, area, django_assert_max_num_queries
):
    client.force_login(bob)

    def fill(start: int, count: int) -> None:
        for i in range(start, start + count):
            entity = make_family(ward_a, code=f"Q{i}", community=area).entity
            registration(entity, state=State.APPROVED, passed=True, points=80)

    fill(0, 2)
    with CaptureQueriesContext(connection) as ctx:
        _public(client)
    fill(2, 25)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        response = _public(client)
    assert len(response.context["rows"]) == 27


# --- certificates -----------------------------------------------------------------------------


@pytest.fixture
def recognised(ward_a, area):
    decision = Decision.objects.create(
        ward=ward_a,
        province_id=ward_a.parent_id,
        year=YEAR,
        number="125/QĐ-UBND",
        date=datetime.date(2025, 12, 10),
    )
    family = make_family(ward_a, code="F1", head_name="Nguyễn Văn Vinh", community=area)
    return registration(
        family.entity,
        state=State.RECOGNIZED,
        decision=decision,
        outstanding=True,
        passed=True,
    )


def test_certificate_is_print_ready(client, bob, recognised):
    client.force_login(bob)
    response = client.get(reverse("certificate", args=[recognised.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for expected in (
        "GIẤY CHỨNG NHẬN",
        "Nguyễn Văn Vinh",
        "GIA ĐÌNH HỌC TẬP",
        "Tiêu biểu",
        "125/QĐ-UBND",
        "10/12/2025",
        "năm 2025",
        "PHƯỜNG HOÀN KIẾM",
        "Tổ dân phố Một",
        "css/print.css",
    ):
        assert expected in html, expected


def test_certificate_wording_stays_vietnamese_in_english(client, bob, recognised, english):
    client.force_login(bob)
    html = client.get(reverse("certificate", args=[recognised.pk])).content.decode()
    assert '<html lang="en">' in html
    assert "GIẤY CHỨNG NHẬN" in html and "GIA ĐÌNH HỌC TẬP" in html


def test_certificate_of_a_clan_without_outstanding_mark(client, bob, ward_a, recognised):
    clan = registration(
        make_clan(ward_a, code="D1", name="Dòng họ Hoàng").entity,
        state=State.RECOGNIZED,
        decision=recognised.decision,
    )
    client.force_login(bob)
    html = client.get(reverse("certificate", args=[clan.pk])).content.decode()
    assert "DÒNG HỌ HỌC TẬP" in html and "Dòng họ Hoàng" in html
    assert "Tiêu biểu" not in html


@pytest.mark.parametrize("state", [State.APPROVED, State.EVALUATED, State.REJECTED])
def test_no_certificate_unless_recognised(client, bob, ward_a, state):
    reg = registration(make_family(ward_a, code="X").entity, state=state, passed=True)
    client.force_login(bob)
    assert client.get(reverse("certificate", args=[reg.pk])).status_code == 404


@pytest.mark.parametrize(("who", "status"), [("alice", 200), ("carol", 200), ("dave", 200)])
def test_certificate_for_everyone_in_scope(client, request, recognised, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("certificate", args=[recognised.pk])).status_code == status


@pytest.mark.parametrize("who", ["eve", "mallory", "nobody", "oscar"])
def test_certificate_outsiders_get_404(client, request, recognised, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("certificate", args=[recognised.pk])).status_code == 404
