"""The overview pages, the base template (navigation, role, language switch) and logging in."""

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import Entity, Family, Kind
from registry.services.entities import entity_create, entity_update
from tests.factories import (
    WardFactory,
    make_citizen,
    make_clan,
    make_community,
    make_family,
    make_unit,
)


@pytest.fixture
def registry(ward_a, ward_b, ward_x):
    """Ward A: 2 areas, 3 families (4 + 5 + 1 members), a clan, a unit, 2 citizens; B and X less."""
    area1 = make_community(ward_a, code="TDP1")
    area2 = make_community(ward_a, code="TDP2")
    clan = make_clan(ward_a, code="DH1")
    family = make_family(ward_a, code="F1", members=4, community=area1, clan=clan)
    make_family(ward_a, code="F2", members=5, community=area2)
    make_family(ward_a, code="F3", members=1, community=area2)
    unit = make_unit(ward_a, code="U1")
    make_citizen(ward_a, code="C1", family=family, unit=unit)
    make_citizen(ward_a, code="C2", family=family)
    make_family(ward_b, code="F1", members=7)  # and its own residential area
    make_family(ward_x, code="F1", members=2)


A_COUNTS = {
    "communities": 2,
    "families": 3,
    "clans": 1,
    "units": 1,
    "citizens": 2,
    "members": 10,
}


def test_ward_user_sees_their_ward_overview(client, alice, ward_a, registry):
    client.force_login(alice)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["ward"] == ward_a
    assert response.context["totals"] == A_COUNTS
    html = response.content.decode()
    assert "Phường Hoàn Kiếm" in html
    # Every count links to its list, filtered to the ward.
    for kind in ("communities", "families", "clans", "units", "citizens"):
        assert f'href="/registry/{kind}/?ward=00070"' in html
    # Staff get the shortcuts to enter data; the official next to them does not.
    assert 'href="/registry/families/new/?ward=00070"' in html


def test_official_sees_the_same_counts_without_entry_links(client, bob, registry):
    client.force_login(bob)
    response = client.get(reverse("home"))
    assert response.context["totals"] == A_COUNTS
    html = response.content.decode()
    assert "/registry/families/new/" not in html
    assert 'href="/registry/import/"' not in html


def test_province_viewer_sees_a_table_of_the_province_wards(client, carol, registry):
    client.force_login(carol)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    rows = {ward.code: counts for ward, counts in response.context["rows"]}
    assert set(rows) == {"00070", "00004"}  # not the other province's ward
    assert rows["00070"] == A_COUNTS
    assert rows["00004"]["families"] == 1
    assert rows["00004"]["members"] == 7
    assert response.context["totals"]["families"] == 4
    assert response.context["totals"]["members"] == 17
    html = response.content.decode()
    assert 'href="/wards/00004/"' in html
    assert "Phường Hòa Bình" not in html


def test_admin_sees_every_ward(client, dave, registry):
    client.force_login(dave)
    response = client.get(reverse("home"))
    assert {ward.code for ward, _counts in response.context["rows"]} == {
        "00070",
        "00004",
        "04825",
    }
    assert response.context["totals"]["families"] == 5


def test_ward_overview_page_for_a_province_viewer(client, carol, ward_a, registry):
    client.force_login(carol)
    response = client.get(reverse("ward_overview", args=["00070"]))
    assert response.status_code == 200
    assert response.context["ward"] == ward_a
    assert response.context["totals"] == A_COUNTS
    assert client.get(reverse("ward_overview", args=["04825"])).status_code == 404


def test_province_table_runs_a_fixed_number_of_queries(client, carol, province, registry):
    client.force_login(carol)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("home")).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(10):
        ward = WardFactory(parent=province)
        make_family(ward, code=f"F{i}")
    assert count() == before


def _counted(entities) -> dict[str, int]:
    """The overview's figures counted directly from the detail rows."""
    counts = entities.aggregate(
        communities=Count("pk", filter=Q(kind=Kind.COMMUNITY)),
        families=Count("pk", filter=Q(kind=Kind.FAMILY)),
        clans=Count("pk", filter=Q(kind=Kind.CLAN)),
        units=Count("pk", filter=Q(kind=Kind.UNIT)),
        citizens=Count("pk", filter=Q(kind=Kind.CITIZEN)),
    )
    counts["members"] = (
        Family.objects.filter(entity__in=entities).aggregate(n=Sum("members"))["n"] or 0
    )
    return counts


