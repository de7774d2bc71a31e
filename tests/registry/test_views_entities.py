"""Detail, create and edit pages: forms, errors next to the field, duplicate codes, ward choice."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import Citizen, Clan, Community, Entity, Family, Kind, Unit
from tests.factories import make_citizen, make_clan, make_community, make_family, make_unit


def _create(client, kind, data, ward=None):
    url = reverse("entity_create", args=[kind])
    if ward is not None:
        url += f"?ward={ward.code}"
    return client.post(url, data)


@pytest.fixture
def area_a(ward_a):
    return make_community(ward_a, code="TDP1", name="Tổ dân phố Một")


@pytest.fixture
def area_b(ward_b):
    return make_community(ward_b, code="TDP9", name="Tổ dân phố Chín")


def test_staff_creates_a_family(client, alice, ward_a, area_a, area_b):
    client.force_login(alice)
    form_page = client.get(reverse("entity_create", args=["families"]))
    assert form_page.status_code == 200
    html = form_page.content.decode()
    # The one ward is fixed; its residential areas are searched for, never listed in full.
    assert "Phường Hoàn Kiếm" in html
    assert 'name="ward"' not in html
    assert "<option" not in html.split('name="community"')[1].split("</div>")[0]
    assert 'data-search="/registry/communities/search/?ward=00070"' in html
    assert "Tổ dân phố Chín" not in html

    response = _create(
        client,
        "families",
        {"code": " HGD7 ", "head_name": "Nguyễn Văn Bảy", "members": "5", "community": "TDP1"},
    )
    family = Family.objects.select_related("entity").get(entity__code="HGD7")
    assert response.status_code == 302
    assert response["Location"] == reverse("entity_detail", args=["families", family.pk])
    assert family.entity.ward == ward_a
    assert family.entity.name == "Nguyễn Văn Bảy"
    assert family.entity.search_text == "nguyen van bay hgd7"
    assert family.members == 5 and family.community == area_a and family.clan is None
    assert "Nguyễn Văn Bảy" in str(list(get_messages(response.wsgi_request))[0])


@pytest.mark.parametrize(
    ("kind", "data", "check"),
    [
        (
            "communities",
            {"code": "T2", "name": "Thôn Hai", "area_type": "thon"},
            lambda o: isinstance(o, Community) and o.area_type == "thon",
        ),
        (
            "clans",
            {"code": "D2", "name": "Dòng họ Phạm", "head_name": "Phạm Văn Trưởng"},
            lambda o: isinstance(o, Clan) and "pham van truong" in o.entity.search_text,
        ),
        (
            "units",
            {"code": "U2", "name": "Trường Mầm non", "unit_type": "school", "staff": "25"},
            lambda o: isinstance(o, Unit) and o.staff == 25 and o.unit_type == "school",
        ),
        (
            "citizens",
            {"code": "C2", "full_name": "Lê Thị Hai", "birth_year": "1990", "family": ""},
            lambda o: isinstance(o, Citizen) and o.birth_year == 1990 and o.family is None,
        ),
    ],
)
def test_staff_creates_each_kind(client, alice, ward_a, kind, data, check):
    client.force_login(alice)
    response = _create(client, kind, data)
    assert response.status_code == 302, response.context["form"].errors
    entity = Entity.objects.get(code=data["code"])
    obj = getattr(entity, {"communities": "community"}.get(kind, kind[:-1]))
    assert entity.ward == ward_a
    assert check(obj)


def test_duplicate_code_is_an_error_on_the_code_field(client, alice, ward_a, ward_b, area_a):
    make_family(ward_a, code="HGD1", community=area_a)
    make_family(ward_b, code="HGD2")
    client.force_login(alice)
    data = {"code": "HGD1", "head_name": "Người khác", "members": "2", "community": "TDP1"}
    response = _create(client, "families", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["code"]
    assert "HGD1" in errors["code"][0]
    assert Entity.objects.filter(kind=Kind.FAMILY, code="HGD1").count() == 1
    # The same code in another ward, or for another kind, is a different entity.
    assert _create(client, "families", {**data, "code": "HGD2"}).status_code == 302
    assert _create(client, "clans", {"code": "HGD1", "name": "Họ"}).status_code == 302


def test_errors_are_shown_next_to_their_fields(client, alice, area_a):
    client.force_login(alice)
    response = _create(client, "families", {"code": "", "head_name": "", "members": "0"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"code", "head_name", "members", "community"}
    html = response.content.decode()
    assert 'id="id_members_errors"' in html
    assert 'aria-invalid="true"' in html
    assert not Entity.objects.filter(kind=Kind.FAMILY).exists()


def test_a_residential_area_of_another_ward_is_refused_clearly(client, alice, area_a, area_b):
    client.force_login(alice)
    data = {"code": "HGD1", "head_name": "An", "members": "2"}
    for other_ward in ("TDP9", "Tổ dân phố Chín", str(area_b.pk)):
        response = _create(client, "families", {**data, "community": other_ward})
        assert response.status_code == 200
        [error] = response.context["form"].errors["community"]
        assert error.startswith("No residential area with the code “")
        assert "in commune/ward 00070, and none is named so" in error
    # The closest names of the ward (up to three) are suggested.
    response = _create(client, "families", {**data, "community": "to dan pho mot x"})
    assert response.context["form"].errors["community"] == [
        "No residential area with the code “to dan pho mot x” in commune/ward 00070, and none "
        "is named so; did you mean “Tổ dân phố Một”?"
    ]
    assert not Family.objects.filter(entity__code="HGD1").exists()


def test_area_and_clan_are_found_by_code_or_exact_name(client, alice, ward_a, area_a):
    clan = make_clan(ward_a, code="DH1", name="Dòng họ Lê")
    make_community(ward_a, code="TDP2", name="Tổ Hai")
    make_community(ward_a, code="TDP3", name="Tổ Hai")
    client.force_login(alice)
    data = {"head_name": "An", "members": "2"}
    # The exact name, whatever the case, accents and spacing.
    response = _create(
        client,
        "families",
        {**data, "code": "H1", "community": "  to dan pho  MOT", "clan": "dòng họ lê"},
    )
    assert response.status_code == 302
    family = Family.objects.get(entity__code="H1")
    assert (family.community, family.clan) == (area_a, clan)
    # A name two areas share asks for the code.
    response = _create(client, "families", {**data, "code": "H2", "community": "Tổ Hai"})
    [error] = response.context["form"].errors["community"]
    assert "(codes TDP2, TDP3); write the code instead" in error
    assert (
        _create(client, "families", {**data, "code": "H2", "community": "TDP3"}).status_code == 302
    )
    unknown = _create(
        client, "families", {**data, "code": "H3", "community": "TDP1", "clan": "DH9"}
    )
    assert unknown.context["form"].errors["clan"][0].startswith("No clan with the code “DH9”")
    assert not Family.objects.filter(entity__code="H3").exists()


@pytest.mark.vietnamese
def test_an_unknown_area_is_refused_in_vietnamese(client, alice, area_a):
    client.force_login(alice)
    data = {"code": "H1", "head_name": "An", "members": "2", "community": "to dan pho mot x"}
    [error] = _create(client, "families", data).context["form"].errors["community"]
    assert "Tổ dân phố Một" in error
    assert "No residential area" not in error


def test_search_suggests_the_ward_entries_without_accents(
    client, alice, mallory, ward_a, area_a, area_b
):
    make_community(ward_a, code="TDP2", name="Tổ dân phố Hai")
    make_clan(ward_a, code="DH1", name="Dòng họ Nguyễn Đình")
    client.force_login(alice)
    url = reverse("entity_search", args=["communities"])
    found = client.get(url, {"ward": "00070", "q": "pho mot"}).json()
    assert found == {"results": [{"code": "TDP1", "name": "Tổ dân phố Một"}]}
    found = client.get(url, {"ward": "00070", "q": "TO DAN"}).json()["results"]
    assert [r["code"] for r in found] == ["TDP2", "TDP1"]  # Vietnamese order: Hai before Một
    assert client.get(url, {"ward": "00070", "q": "  "}).json() == {"results": []}
    assert client.get(url, {"ward": "00070", "q": "a\x00b"}).status_code == 400
    clans = reverse("entity_search", args=["clans"])
    assert client.get(clans, {"ward": "00070", "q": "nguyen dinh"}).json()["results"] == [
        {"code": "DH1", "name": "Dòng họ Nguyễn Đình"}
    ]
    # Another ward's entries are not found, and another ward cannot be asked for.
    assert client.get(url, {"ward": "00070", "q": "chin"}).json() == {"results": []}
    assert client.get(url, {"ward": "00004", "q": "chin"}).status_code == 404
    assert client.get(url, {"q": "mot"}).status_code == 404
    assert (
        client.get(reverse("entity_search", args=["families"]), {"ward": "00070"}).status_code
        == 404
    )
    client.force_login(mallory)
    assert client.get(url, {"ward": "00070", "q": "mot"}).status_code == 404


def test_search_runs_a_fixed_number_of_queries(client, alice, ward_a, area_a):
    client.force_login(alice)
    url = reverse("entity_search", args=["communities"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"ward": "00070", "q": "to"}).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(15):
        make_community(ward_a, code=f"X{i}", name=f"Tổ {i}")
    assert count() == before
    assert len(client.get(url, {"ward": "00070", "q": "to"}).json()["results"]) == 10


def test_citizen_family_is_entered_by_code_within_the_ward(client, alice, ward_a, ward_b):
    family = make_family(ward_a, code="HGD1")
    make_family(ward_b, code="HGD9")
    unit_b = make_unit(ward_b, code="U9")
    client.force_login(alice)
    data = {"code": "C1", "full_name": "Phạm Văn Một", "birth_year": "1980"}
    response = _create(client, "citizens", {**data, "family": "HGD9", "unit": unit_b.pk})
    errors = response.context["form"].errors
    assert "HGD9" in errors["family"][0]
    assert errors["unit"] == ["Choose a unit of Phường Hoàn Kiếm."]
    future = _create(client, "citizens", {**data, "birth_year": "2999"})
    assert "birth_year" in future.context["form"].errors

    assert _create(client, "citizens", {**data, "family": "HGD1"}).status_code == 302
    assert Citizen.objects.get(entity__code="C1").family == family


def test_multi_ward_user_picks_the_ward_first(client, dave, ward_a, ward_x, area_a):
    client.force_login(dave)
    url = reverse("entity_create", args=["families"])
    picker = client.get(url)
    assert picker.status_code == 200
    assert [t.name for t in picker.templates][0] == "registry/ward_pick.html"
    html = picker.content.decode()
    assert 'value="00070"' in html and 'value="04825"' in html

    form_page = client.get(url, {"ward": "00070"})
    assert 'data-search="/registry/communities/search/?ward=00070"' in form_page.content.decode()
    data = {"code": "HGD1", "head_name": "An", "members": "3", "community": "TDP1"}
    # The ward comes from the URL: the same residential area is foreign to ward X.
    wrong = _create(client, "families", data, ward=ward_x)
    assert "community" in wrong.context["form"].errors
    assert _create(client, "families", data, ward=ward_a).status_code == 302
    assert Family.objects.get(entity__code="HGD1").entity.ward == ward_a
    assert client.get(url, {"ward": "99999"}).status_code == 404


def test_edit_changes_fields_but_never_the_code(client, alice, ward_a, area_a):
    other_area = make_community(ward_a, code="TDP2", name="Tổ Hai")
    clan = make_clan(ward_a, code="DH1")
    family = make_family(ward_a, code="HGD1", head_name="Cũ", members=2, community=area_a)
    url = reverse("entity_edit", args=["families", family.pk])
    client.force_login(alice)

    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert "code" not in form.fields
    assert form.initial == {"head_name": "Cũ", "members": 2, "community": "TDP1", "clan": ""}
    # The box holds the code; the name is shown beside it.
    assert 'data-chosen="Tổ dân phố Một"' in page.content.decode()

    response = client.post(
        url,
        {
            "code": "HACKED",
            "head_name": "Mới Tinh",
            "members": "6",
            "community": "Tổ Hai",
            "clan": "DH1",
        },
    )
    assert response.status_code == 302
    family = Family.objects.select_related("entity").get(pk=family.pk)
    assert family.entity.code == "HGD1"
    assert family.entity.name == "Mới Tinh"
    assert family.entity.search_text == "moi tinh hgd1"
    assert (family.members, family.community, family.clan) == (6, other_area, clan)


def test_edit_with_errors_keeps_the_entity_unchanged(client, alice, ward_a, area_a):
    family = make_family(ward_a, code="HGD1", head_name="Cũ", community=area_a)
    client.force_login(alice)
    url = reverse("entity_edit", args=["families", family.pk])
    response = client.post(url, {"head_name": "", "members": "-1", "community": "TDP1"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"head_name", "members"}
    assert Entity.objects.get(pk=family.pk).name == "Cũ"


def test_edit_of_a_citizen_shows_the_family_code(client, alice, ward_a):
    family = make_family(ward_a, code="HGD1")
    citizen = make_citizen(ward_a, code="C1", family=family)
    client.force_login(alice)
    page = client.get(reverse("entity_edit", args=["citizens", citizen.pk]))
    assert page.context["form"].initial["family"] == "HGD1"


def test_detail_pages_show_what_belongs_to_the_entity(client, bob, ward_a, area_a):
    clan = make_clan(ward_a, code="DH1", name="Dòng họ Lê")
    family = make_family(ward_a, code="HGD1", head_name="Lê Văn Chủ", community=area_a, clan=clan)
    make_family(ward_a, code="HGD2", head_name="Lê Văn Hai", community=area_a)
    unit = make_unit(ward_a, code="U1", name="Trường Một")
    make_citizen(ward_a, code="C1", full_name="Lê Thị Con", family=family, unit=unit)
    make_citizen(ward_a, code="C2", full_name="Ngô Văn Khác")
    client.force_login(bob)

    def detail(kind, obj):
        response = client.get(reverse("entity_detail", args=[kind, obj.pk]))
        assert response.status_code == 200
        return response

    family_page = detail("families", family)
    assert [c.entity.name for c in family_page.context["related"].rows] == ["Lê Thị Con"]
    assert "Dòng họ Lê" in family_page.content.decode()
    # bob reads; he is not offered an edit.
    assert reverse("entity_edit", args=["families", family.pk]) not in family_page.content.decode()

    clan_page = detail("clans", clan)
    assert [f.entity.name for f in clan_page.context["related"].rows] == ["Lê Văn Chủ"]

    unit_page = detail("units", unit)
    assert [c.entity.name for c in unit_page.context["related"].rows] == ["Lê Thị Con"]

    area_page = detail("communities", area_a)
    related = area_page.context["related"]
    assert related.total == 2
    assert f'href="/registry/families/?community={area_a.pk}"' in area_page.content.decode()

    citizen_page = detail("citizens", Citizen.objects.get(entity__code="C1"))
    assert citizen_page.context["related"] is None
    assert "Trường Một" in citizen_page.content.decode()


def test_staff_sees_an_edit_link_on_detail(client, alice, ward_a, area_a):
    family = make_family(ward_a, code="HGD1", community=area_a)
    client.force_login(alice)
    html = client.get(reverse("entity_detail", args=["families", family.pk])).content.decode()
    assert reverse("entity_edit", args=["families", family.pk]) in html


@pytest.mark.parametrize("kind", ["communities", "families", "clans", "units", "citizens"])
def test_detail_page_query_count_is_small(
    client, alice, ward_a, django_assert_max_num_queries, kind
):
    area = make_community(ward_a, code="TDP1")
    clan = make_clan(ward_a, code="DH1")
    unit = make_unit(ward_a, code="U1")
    families = [make_family(ward_a, code=f"F{i}", community=area, clan=clan) for i in range(5)]
    for i in range(5):
        make_citizen(ward_a, code=f"C{i}", family=families[0], unit=unit)
    objs = {
        "communities": area,
        "families": families[0],
        "clans": clan,
        "units": unit,
        "citizens": Citizen.objects.first(),
    }
    client.force_login(alice)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("entity_detail", args=[kind, objs[kind].pk])).status_code == 200
