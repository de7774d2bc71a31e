"""Django admin for the groups: scoped like the pages, read-only. A province administrator sees
their province's groups, members and activities; another province's are 404; nothing is added,
changed or deleted there (the pages and imports keep the summaries exact)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.models import Activity, Group, Member
from community.services.groups import activity_create, group_create, member_create
from registry.models import Role
from tests.factories import UserFactory, make_citizen, make_user

GROUPS = "/admin/community/group/"


@pytest.fixture
def clubs(ward_a, ward_b, ward_x):
    made = {}
    names = {"a": "Câu lạc bộ Đọc sách", "b": "Câu lạc bộ Dưỡng sinh", "x": "Câu lạc bộ Cờ tướng"}
    for key, ward in (("a", ward_a), ("b", ward_b), ("x", ward_x)):
        group = group_create(
            ward=ward, code=f"CLB-{key.upper()}", name=names[key],
            group_type="community_club",
        )  # fmt: skip
        member = member_create(group=group, code="TV1", full_name=f"Thành viên {key}")
        citizen = make_citizen(ward, code=f"CD-{key}")
        activity = activity_create(
            group=group, ref=f"HD-{key}", date=dt.date(2026, 3, 1), activity_type="home_visit",
            participants=4, citizens=[citizen.entity],
        )  # fmt: skip
        made[key] = (group, member, activity)
    return made


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def province_admin(province):
    user = make_user("pat", Role.ADMIN, province)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _shown(client, model: str) -> set[int]:
    response = client.get(f"/admin/community/{model}/")
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_province_admin_sees_their_province_only(client, province_admin, clubs):
    client.force_login(province_admin)
    for index, model in enumerate(("group", "member", "activity")):
        inside = {clubs[key][index].pk for key in ("a", "b")}
        assert _shown(client, model) == inside, model
        outside = clubs["x"][index].pk
        assert client.get(f"/admin/community/{model}/{outside}/change/").status_code == 404
        assert client.get(f"/admin/community/{model}/{outside}/history/").status_code == 404
        own = clubs["a"][index].pk
        assert client.get(f"/admin/community/{model}/{own}/change/").status_code == 200


def test_superuser_sees_every_row(client, superuser, clubs):
    client.force_login(superuser)
    assert _shown(client, "group") == {group.pk for group, _m, _a in clubs.values()}


def test_groups_members_and_activities_are_read_only(client, superuser, clubs):
    client.force_login(superuser)
    group, member, activity = clubs["a"]
    for model, obj in (("group", group), ("member", member), ("activity", activity)):
        assert client.get(f"/admin/community/{model}/add/").status_code == 403
        assert client.post(f"/admin/community/{model}/{obj.pk}/change/", {}).status_code == 403
        delete = client.post(f"/admin/community/{model}/{obj.pk}/delete/", {"post": "yes"})
        assert delete.status_code == 403
    assert (Group.objects.count(), Member.objects.count(), Activity.objects.count()) == (3, 3, 3)
    assert Group.objects.get(pk=group.pk).name == group.name


def test_search_ignores_diacritics(client, superuser, clubs):
    client.force_login(superuser)
    response = client.get(GROUPS, {"q": "doc SACH"})
    assert {g.pk for g in response.context["cl"].result_list} == {clubs["a"][0].pk}


def test_the_group_list_reads_a_fixed_number_of_rows(client, superuser, clubs, ward_a):
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as few:
        client.get(GROUPS)
    for i in range(10):
        group_create(ward=ward_a, code=f"T{i}", name=f"Tổ {i}", group_type="digital_team")
    with CaptureQueriesContext(connection) as many:
        client.get(GROUPS)
    assert len(many) == len(few)


def test_staff_officials_and_viewers_are_not_let_in(client, alice, bob, carol, clubs):
    for user in (alice, bob, carol):
        client.force_login(user)
        response = client.get(GROUPS)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