def _assert_pages_match_a_direct_count(client, alice, carol, province, ward_a) -> None:
    client.force_login(carol)
    response = client.get(reverse("home"))
    assert response.context["totals"] == _counted(Entity.objects.filter(province=province))
    for ward, counts in response.context["rows"]:
        assert counts == _counted(Entity.objects.filter(ward=ward)), ward.code
    client.force_login(alice)
    response = client.get(reverse("home"))
    assert response.context["totals"] == _counted(Entity.objects.filter(ward=ward_a))


def test_overview_figures_equal_a_direct_count_as_entities_change(
    client, alice, carol, province, ward_a, registry
):
    """The overview reads the tallies; whatever the services write, they equal a recount."""
    _assert_pages_match_a_direct_count(client, alice, carol, province, ward_a)
    area = make_community(ward_a, code="TDP9")
    family = entity_create(
        kind=Kind.FAMILY, ward=ward_a, code="F9", name="Lê Văn Chín", members=6, community=area
    )
    _assert_pages_match_a_direct_count(client, alice, carol, province, ward_a)
    client.force_login(alice)
    assert client.get(reverse("home")).context["totals"]["members"] == A_COUNTS["members"] + 6

    family = Family.objects.select_related("entity").get(pk=family.pk)
    entity_update(obj=family, name="Lê Văn Chín", members=2, community=area, clan=None)
    _assert_pages_match_a_direct_count(client, alice, carol, province, ward_a)
    client.force_login(alice)
    assert client.get(reverse("home")).context["totals"]["members"] == A_COUNTS["members"] + 2

    moved = Family.objects.select_related("entity").get(entity__ward=ward_a, entity__code="F1")
    entity_update(
        obj=moved, name=moved.entity.name, members=moved.members, community=area, clan=moved.clan
    )
    make_citizen(ward_a, code="C9", family=family)
    _assert_pages_match_a_direct_count(client, alice, carol, province, ward_a)


def test_ward_overview_runs_a_fixed_number_of_queries(client, alice, ward_a, registry):
    client.force_login(alice)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("home")).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    area = make_community(ward_a, code="TDP8")
    for i in range(10):
        family = make_family(ward_a, code=f"G{i}", community=area)
        make_citizen(ward_a, code=f"D{i}", family=family)
    assert count() == before


def test_user_without_a_role_gets_a_friendly_page(client, nobody, registry):
    client.force_login(nobody)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "registry/no_role.html"
    html = response.content.decode()
    assert "administrator" in html
    assert "Phường Hoàn Kiếm" not in html


def test_header_shows_role_unit_and_the_right_links(client, alice, bob, ward_a):
    client.force_login(alice)
    html = client.get(reverse("home")).content.decode()
    assert "Association staff" in html
    assert "Phường Hoàn Kiếm" in html
    assert 'href="/registry/import/"' in html
    assert 'href="/admin/"' not in html
    assert f'action="{reverse("logout")}" method="post"' in html

    client.force_login(bob)
    html = client.get(reverse("home")).content.decode()
    assert "Ward official" in html
    assert 'href="/registry/import/"' not in html


def test_admin_link_for_users_who_can_open_the_admin(client, dave):
    dave.is_staff = True
    dave.save(update_fields=["is_staff"])
    client.force_login(dave)
    assert 'href="/admin/"' in client.get(reverse("home")).content.decode()


@pytest.mark.vietnamese
def test_pages_are_vietnamese_by_default_and_switch_to_english(client, alice, ward_a):
    client.force_login(alice)
    assert '<html lang="vi">' in client.get(reverse("home")).content.decode()
    response = client.post(
        reverse("set_language"), {"language": "en", "next": "/registry/families/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/registry/families/"
    html = client.get("/registry/families/").content.decode()
    assert '<html lang="en">' in html
    client.post(reverse("set_language"), {"language": "vi", "next": "/"})
    assert '<html lang="vi">' in client.get("/").content.decode()


def test_language_switch_is_on_every_page_and_posts_to_set_language(client, ward_a):
    html = client.get(reverse("login")).content.decode()
    assert 'action="/i18n/setlang/" method="post"' in html
    assert 'name="language" value="vi"' in html
    assert 'name="language" value="en"' in html


@pytest.mark.vietnamese
def test_login_page_renders_and_login_works(client, alice):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert 'name="username"' in html
    assert 'name="password"' in html

    bad = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert bad.status_code == 200
    assert bad.context["form"].non_field_errors()

    response = client.post(reverse("login"), {"username": "alice", "password": "secret-pass-123"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200

    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_pages_load_only_local_assets(client, alice, ward_a):
    client.force_login(alice)
    html = client.get(reverse("home")).content.decode()
    assert "/static/css/app.css" in html
    assert "/static/js/app.js" in html
    assert "http://" not in html and "https://" not in html
    assert "<script>" not in html and "style=" not in html
