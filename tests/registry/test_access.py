"""Scoping of the registry pages: outsiders get 404 for everything, read-only roles 403 on writes.

One entity of every kind lives in ward A (alice's and bob's ward). eve is staff of ward B next
door, mallory staff in another province, nobody has no grant: for them every page of those
entities does not exist, whatever the URL or method.
"""

import pytest
from django.urls import reverse

from registry.models import Entity
from registry.selectors import KIND_SLUGS
from tests.factories import make_citizen, make_clan, make_community, make_family, make_unit

KINDS = list(KIND_SLUGS)
OUTSIDERS = ["eve", "mallory", "nobody"]

# A form submission that would be valid for the kind, were the user allowed to make it.
EDIT_DATA = {
    "communities": {"name": "Đổi tên", "area_type": "thon"},
    "clans": {"name": "Đổi tên", "head_name": ""},
    "families": {"head_name": "Đổi tên", "members": "3"},
    "units": {"name": "Đổi tên", "unit_type": "school", "staff": "9"},
    "citizens": {"full_name": "Đổi tên", "birth_year": "1990"},
}


@pytest.fixture
def in_ward_a(ward_a):
    """One entity of each kind in ward A, linked together."""
    community = make_community(ward_a, code="TDP1", name="Tổ dân phố Một")
    clan = make_clan(ward_a, code="DH1", name="Dòng họ Lê")
    family = make_family(ward_a, code="HGD1", community=community, clan=clan)
    unit = make_unit(ward_a, code="DV1")
    citizen = make_citizen(ward_a, code="CD1", family=family, unit=unit)
    return {
        "communities": community,
        "clans": clan,
        "families": family,
        "units": unit,
        "citizens": citizen,
    }


def _edit_data(kind, objs):
    data = dict(EDIT_DATA[kind])
    if kind == "families":
        data["community"] = objs["communities"].pk
    return data


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("url_name", ["entity_detail", "entity_edit"])
@pytest.mark.parametrize("kind", KINDS)
def test_outsider_gets_404_for_every_page_of_an_entity(
    client, request, in_ward_a, outsider, url_name, kind
):
    client.force_login(request.getfixturevalue(outsider))
    response = client.get(reverse(url_name, args=[kind, in_ward_a[kind].pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("kind", KINDS)
def test_outsider_post_to_edit_is_404_and_changes_nothing(
    client, request, in_ward_a, outsider, kind
):
    obj = in_ward_a[kind]
    client.force_login(request.getfixturevalue(outsider))
    response = client.post(reverse("entity_edit", args=[kind, obj.pk]), _edit_data(kind, in_ward_a))
    assert response.status_code == 404
    assert Entity.objects.get(pk=obj.pk).name == obj.entity.name


@pytest.mark.parametrize("outsider", ["eve", "mallory"])
@pytest.mark.parametrize("kind", KINDS)
def test_outsider_list_does_not_show_the_entity_and_its_ward_filter_is_404(
    client, request, in_ward_a, ward_a, outsider, kind
):
    client.force_login(request.getfixturevalue(outsider))
    url = reverse("entity_list", args=[kind])
    response = client.get(url)
    assert response.status_code == 200
    assert in_ward_a[kind].entity.code not in response.content.decode()
    assert list(response.context["page"]) == []
    assert client.get(url, {"ward": ward_a.code}).status_code == 404


@pytest.mark.parametrize(
    ("kind", "param", "target"),
    [
        ("families", "community", "communities"),
        ("families", "clan", "clans"),
        ("citizens", "family", "families"),
        ("citizens", "unit", "units"),
    ],
)
def test_list_narrowed_to_an_entity_of_another_ward_is_404(
    client, eve, in_ward_a, kind, param, target
):
    client.force_login(eve)
    response = client.get(reverse("entity_list", args=[kind]), {param: in_ward_a[target].pk})
    assert response.status_code == 404


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_gets_404_for_the_ward_overview(client, request, ward_a, outsider):
    client.force_login(request.getfixturevalue(outsider))
    assert client.get(reverse("ward_overview", args=[ward_a.code])).status_code == 404


@pytest.mark.parametrize("outsider", ["eve", "mallory"])
@pytest.mark.parametrize("kind", KINDS)
def test_staff_cannot_create_in_another_ward(client, request, ward_a, outsider, kind):
    client.force_login(request.getfixturevalue(outsider))
    url = reverse("entity_create", args=[kind]) + f"?ward={ward_a.code}"
    assert client.get(url).status_code == 404
    assert client.post(url, {"code": "NEW", **EDIT_DATA[kind]}).status_code == 404
    assert not Entity.objects.filter(code="NEW").exists()


def test_nobody_sees_nothing(client, nobody, in_ward_a):
    client.force_login(nobody)
    for kind in KINDS:
        response = client.get(reverse("entity_list", args=[kind]))
        assert response.status_code == 200
        assert list(response.context["page"]) == []
    assert client.get(reverse("entity_create", args=["families"])).status_code == 403
    assert client.get(reverse("registry_import")).status_code == 403


@pytest.mark.parametrize("reader", ["bob", "carol"])
@pytest.mark.parametrize("kind", KINDS)
def test_read_only_roles_read_but_get_403_on_create_and_edit(
    client, request, in_ward_a, ward_a, reader, kind
):
    obj = in_ward_a[kind]
    client.force_login(request.getfixturevalue(reader))
    assert client.get(reverse("entity_detail", args=[kind, obj.pk])).status_code == 200
    assert client.get(reverse("entity_list", args=[kind])).status_code == 200

    edit = reverse("entity_edit", args=[kind, obj.pk])
    assert client.get(edit).status_code == 403
    assert client.post(edit, _edit_data(kind, in_ward_a)).status_code == 403
    create = reverse("entity_create", args=[kind]) + f"?ward={ward_a.code}"
    assert client.get(create).status_code == 403
    assert client.post(create, {"code": "NEW", **EDIT_DATA[kind]}).status_code == 403
    assert Entity.objects.get(pk=obj.pk).name == obj.entity.name
    assert not Entity.objects.filter(code="NEW").exists()


@pytest.mark.parametrize("reader", ["bob", "carol", "nobody"])
def test_read_only_roles_get_403_on_import(client, request, reader):
    client.force_login(request.getfixturevalue(reader))
    url = reverse("registry_import")
    assert client.get(url).status_code == 403
    assert client.post(url, {"step": "check", "kind": "communities"}).status_code == 403
    assert client.post(url, {"step": "confirm", "job": "1"}).status_code == 403


@pytest.mark.parametrize("insider", ["alice", "bob", "carol", "dave"])
@pytest.mark.parametrize("kind", KINDS)
def test_insiders_see_the_detail_page(client, request, in_ward_a, insider, kind):
    client.force_login(request.getfixturevalue(insider))
    response = client.get(reverse("entity_detail", args=[kind, in_ward_a[kind].pk]))
    assert response.status_code == 200
    assert in_ward_a[kind].entity.name in response.content.decode()


@pytest.mark.parametrize(
    "url",
    ["/", "/wards/00070/", "/registry/families/", "/registry/families/new/", "/registry/import/"],
)
def test_anonymous_is_sent_to_login(client, ward_a, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_unknown_kind_is_404(client, alice):
    client.force_login(alice)
    assert client.get("/registry/people/").status_code == 404
