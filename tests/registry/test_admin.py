"""Django admin: scoped like the pages, entities read-only, grants through the grant service.

Who may enter: superusers; staff users with the administrator role (scoped to their grant);
other staff users only through Django model permissions, and still only within their scope.
"""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import Association, Grant, Role
from tests.factories import (
    UserFactory,
    make_citizen,
    make_clan,
    make_community,
    make_family,
    make_unit,
    make_user,
)

FAMILIES = "/admin/registry/family/"


@pytest.fixture
def families(ward_a, ward_b, ward_x):
    return {
        "a": make_family(ward_a, code="HGD-A", head_name="Nguyễn Văn An"),
        "b": make_family(ward_b, code="HGD-B", head_name="Nguyễn Văn Bình"),
        "x": make_family(ward_x, code="HGD-X", head_name="Nguyễn Văn Xa"),
    }


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def province_admin(province):
    user = make_user("pat", Role.ADMIN, province)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _shown(client, url=FAMILIES, **params) -> set[str]:
    response = client.get(url, params)
    assert response.status_code == 200
    return {getattr(obj, "entity", obj).code for obj in response.context["cl"].result_list}


def test_superuser_sees_everything(client, superuser, families):
    client.force_login(superuser)
    assert _shown(client) == {"HGD-A", "HGD-B", "HGD-X"}


def test_global_admin_sees_everything(client, dave, families):
    dave.is_staff = True
    dave.save(update_fields=["is_staff"])
    client.force_login(dave)
    assert _shown(client) == {"HGD-A", "HGD-B", "HGD-X"}


def test_province_admin_sees_their_province_only(client, province_admin, families):
    client.force_login(province_admin)
    assert _shown(client) == {"HGD-A", "HGD-B"}
    assert _shown(client, "/admin/registry/entity/") >= {"HGD-A", "HGD-B"}
    assert "HGD-X" not in _shown(client, "/admin/registry/entity/")
    # Another province's family does not exist for them.
    response = client.get(f"{FAMILIES}{families['x'].pk}/change/")
    assert response.status_code == 404
    assert client.get(f"{FAMILIES}{families['a'].pk}/change/").status_code == 200


def test_ward_staff_with_admin_access_sees_only_their_ward(client, alice, families):
    """A ward staff user let into the admin by hand still sees only their ward."""
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client.force_login(alice)
    # Without model permissions the staff flag alone opens nothing.
    assert client.get(FAMILIES).status_code == 403
    alice.user_permissions.add(Permission.objects.get(codename="view_family"))
    assert _shown(client) == {"HGD-A"}
    assert client.get(f"{FAMILIES}{families['b'].pk}/change/").status_code == 404


