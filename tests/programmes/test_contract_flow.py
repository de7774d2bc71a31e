"""The acceptance test of the programmes' contract, end to end through the commands only.

On an empty database: load Sơn La's communes (province 14) from the official list, import 55
preschools (11 in each of five wards) as registry units of type school, then a meals programme
at 6,800 VND per child-day, its contributions, 8,963 children and the deliveries, and check the
statement against this hand computation:

Children: 53 schools of 163 and 2 of 162 → 53 × 163 + 2 × 162 = 8,639 + 324 = 8,963.
Deliveries: each school in September (20 school days) and October (22 days), each billed at
6,800 VND per child-day:
    child-days  8,963 × (20 + 22) = 376,446
    cost        376,446 × 6,800 = 2,559,832,800
plus a delivery of 1 child-day (6,800) to child TL-00001-001 on 5 Nov 2025, after their end
date (31 Oct 2025) — flagged; and one of 10 child-days for 70,000 VND (7,000 a day, above the
rate) — flagged.
    meal_days   376,446 + 1 + 10 = 376,457
    spent_vnd   2,559,832,800 + 6,800 + 70,000 = 2,559,909,600
    cost per meal-day 2,559,909,600 ÷ 376,457 = 6,800.0018… → 6,800
Money: two contributions of 2,000,000,000 and 700,000,000 → raised 2,700,000,000;
balance 2,700,000,000 − 2,559,909,600 = 140,090,400.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from programmes.models import Beneficiary, Delivery, Programme
from registry.models import AdministrativeUnit

WARDS = ["03646", "03664", "03670", "03679", "03688"]
RATE = 6800


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def write_csv(path: Path, rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _schools() -> list[tuple[str, str]]:
    return [(ward, f"MN-{ward}-{n:02d}") for ward in WARDS for n in range(1, 12)]


def _children_per_school() -> list[int]:
    return [163] * 53 + [162] * 2


@pytest.mark.django_db(transaction=False)
def test_meals_programme_statement_matches_hand_computation(tmp_path):
    assert not AdministrativeUnit.objects.exists() and not Programme.objects.exists()
    run("load_divisions", "--province", "14")

    schools = _schools()
    units = [["ward", "code", "name", "unit_type", "staff"]]
    units += [[w, code, f"Trường Mầm non {code}", "school", 12] for w, code in schools]
    run("import_registry", str(write_csv(tmp_path / "units.csv", units)), "--kind", "units")

    programmes = write_csv(
        tmp_path / "programmes.csv",
        [
            ["code", "name", "organiser", "province", "kind", "starts", "ends", "daily_rate_vnd"],
            [
                "SL-BUA-TRUA",
                "Bữa trưa cho em",
                "Hội Khuyến học tỉnh Sơn La",
                "14",
                "meals",
                "01/09/2025",
                "31/05/2026",
                "6.800",
            ],
        ],
    )
    assert "1 created" in run("import_programmes", str(programmes))

    contributions = write_csv(
        tmp_path / "contributions.csv",
        [
            ["programme", "ref", "date", "donor", "amount_vnd", "donor_public"],
            ["SL-BUA-TRUA", "PT-1", "2025-08-20", "Quỹ Bảo trợ trẻ em", "2000000000", "có"],
            ["SL-BUA-TRUA", "PT-2", "2025-09-15", "Doanh nghiệp A", "700000000", "không"],
        ],
    )
    run("import_contributions", str(contributions))

    children = [
        ["programme", "ward", "code", "full_name", "birth_year", "school", "starts", "ends"]
    ]
    for (ward, school), count in zip(schools, _children_per_school(), strict=True):
        for n in range(1, count + 1):
            ends = "2025-10-31" if (school, n) == (schools[0][1], 1) else ""
            children.append(
                [
                    "SL-BUA-TRUA",
                    ward,
                    f"TL-{school[-8:]}-{n:03d}",
                    f"Cháu {school} số {n}",
                    2021,
                    school,
                    "2025-09-01",
                    ends,
                ]
            )
    assert len(children) - 1 == 8963
    run("import_beneficiaries", str(write_csv(tmp_path / "children.csv", children)))
    assert Beneficiary.objects.count() == 8963

    first_child = children[1][2]
    deliveries = [
        ["programme", "ref", "date", "ward", "school", "kind", "beneficiary", "days", "amount_vnd"]
    ]
    for (ward, school), count in zip(schools, _children_per_school(), strict=True):
        for month, days in (("09", 20), ("10", 22)):
            deliveries.append(
                [
                    "SL-BUA-TRUA",
                    f"{school}-{month}",
                    f"2025-{month}-28",
                    ward,
                    school,
                    "meals",
                    "",
                    count * days,
                    count * days * RATE,
                ]
            )
    deliveries.append(
        [
            "SL-BUA-TRUA",
            "LATE-1",
            "2025-11-05",
            WARDS[0],
            schools[0][1],
            "meals",
            first_child,
            1,
            6800,
        ]
    )
    deliveries.append(
        ["SL-BUA-TRUA", "DEAR-1", "2025-11-06", WARDS[1], schools[11][1], "meals", "", 10, 70000]
    )
    path = write_csv(tmp_path / "deliveries.csv", deliveries)
    assert "112 created" in run("import_deliveries", str(path))
    # A rerun of the same file changes nothing.
    assert "0 created, 0 updated, 112 unchanged" in run("import_deliveries", str(path))

    out = run("programme_statement", "SL-BUA-TRUA", "--to", "2025-11-30", "--format", "json")
    s = json.loads(out)
    assert s["meal_days"] == 376_457
    assert s["spent_vnd"] == 2_559_909_600
    assert s["cost_per_meal_day_vnd"] == 6_800
    assert s["raised_vnd"] == 2_700_000_000
    assert s["balance_vnd"] == 140_090_400
    assert s["beneficiaries"] == 8963
    assert s["schools"] == 55
    assert s["wards"] == 5
    kinds = [w["kind"] for w in s["warnings"]]
    late = [w for w in s["warnings"] if w["kind"] == "outside_period"]
    assert [w["refs"] for w in late] == [["LATE-1"]]
    assert [w["refs"] for w in s["warnings"] if w["kind"] == "above_daily_rate"] == [["DEAR-1"]]
    assert "two_programmes" not in kinds and "code_reused" not in kinds

    # September alone: 8,963 × 20 child-days.
    sept = json.loads(
        run(
            "programme_statement",
            "SL-BUA-TRUA",
            "--from",
            "2025-09-01",
            "--to",
            "2025-09-30",
            "--format",
            "json",
        )
    )
    assert sept["meal_days"] == 179_260
    assert sept["spent_vnd"] == 179_260 * 6800
    assert sept["raised_vnd"] == 700_000_000

    csv_out = run("programme_statement", "SL-BUA-TRUA", "--format", "csv")
    assert "figure,meal_days,376457" in csv_out
    assert "The programmes' summaries are exact." in run("programme_statement", "--verify")

    # The summary moved if a delivery's amount is changed behind the services' back.
    Delivery.objects.filter(ref="LATE-1").update(amount_vnd=1)
    with pytest.raises(CommandError):
        run("programme_statement", "--verify")
