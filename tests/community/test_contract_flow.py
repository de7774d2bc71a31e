"""The acceptance case of issue 17 for groups and digital literacy, through the contract's
commands only, on an empty database.

Tương Mai (ward 00322, Hanoi 01), seed 003: 74 community digital technology teams (one per
residential group), 24 mobile teams of 7–10 members, about 500 members.

  citizens C001–C240 born 1980 (adults in 2025), C241–C300 born 2015 → adults(2025) = 240
  digital teams DT01–DT74: 4 members each active → 296; one class each in 2025: 10 participants,
      people_helped empty (= the one citizen listed), team j (0-based) helps C(92+j) → C092–C165
  mobile teams MT01–MT24: sizes 7, 8, 9, 10 repeated six times → 6 × 34 = 204 members active;
      5 home visits each in 2025 → 120 activities, each 3 participants, 2 people helped, 1 dossier;
      visit k (0–119) helps C((k mod 100)+1) and C(((k+50) mod 100)+1) → C001–C100;
      plus one visit in 2024 (not a 2025 figure).
  extra members outside 2025: MT01 has one who left in 2024, DT01 one who joined in 2026.

  digital_team: groups 74, members 296, activities 74, participants 740, people_helped 74,
      dossiers 0, citizens 74 (C092–C165), reach 74/240 = 30.833… → 30.8
  mobile_team:  groups 24, members 204, activities 120, participants 360, people_helped 240,
      dossiers 120, citizens 100, reach 100/240 = 41.666… → 41.7
  all:          groups 98, members 500, activities 194, participants 1100, people_helped 314,
      dossiers 120, citizens C001–C165 = 165 (the 9 of C092–C100 counted once),
      reach 165/240 = 68.75 → 68.8 (half up; half-even would say 68.7)

Hoa Binh city (seeds 000/001; today wards of Phú Thọ, 25): 275 community development clubs and
423 interest groups, founded 2020, spread over four wards; three more clubs founded in 2026 do
not count in 2025. No citizens: adults 0, reach empty.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from community.models import Activity, Group, Member
from registry.models import AdministrativeUnit

TUONG_MAI = "00322"
HOA_BINH_WARDS = {  # ward -> (community clubs, interest groups)
    "04795": (100, 150),  # Phường Hòa Bình
    "04828": (75, 120),  # Phường Thống Nhất
    "04792": (60, 90),  # Phường Tân Hòa
    "04894": (40, 63),  # Phường Kỳ Sơn
}


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def rollup(*args: str, year: int = 2025) -> list[dict]:
    return json.loads(run("activity_rollup", "--year", str(year), "--format", "json", *args))


def tuong_mai_files(tmp_path: Path) -> dict[str, Path]:
    w = TUONG_MAI
    communities = [["ward", "code", "name"]] + [
        [w, f"TDP{n:02d}", f"Tổ dân phố {n}"] for n in range(1, 75)
    ]
    citizens = [["ward", "code", "full_name", "birth_year"]] + [
        [w, f"C{n:03d}", f"Nguyễn Văn Dân {n}", 1980 if n <= 240 else 2015] for n in range(1, 301)
    ]
    groups = [["ward", "code", "name", "group_type", "community", "founded", "leader_name"]]
    groups += [
        [
            w,
            f"DT{n:02d}",
            f"Tổ công nghệ số cộng đồng TDP {n}",
            "digital_team",
            f"TDP{n:02d}",
            "15/03/2025",
            f"Trần Thị Tổ {n}",
        ]
        for n in range(1, 75)
    ]
    groups += [
        [w, f"MT{n:02d}", f"Tổ lưu động số {n}", "mobile_team", "", "2025-04-01", ""]
        for n in range(1, 25)
    ]
    members = [["ward", "group", "code", "full_name", "citizen", "role", "joined", "left"]]
    for n in range(1, 75):
        members += [
            [w, f"DT{n:02d}", f"TV{m}", f"Lê Văn Tình Nguyện {n}-{m}", "", "", "15/03/2025", ""]
            for m in range(1, 5)
        ]
    for n in range(1, 25):
        size = 7 + (n - 1) % 4
        members += [
            [
                w,
                f"MT{n:02d}",
                f"TV{m}",
                f"Phạm Thị Lưu Động {n}-{m}",
                f"C{m:03d}" if n == 1 else "",
                "tổ viên",
                "01/04/2025",
                "",
            ]
            for m in range(1, size + 1)
        ]
    members.append([w, "MT01", "TV-OLD", "Đỗ Văn Cũ", "", "", "01/01/2023", "31/12/2024"])
    members.append([w, "DT01", "TV-NEW", "Bùi Thị Mới", "", "", "05/01/2026", ""])
    activities = [
        [
            "ward",
            "group",
            "ref",
            "date",
            "activity_type",
            "participants",
            "people_helped",
            "services",
            "dossiers",
            "citizens",
            "note",
        ]
    ]
    for j in range(74):
        activities.append(
            [
                w,
                f"DT{j + 1:02d}",
                "L1",
                "20/05/2025",
                "class",
                10,
                "",
                "vneid",
                "",
                f"C{92 + j:03d}",
                "Lớp kỹ năng số",
            ]
        )
    for k in range(120):
        team = k // 5 + 1
        helped = [k % 100 + 1, (k + 50) % 100 + 1]
        activities.append(
            [
                w,
                f"MT{team:02d}",
                f"HV{k % 5 + 1}",
                f"{k % 28 + 1:02d}/06/2025",
                "home_visit",
                3,
                2,
                "vneid; eTax Mobile",
                1,
                ";".join(f"C{c:03d}" for c in helped),
                "",
            ]
        )
    activities.append(
        [w, "MT01", "HV-2024", "10/12/2024", "home_visit", 3, 1, "vssid", 1, "C250", "năm trước"]
    )
    return {
        "communities": write_csv(tmp_path / "communities.csv", communities),
        "citizens": write_csv(tmp_path / "citizens.csv", citizens),
        "groups": write_csv(tmp_path / "groups.csv", groups),
        "members": write_csv(tmp_path / "members.csv", members),
        "activities": write_csv(tmp_path / "activities.csv", activities),
    }


def hoa_binh_groups(tmp_path: Path) -> Path:
    """Vietnamese headers and type words, as an association's own file would have them."""
    rows = [["Mã phường/xã", "Mã nhóm", "Tên nhóm", "Loại nhóm", "Ngày thành lập"]]
    for ward, (clubs, interest) in HOA_BINH_WARDS.items():
        rows += [
            [
                ward,
                f"CLB{n:03d}",
                f"CLB phát triển cộng đồng số {n}",
                "CLB phát triển cộng đồng",
                "10/10/2020",
            ]
            for n in range(1, clubs + 1)
        ]
        rows += [
            [ward, f"NST{n:03d}", f"Nhóm sở thích {n}", "nhóm sở thích", "2020-05-01"]
            for n in range(1, interest + 1)
        ]
    rows += [
        ["04795", f"CLB-M{n}", f"CLB mới {n}", "community_club", "10/01/2026"] for n in range(3)
    ]
    return write_csv(tmp_path / "hoa-binh-groups.csv", rows)


