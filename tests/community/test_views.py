"""The groups' pages, API and dashboard: a staff member records a mobile team's session and sees
it on the group's page and in the ward's figures; search ignores diacritics; members' names are
for staff, officials and administrators only; the reach is shown against the `digital_reach`
target; the registry's upload page takes groups files (dry run, then confirm)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from community.models import Activity, ActivitySummary, Group
from community.services.groups import activity_create, group_create, member_create
from community.services.summaries import summaries_verify
from registry.models import Role
from tests.factories import make_citizen, make_community, make_user

YEAR = dt.date.today().year


@pytest.fixture
def team(ward_a):
    area = make_community(ward_a, code="TDP7", name="Tổ dân phố 7")
    return group_create(
        ward=ward_a,
        code="LD01",
        name="Tổ lưu động Bình dân học vụ số 1",
        group_type="mobile_team",
        community=area.entity,
        founded=dt.date(YEAR, 1, 2),
        leader_name="Phạm Thị Tổ Trưởng",
    )


@pytest.fixture
def residents(ward_a):
    return [
        make_citizen(ward_a, code="CD1", full_name="Nguyễn Văn Ánh", birth_year=1950),
        make_citizen(ward_a, code="CD2", full_name="Trần Thị Ánh Tuyết", birth_year=1990),
        make_citizen(ward_a, code="CD3", full_name="Lê Văn Bé", birth_year=YEAR - 5),
    ]


def test_staff_records_a_session_at_a_household(client, alice, team, residents):
    client.force_login(alice)
    url = reverse("activity_create", args=[team.pk])
    # Searching without diacritics finds both "Ánh"s of the ward.
    page = client.get(url, {"q": "anh"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nguyễn Văn Ánh (CD1" in html and "Trần Thị Ánh Tuyết (CD2" in html
    assert "Lê Văn Bé" not in html
    response = client.post(
        url + "?q=anh",
        {
            "date": f"{YEAR}-01-15",
            "activity_type": "home_visit",
            "participants": "3",
            "services": ["vneid", "etax"],
            "dossiers": "2",
            "citizens": [residents[0].pk, residents[1].pk],
            "people_helped": "",
            "ref": "",
            "note": "Hộ ông Ánh",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    activity = Activity.objects.get(group=team)
    assert activity.ref == f"{YEAR}0115-1"
    assert (activity.people_helped, activity.dossiers, activity.services) == (
        2,
        2,
        ["vneid", "etax"],
    )
    detail = client.get(reverse("group_detail", args=[team.pk])).content.decode()
    assert f"{YEAR}0115-1" in detail and "Home visit" in detail
    ward_page = client.get(reverse("groups_dashboard_ward", args=["00070"]))
    total = ward_page.context["total"]
    # 2 of the ward's 2 adults (the child is not an adult): 100.0%.
    assert (total["activities"], total["citizens_reached"], total["adults"]) == (1, 2, 2)
    assert str(total["reach_rate"]) == "100.0"
    assert summaries_verify() == []


def test_a_citizen_of_another_ward_cannot_be_ticked(client, alice, team, ward_b):
    stranger = make_citizen(ward_b, code="CDB", full_name="Người Phường Khác")
    client.force_login(alice)
    response = client.post(
        reverse("activity_create", args=[team.pk]),
        {
            "date": f"{YEAR}-01-15",
            "activity_type": "home_visit",
            "participants": "3",
            "dossiers": "0",
            "citizens": [stranger.pk],
        },
    )
    assert response.status_code == 200
    assert "citizens" in response.context["form"].errors
    assert not Activity.objects.exists() and not ActivitySummary.objects.exists()


def test_people_helped_below_the_citizens_ticked_is_refused(client, alice, team, residents):
    client.force_login(alice)
    response = client.post(
        reverse("activity_create", args=[team.pk]) + "?q=anh",
        {
            "date": f"{YEAR}-01-15",
            "activity_type": "home_visit",
            "participants": "3",
            "dossiers": "0",
            "people_helped": "1",
            "citizens": [residents[0].pk, residents[1].pk],
        },
    )
    assert response.status_code == 200
    assert "people_helped" in response.context["form"].errors
    assert not Activity.objects.exists()


def test_group_list_search_ignores_diacritics_and_filters(client, alice, team, ward_a):
    group_create(
        ward=ward_a, code="CLB1", name="Câu lạc bộ dưỡng sinh", group_type="community_club"
    )
    client.force_login(alice)
    url = reverse("group_list")
    found = client.get(url, {"q": "luu dong binh dan"}).context["page"].object_list
    assert [g.code for g in found] == ["LD01"]
    assert [g.code for g in client.get(url, {"q": "to truong"}).context["page"].object_list] == [
        "LD01"
    ]
    by_type = client.get(url, {"group_type": "community_club"}).context["page"].object_list
    assert [g.code for g in by_type] == ["CLB1"]


def test_group_list_queries_do_not_grow_with_the_groups(
    client, alice, ward_a, django_assert_max_num_queries
):
    for n in range(30):
        group_create(ward=ward_a, code=f"G{n}", name=f"Nhóm {n}", group_type="interest_group")
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("group_list")).status_code == 200


def test_members_names_are_for_staff_officials_and_admins(client, team, ward_a, province):
    member_create(group=team, code="TV1", full_name="Đỗ Thị Tình Nguyện")
    viewer = make_user("vera", Role.VIEWER, province)
    official = make_user("olga", Role.OFFICIAL, ward_a)
    for user, sees in ((viewer, False), (official, True)):
        client.force_login(user)
        page = client.get(reverse("group_detail", args=[team.pk])).content.decode()
        assert ("Đỗ Thị Tình Nguyện" in page) is sees
        data = client.get(f"/api/v1/groups/{team.pk}/").json()
        assert data["member_count"] == 1
        if sees:
            assert data["members"][0]["full_name"] == "Đỗ Thị Tình Nguyện"
            assert data["leader_name"] == "Phạm Thị Tổ Trưởng"
        else:
            assert data["members"] is None and data["leader_name"] is None


def test_activities_api_gives_citizens_codes_only_to_those_who_see_people(
    client, team, residents, province, alice
):
    activity_create(
        group=team,
        date=dt.date(YEAR, 1, 3),
        activity_type="mobile_point",
        participants=4,
        citizens=[residents[0].entity],
        note="Hộ ông Ánh",
    )
    client.force_login(alice)
    (row,) = client.get("/api/v1/activities/", {"year": YEAR}).json()["results"]
    assert (row["citizens"], row["citizens_helped"], row["note"]) == (["CD1"], 1, "Hộ ông Ánh")
    client.force_login(make_user("vera", Role.VIEWER, province))
    (row,) = client.get("/api/v1/activities/", {"ward": "00070"}).json()["results"]
    assert (row["citizens"], row["citizens_helped"], row["note"]) == (None, 1, None)
    assert client.get("/api/v1/activities/", {"year": "soon"}).status_code == 400


def test_dashboard_shows_reach_against_the_digital_reach_target(
    client, tmp_path, team, residents, province, ward_a
):
    activity_create(
        group=team,
        date=dt.date(YEAR, 1, 3),
        activity_type="home_visit",
        participants=2,
        citizens=[residents[0].entity],
    )
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "Mã đơn vị hành chính,Danh hiệu,Năm,Tỷ lệ tối thiểu,Tỷ lệ tối đa\n"
        f"01,Bình dân học vụ số,{YEAR},85,100\n",
        encoding="utf-8",
    )
    call_command("load_targets", str(targets), stdout=io.StringIO())
    client.force_login(make_user("vera", Role.VIEWER, province))
    page = client.get(reverse("groups_dashboard"), {"year": YEAR})
    assert page.status_code == 200
    total = page.context["total"]
    # 1 citizen reached of the province's 2 adults: 50.0%, below 85–100%.
    assert (str(total["reach_rate"]), total["status"]) == ("50.0", "below")
    assert "85–100%" in total["target_text"]
    (ward_row,) = [r for r in page.context["rows"] if r["unit_code"] == "00070"]
    assert ward_row["status"] == "below" and ward_row["groups"] == 1
    html = page.content.decode()
    assert (
        "Groups and digital literacy" in html
        and reverse("groups_dashboard_ward", args=["00070"]) in html
    )
    ward_page = client.get(reverse("groups_dashboard_ward", args=["00070"]), {"year": YEAR})
    assert [g["code"] for g in ward_page.context["groups"]] == ["LD01"]
    assert reverse("group_detail", args=[team.pk]) in ward_page.content.decode()


def test_ward_users_land_on_their_ward(client, alice):
    client.force_login(alice)
    response = client.get(reverse("groups_dashboard"), {"year": 2025})
    assert response.status_code == 302
    assert response["Location"] == reverse("groups_dashboard_ward", args=["00070"]) + "?year=2025"


def test_upload_page_offers_groups_and_imports_them_after_a_dry_run(client, alice, ward_a):
    client.force_login(alice)
    html = client.get("/registry/import/").content.decode()
    for kind in ("groups", "members", "activities"):
        assert f'value="{kind}"' in html
    text = (
        "Mã phường/xã,Mã nhóm,Tên nhóm,Loại nhóm\n"
        "00070,CN1,Tổ công nghệ số 1,tổ công nghệ số cộng đồng\n"
        "00004,CN2,Tổ của phường bên,digital_team\n"
    )
    upload = SimpleUploadedFile("groups.csv", text.encode(), content_type="text/csv")
    response = client.post(
        "/registry/import/", {"step": "check", "kind": "groups", "file": upload}, follow=True
    )
    report = response.context["report"]
    assert [(e.row, e.column) for e in report.errors] == [(3, "ward")]
    assert not Group.objects.exists()
    good = SimpleUploadedFile("groups.csv", text.rsplit("0000", 1)[0].encode(), "text/csv")
    response = client.post(
        "/registry/import/", {"step": "check", "kind": "groups", "file": good}, follow=True
    )
    assert response.context["report"].ok and not Group.objects.exists()
    checked = response.context["job"]
    done = client.post("/registry/import/", {"step": "confirm", "job": checked.pk}, follow=True)
    assert done.context["report"].created == 1
    assert f'href="{reverse("group_list")}"' in done.content.decode()
    assert Group.objects.get().group_type == "digital_team"


def test_excel_report_has_the_groups_sheet(team, residents, province, dave):
    from openpyxl import load_workbook

    from titles.reports import (
        COUNT_FORMAT,
        FIRST_DATA_ROW,
        HEADER_ROW,
        RATE_FORMAT,
        report_workbook,
    )

    activity_create(
        group=team,
        date=dt.date(YEAR, 1, 3),
        activity_type="home_visit",
        participants=2,
        citizens=[residents[0].entity, residents[1].entity],
    )
    group_create(ward=team.ward, code="=CMD", name="=HYPERLINK(1)", group_type="other")
    workbook = load_workbook(io.BytesIO(report_workbook(user=dave, unit_code="01", year=YEAR)))
    ws = workbook["Nhóm - Bình dân học vụ số"]
    assert [c.value for c in ws[HEADER_ROW]][:4] == ["No.", "Code", "Name", "Groups"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=FIRST_DATA_ROW)]
    by_name = {row[2]: row for row in rows}
    # The province by type, its total, then its ward's total.
    assert by_name["Mobile Digital Literacy for All team"][3:11] == [1, 0, 1, 2, 2, 0, 2, 2]
    assert by_name["All groups"][3:12] == [2, 0, 1, 2, 2, 0, 2, 2, 1.0]
    assert by_name["Phường Hoàn Kiếm"][1] == "00070"
    # Framed and formatted as the titles' sheets: counts and rates in the Vietnamese formats,
    # the unit's total in bold.
    total = FIRST_DATA_ROW + [row[2] for row in rows].index("All groups")
    assert ws.cell(total, 3).font.b and not ws.cell(total + 1, 3).font.b
    assert [ws.cell(total, c).number_format for c in (4, 11, 12)] == [
        COUNT_FORMAT,
        COUNT_FORMAT,
        RATE_FORMAT,
    ]
    for row in ws.iter_rows():
        for cell in row:
            assert not (isinstance(cell.value, str) and cell.value.startswith("="))


def test_every_write_is_audited(team, residents, tmp_path):
    from audit.models import AuditEntry

    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.CREATE, object_id=str(team.pk), object_repr=str(team)
    ).exists()
    activity = activity_create(
        group=team,
        date=dt.date(YEAR, 1, 3),
        activity_type="home_visit",
        participants=2,
        citizens=[residents[0].entity],
    )
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.CREATE, object_id=str(activity.pk)
    ).exists()
    path = tmp_path / "members.csv"
    path.write_text("ward,group,code,full_name\n00070,LD01,TV9,Vũ Văn Chín\n", encoding="utf-8")
    call_command("import_registry", str(path), "--kind", "members", stdout=io.StringIO())
    entry = AuditEntry.objects.get(action=AuditEntry.Action.BULK)
    assert entry.detail["operation"] == "community_import"
    assert (entry.detail["kind"], entry.detail["created"], entry.detail["wards"]) == (
        "members",
        1,
        ["00070"],
    )