def test_users_without_staff_flag_cannot_enter(client, alice, carol, families):
    for user in (alice, carol):
        client.force_login(user)
        response = client.get(FAMILIES)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_registry_entities_are_read_only(client, superuser, families):
    client.force_login(superuser)
    family = families["a"]
    assert client.get(f"{FAMILIES}add/").status_code == 403
    page = client.get(f"{FAMILIES}{family.pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert client.post(f"{FAMILIES}{family.pk}/change/", {"members": 9}).status_code == 403
    assert client.post(f"{FAMILIES}{family.pk}/delete/", {"post": "yes"}).status_code == 403
    family.refresh_from_db()
    assert family.members == 4
    listing = client.get(FAMILIES).content.decode()
    assert "Read-only here" in listing


def test_admin_search_ignores_diacritics(client, superuser, families, ward_a):
    make_family(ward_a, code="HGD-T", head_name="Trần Thị Bình")
    client.force_login(superuser)
    assert _shown(client, q="nguyen van") == {"HGD-A", "HGD-B", "HGD-X"}
    assert _shown(client, q="BINH") == {"HGD-B", "HGD-T"}
    assert _shown(client, q="tran binh") == {"HGD-T"}


@pytest.mark.parametrize(
    "path",
    [
        "administrativeunit",
        "entity",
        "community",
        "clan",
        "family",
        "unit",
        "citizen",
        "association",
        "associationmembership",
        "grant",
    ],
)
def test_every_changelist_renders_for_a_province_admin(client, province_admin, families, path):
    client.force_login(province_admin)
    assert client.get(f"/admin/registry/{path}/").status_code == 200


@pytest.mark.parametrize(
    ("path", "maker"),
    [
        ("family", lambda ward, i: make_family(ward, code=f"F{i}", clan=make_clan(ward, f"D{i}"))),
        (
            "citizen",
            lambda ward, i: make_citizen(ward, code=f"C{i}", unit=make_unit(ward, f"U{i}")),
        ),
        ("community", lambda ward, i: make_community(ward, code=f"T{i}")),
        ("entity", lambda ward, i: make_clan(ward, code=f"D{i}")),
    ],
)
def test_changelist_query_count_does_not_grow_with_rows(client, superuser, ward_a, path, maker):
    client.force_login(superuser)
    url = f"/admin/registry/{path}/"

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for i in range(2):
        maker(ward_a, i)
    few = count()
    for i in range(2, 12):
        maker(ward_a, i)
    assert count() == few


def test_autocomplete_offers_only_the_admins_province(client, province_admin, ward_a, ward_x):
    make_community(ward_a, code="TDP-A", name="Tổ dân phố An")
    make_community(ward_x, code="TDP-X", name="Tổ dân phố Xa")
    client.force_login(province_admin)
    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "registry",
            "model_name": "association",
            "field_name": "community",
            "term": "to dan pho",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Tổ dân phố An (TDP-A)"]


def test_superuser_grants_a_role_through_the_service(client, superuser, province):
    newcomer = UserFactory(username="newcomer")
    client.force_login(superuser)
    response = client.post(
        "/admin/registry/grant/add/",
        {"user": newcomer.pk, "role": Role.ADMIN, "unit": province.pk},
    )
    assert response.status_code == 302, response.context["adminform"].errors
    grant = Grant.objects.get(user=newcomer)
    assert (grant.role, grant.unit) == (Role.ADMIN, province)
    newcomer.refresh_from_db()
    assert newcomer.is_staff  # what the grant service does for administrators


def test_grant_form_refuses_a_unit_of_the_wrong_level(client, superuser, province):
    newcomer = UserFactory(username="newcomer")
    client.force_login(superuser)
    response = client.post(
        "/admin/registry/grant/add/",
        {"user": newcomer.pk, "role": Role.STAFF, "unit": province.pk},
    )
    assert response.status_code == 200
    assert "unit" in response.context["adminform"].form.errors
    assert not Grant.objects.filter(user=newcomer).exists()


def test_province_admin_reads_grants_but_cannot_change_them(client, province_admin, alice, mallory):
    client.force_login(province_admin)
    shown = {
        g.user.username for g in client.get("/admin/registry/grant/").context["cl"].result_list
    }
    assert shown == {"alice", "pat"}
    assert client.get("/admin/registry/grant/add/").status_code == 403
    own = Grant.objects.get(user=province_admin)
    response = client.post(
        f"/admin/registry/grant/{own.pk}/change/", {"role": Role.ADMIN, "unit": ""}
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.unit is not None


def test_province_admin_edits_an_association_of_their_province(
    client, province_admin, ward_a, ward_x
):
    ward_assoc = Association.objects.create(
        name="Hội A",
        level=Association.Level.WARD,
        admin_unit=ward_a,
        parent=Association.objects.create(
            name="Hội tỉnh", level=Association.Level.PROVINCE, admin_unit=ward_a.parent
        ),
    )
    other = Association.objects.create(
        name="Hội tỉnh khác", level=Association.Level.PROVINCE, admin_unit=ward_x.parent
    )
    client.force_login(province_admin)
    shown = {a.name for a in client.get("/admin/registry/association/").context["cl"].result_list}
    assert shown == {"Hội A", "Hội tỉnh"}
    url = f"/admin/registry/association/{ward_assoc.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is True
    data = {
        "name": "Hội A mới",
        "level": Association.Level.WARD,
        "admin_unit": ward_a.pk,
        "parent": ward_assoc.parent_id,
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-year": "2025",
        "memberships-0-members": "120",
    }
    assert client.post(url, data).status_code == 302
    ward_assoc.refresh_from_db()
    assert ward_assoc.name == "Hội A mới"
    assert ward_assoc.memberships.get().members == 120
    # A parent from another province is not a valid choice for them.
    refused = client.post(url, {**data, "parent": other.pk, "memberships-TOTAL_FORMS": "0"})
    assert refused.status_code == 200
    assert "parent" in refused.context["adminform"].form.errors