def figures(rows: list[dict], unit: str, group_type: str) -> tuple:
    (row,) = [r for r in rows if r["unit_code"] == unit and r["group_type"] == group_type]
    return tuple(
        row[c]
        for c in (
            "groups",
            "members",
            "activities",
            "participants",
            "people_helped",
            "dossiers",
            "citizens_reached",
            "adults",
            "reach_rate",
        )
    )


@pytest.mark.django_db
def test_tuong_mai_and_hoa_binh_from_an_empty_database(tmp_path):
    assert not AdministrativeUnit.objects.exists()
    files = tuong_mai_files(tmp_path)
    run("load_divisions", "--province", "01")
    run("load_divisions", "--province", "25")
    assert "74 created" in run(
        "import_registry", str(files["communities"]), "--kind", "communities"
    )
    assert "300 created" in run("import_registry", str(files["citizens"]), "--kind", "citizens")
    assert "98 created" in run("import_registry", str(files["groups"]), "--kind", "groups")
    assert "502 created" in run("import_registry", str(files["members"]), "--kind", "members")
    assert "195 created" in run("import_activities", str(files["activities"]))
    assert "701 created" in run(
        "import_registry", str(hoa_binh_groups(tmp_path)), "--kind", "groups"
    )

    wards = rollup("--unit", "01")
    assert figures(wards, TUONG_MAI, "digital_team") == (74, 296, 74, 740, 74, 0, 74, 240, 30.8)
    assert figures(wards, TUONG_MAI, "mobile_team") == (24, 204, 120, 360, 240, 120, 100, 240, 41.7)
    assert figures(wards, TUONG_MAI, "all") == (98, 500, 194, 1100, 314, 120, 165, 240, 68.8)
    # Every other ward of Hanoi has its `all` row, empty.
    assert len(wards) == 126 + 2
    province = rollup("--unit", "01", "--level", "province")
    assert [r["group_type"] for r in province] == ["digital_team", "mobile_team", "all"]
    assert figures(province, "01", "all") == (98, 500, 194, 1100, 314, 120, 165, 240, 68.8)
    assert figures(province, "01", "mobile_team")[:7] == (24, 204, 120, 360, 240, 120, 100)

    hoa_binh = rollup("--unit", "25")
    for ward, (clubs, interest) in HOA_BINH_WARDS.items():
        assert figures(hoa_binh, ward, "community_club")[:2] == (clubs, 0)
        assert figures(hoa_binh, ward, "interest_group")[:2] == (interest, 0)
    (phu_tho,) = [
        r for r in rollup("--unit", "25", "--level", "province") if r["group_type"] == "all"
    ]
    assert (phu_tho["groups"], phu_tho["adults"], phu_tho["reach_rate"]) == (275 + 423, 0, None)
    assert figures(rollup("--unit", "25", "--level", "province"), "25", "community_club")[0] == 275
    assert figures(rollup("--unit", "25", "--level", "province"), "25", "interest_group")[0] == 423
    # In 2026 the three clubs founded that year count, and DT01's new member; the 2025
    # members are still members (none left).
    later = rollup("--unit", "25", "--level", "province", year=2026)
    assert figures(later, "25", "community_club")[0] == 278
    assert figures(rollup("--unit", TUONG_MAI, year=2026), TUONG_MAI, "all")[1] == 501
    # 2024: MT01's old member and the one 2024 visit; no group founded yet.
    assert figures(rollup("--unit", TUONG_MAI, year=2024), TUONG_MAI, "mobile_team")[:7] == (
        0,
        1,
        1,
        3,
        1,
        1,
        1,
    )

    # The same files again change nothing; the summaries match the detail rows.
    before = (Group.objects.count(), Member.objects.count(), Activity.objects.count())
    assert "0 created, 0 updated, 98 unchanged" in run(
        "import_registry", str(files["groups"]), "--kind", "groups"
    )
    assert "0 created, 0 updated, 502 unchanged" in run(
        "import_registry", str(files["members"]), "--kind", "members"
    )
    assert "0 created, 0 updated, 195 unchanged" in run(
        "import_activities", str(files["activities"])
    )
    assert before == (Group.objects.count(), Member.objects.count(), Activity.objects.count())
    assert rollup("--unit", "01") == wards
    assert "No difference" in run("activity_rollup", "--verify")

    # One bad row: nothing written, the report names row, column and reason.
    bad = write_csv(
        tmp_path / "bad.csv",
        [
            ["ward", "group", "ref", "date", "activity_type", "participants", "citizens"],
            [TUONG_MAI, "MT02", "HV9", "01/07/2025", "home_visit", 3, "C001"],
            [TUONG_MAI, "MT02", "HV10", "01/07/2025", "home_visit", 3, "C999"],
        ],
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_activities", str(bad), stdout=io.StringIO(), stderr=err)
    assert "row 3, column citizens: no citizen with the code “C999” in commune/ward 00322" in (
        err.getvalue()
    )
    assert rollup("--unit", "01") == wards
