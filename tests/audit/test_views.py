"""The audit log page and its admin: administrators only, scoped to their province, filtered,
paginated, read-only."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from registry.models import Role
from tests.factories import make_community, make_user

URL = "/audit/"
Action = AuditEntry.Action


@pytest.fixture
def log(ward_a, ward_x, alice, mallory):
    """Entries in province P (ward A) and in the other province (ward X)."""
    AuditEntry.objects.all().delete()
    make_community(ward_a, code="PA")
    make_community(ward_x, code="XA")
    AuditEntry.objects.create(
        action=Action.LOGIN, user=alice, username="alice", province_id=ward_a.parent_id
    )
    AuditEntry.objects.create(
        action=Action.LOGIN_FAILED, username="mallory", province_id=ward_x.parent_id
    )
    AuditEntry.objects.create(action=Action.LOGIN_FAILED, username="ghost")


@pytest.fixture
def paula(province):
    return make_user("paula", Role.ADMIN, province)


def test_url():
    assert reverse("audit_log") == URL


def test_anonymous_goes_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "eve", "mallory", "nobody"])
def test_non_admins_get_403(client, request, log, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403


def test_global_admin_sees_everything(client, dave, log):
    client.force_login(dave)
    response = client.get(URL)
    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    assert {e.username for e in rows if e.action == Action.LOGIN_FAILED} == {"mallory", "ghost"}
    assert {e.object_repr for e in rows if e.action == Action.CREATE} >= {
        "Tổ dân phố 1 (PA)",
        "Tổ dân phố 1 (XA)",
    }
    html = response.content.decode()
    assert "Audit log" in html and "Failed login" in html
    assert f'href="{URL}"' in html  # the nav links to it


def test_province_admin_sees_only_their_province(client, paula, log, ward_a):
    client.force_login(paula)
    rows = list(client.get(URL).context["page"].object_list)
    assert rows and all(e.province_id == ward_a.parent_id for e in rows)
    assert "mallory" not in {e.username for e in rows}
    assert "ghost" not in {e.username for e in rows}
    assert not any("(XA)" in e.object_repr for e in rows)


def test_nav_link_only_for_admins(client, alice):
    client.force_login(alice)
    assert f'href="{URL}"' not in client.get("/").content.decode()


def test_filters(client, dave, log, alice):
    client.force_login(dave)

    def rows(**params):
        response = client.get(URL, params)
        assert response.status_code == 200
        return list(response.context["page"].object_list)

    assert {e.username for e in rows(username="ALICE")} == {"alice"}
    assert {e.action for e in rows(action="login_failed")} == {Action.LOGIN_FAILED}
    community = ContentType.objects.get(app_label="registry", model="community")
    assert {e.content_type_id for e in rows(model=community.pk)} == {community.pk}
    today = timezone.localdate()
    assert (
        len(rows(date_from=today.isoformat(), date_to=today.isoformat()))
        == AuditEntry.objects.count()
    )
    tomorrow = today + datetime.timedelta(days=1)
    assert rows(date_from=tomorrow.isoformat()) == []
    assert rows(date_to=(today - datetime.timedelta(days=1)).isoformat()) == []


def test_date_range_is_days_in_the_site_s_time_zone(client, dave, db):
    """An entry at 23:30 on 1 May in Hanoi is on 1 May, though it is 16:30 UTC."""
    zone = timezone.get_current_timezone()
    AuditEntry.objects.all().delete()
    AuditEntry.objects.create(
        action=Action.LOGIN, username="late", at=datetime.datetime(2025, 5, 1, 23, 30, tzinfo=zone)
    )
    client.force_login(dave)
    found = client.get(URL, {"date_from": "2025-05-01", "date_to": "2025-05-01"}).context["page"]
    assert [e.username for e in found.object_list] == ["late"]
    for day in ("2025-04-30", "2025-05-02"):
        page = client.get(URL, {"date_from": day, "date_to": day}).context["page"]
        assert list(page.object_list) == []


def test_bad_filters_show_errors_and_filter_nothing(client, dave, log):
    client.force_login(dave)
    response = client.get(URL, {"date_from": "2025-05-02", "date_to": "2025-05-01"})
    assert response.status_code == 200
    assert "The first date is after the second." in response.content.decode()
    assert response.context["page"].paginator.count == AuditEntry.objects.count()
    assert client.get(URL, {"action": "nonsense", "model": "x"}).status_code == 200


def test_paginated_with_a_fixed_number_of_queries(client, dave, db, django_assert_max_num_queries):
    AuditEntry.objects.bulk_create(
        AuditEntry(action=Action.LOGIN_FAILED, username=f"u{i}") for i in range(120)
    )
    client.force_login(dave)
    first = client.get(URL)
    page = first.context["page"]
    assert (len(page.object_list), page.paginator.num_pages) == (50, 3)
    assert 'rel="next"' in first.content.decode()
    with django_assert_max_num_queries(12):
        client.get(URL, {"page": 2})


def test_bulk_entries_show_their_operation_and_figures(client, dave, db):
    AuditEntry.objects.create(
        action=Action.BULK,
        command="import_registry",
        detail={"operation": "registry_import", "file": "ho.csv", "created": 3, "wards": ["00070"]},
    )
    client.force_login(dave)
    html = client.get(URL).content.decode()
    assert "Registry import" in html and "ho.csv" in html and "manage.py import_registry" in html


# --- Django admin -------------------------------------------------------------------------------


def test_admin_is_read_only(client, dave, log):
    dave.is_staff = True
    dave.save()
    client.force_login(dave)
    entry = AuditEntry.objects.first()
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    count = AuditEntry.objects.count()
    client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"})
    client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"username": "forged"})
    entry.refresh_from_db()
    assert entry.username != "forged"
    assert AuditEntry.objects.count() >= count


def test_admin_is_scoped_for_a_province_admin(client, paula, log, ward_a):
    paula.is_staff = True
    paula.save()
    client.force_login(paula)
    response = client.get("/admin/audit/auditentry/")
    assert response.status_code == 200
    shown = response.context["cl"].queryset
    assert shown.exists() and set(shown.values_list("province_id", flat=True)) == {ward_a.parent_id}


def test_admin_is_closed_to_other_staff(client, bob, log):
    bob.is_staff = True
    bob.save()
    client.force_login(bob)
    assert client.get("/admin/audit/auditentry/").status_code == 403
