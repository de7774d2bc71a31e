"""The acceptance test of the contract (DESIGN section 4), end to end through commands only.

On an empty database, using only the contract's files and commands: load a province's communes
from the official list, load criteria sets, import communities, clans and families, import the
families' registrations with their historical outcomes and the clans' registrations with
evidence, run `evaluate --output`, and check each clan against a hand computation.

Setting: Xã Than Uyên (ward 03595) of Lai Châu (province 12). Criteria sets of our own, scoped
to the province, valid in 2024 only:

LC-CLAN-2024 (pass: 80 points and C1; outstanding: 95 points)
    S1 share of households recognised as Learning Families ≥ 0.7 → 40
    C1 boolean → 20        C2 number ≥ 2 → 20        C3 scale, max 20

LC-FAM-2024 (pass: 50 points and F1; outstanding: 90)
    F1 boolean → 40        F2 number ≥ 2 → 30        F3 scale, max 30

Hand computation, clan by clan (a household counts when *recognised in 2024*: recognised or
outstanding; not_recognized, unregistered, merely evaluated or recognised in 2023 do not):

DH-A  households A1–A5: A1 outstanding, A2–A4 recognized, A5 not_recognized → 4/5 = 80% ≥ 70%
      → S1 40; C1 "có" → 20; C2 3 ≥ 2 → 20; C3 7 → 7.  Total 87 ≥ 80, C1 met → passed;
      87 < 95 → not outstanding.  Nothing missing.
DH-B  households B01–B10: B01 outstanding, B02–B07 recognized (7), B08–B09 not_recognized,
      B10 never registered → 7/10 = 70%, exactly the minimum → S1 40; C1 "yes" → 20;
      C2 2 = min → 20; C3 25 capped at 20 → 20.  Total 100 → passed, outstanding.
DH-C  households C1–C3: C1 recognized, C2 outstanding, C3 recognised in 2023 but in 2024 only
      registered (its evaluation this run passes, which is not a recognition) → 2/3 = 66.7% < 70%
      → S1 0; C1 "1" → 20; C2 5 → 20; C3 10 → 10.  Total 50 < 80 → not passed.
DH-D  households D1–D4 all recognized (decision 46) → 4/4 → S1 40; C1 "không" → 0; C2 4 → 20;
      C3 20 → 20.  Total 80 ≥ 80 but required C1 failed → not passed; failed_required C1.
DH-E  households E1–E2, neither registered → 0/2 → S1 0; C1 empty → missing; C2 1 < 2 → 0;
      C3 empty → missing.  Total 0 → not passed; missing C1 C3; failed_required C1.

Household C3 itself (the only undecided family): F1 "có" → 40; F2 3 ≥ 2 → 30; F3 25 → 25.
Total 95 ≥ 50 with F1 → passed; 95 ≥ 90 → outstanding.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import Workbook

from registry.models import AdministrativeUnit, Entity, Kind
from titles.models import CriteriaSet, Decision, Registration, State

WARD = "03595"

CLAN_SET = {
    "code": "LC-CLAN-2024",
    "title": "clan",
    "name": "Dòng họ học tập — Lai Châu 2024",
    "valid_from": 2024,
    "valid_to": 2024,
    "province": "12",
    "pass": {"min_points": 80, "required": ["C1"]},
    "outstanding": {"min_points": 95},
    "criteria": [
        {
            "code": "S1",
            "text": "Từ 70% hộ trong dòng họ được công nhận Gia đình học tập",
            "type": "share",
            "of": "family",
            "min": 0.7,
            "points": 40,
        },
        {"code": "C1", "text": "Có quỹ khuyến học", "type": "boolean", "points": 20},
        {"code": "C2", "text": "Số buổi tuyên dương", "type": "number", "min": 2, "points": 20},
        {"code": "C3", "text": "Tác động của học tập", "type": "scale", "max": 20},
    ],
}

FAMILY_SET = {
    "code": "LC-FAM-2024",
    "title": "family",
    "name": "Gia đình học tập — Lai Châu 2024",
    "valid_from": 2024,
    "valid_to": 2024,
    "province": "12",
    "pass": {"min_points": 50, "required": ["F1"]},
    "outstanding": {"min_points": 90},
    "criteria": [
        {"code": "F1", "text": "Trẻ em đi học đầy đủ", "type": "boolean", "points": 40},
        {"code": "F2", "text": "Số chủ đề học", "type": "number", "min": 2, "points": 30},
        {"code": "F3", "text": "Điều kiện học tập", "type": "scale", "max": 30},
    ],
}

CLANS = {"DH-A": "Dòng họ Lò", "DH-B": "Dòng họ Hoàng", "DH-C": "Dòng họ Lường",
         "DH-D": "Dòng họ Tòng", "DH-E": "Dòng họ Vì"}  # fmt: skip

# household code -> clan; N1 belongs to no clan
HOUSEHOLDS = {
    **{f"A{n}": "DH-A" for n in range(1, 6)},
    **{f"B{n:02d}": "DH-B" for n in range(1, 11)},
    **{f"C{n}": "DH-C" for n in range(1, 4)},
    **{f"D{n}": "DH-D" for n in range(1, 5)},
    **{f"E{n}": "DH-E" for n in range(1, 3)},
    "N1": "",
}

QD45 = ("45/QĐ-UBND", "20/12/2024")
QD46 = ("46/QĐ-UBND", "2024-12-27")

# household -> (outcome, decision) for 2024; households not listed are not registered
OUTCOMES_2024 = {
    "A1": ("outstanding", QD45),
    **dict.fromkeys(("A2", "A3", "A4"), ("recognized", QD45)),
    "A5": ("not_recognized", None),
    "B01": ("outstanding", QD45),
    **{f"B{n:02d}": ("recognized", QD45) for n in range(2, 8)},
    "B08": ("not_recognized", None),
    "B09": ("not_recognized", None),
    "C1": ("recognized", QD45),
    "C2": ("outstanding", QD45),
    **{f"D{n}": ("recognized", QD46) for n in range(1, 5)},
    "N1": ("recognized", QD45),
}

# clan -> evidence cells C1, C2, C3 (S1 is derived: it has no column)
CLAN_EVIDENCE = {
    "DH-A": ("có", 3, 7),
    "DH-B": ("yes", "2", 25),
    "DH-C": (1, 5, 10),
    "DH-D": ("không", "4", "20"),
    "DH-E": (None, 1, None),
}

# The hand computation of the module docstring, as the evaluate output writes it.
EXPECTED = {
    ("clan", "DH-A"): ("87", "true", "false", "", ""),
    ("clan", "DH-B"): ("100", "true", "true", "", ""),
    ("clan", "DH-C"): ("50", "false", "false", "", ""),
    ("clan", "DH-D"): ("80", "false", "false", "", "C1"),
    ("clan", "DH-E"): ("0", "false", "false", "C1 C3", "C1"),
    ("family", "C3"): ("95", "true", "true", "", ""),
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_contract_flow_from_empty_database_to_evaluated_clans(tmp_path):
    assert not AdministrativeUnit.objects.exists() and not Entity.objects.exists()

    run("load_divisions", "--province", "12")
    for document in (CLAN_SET, FAMILY_SET):
        path = tmp_path / f"{document['code']}.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        assert "created" in run("load_criteria", str(path))

    communities = write_csv(
        tmp_path / "communities.csv",
        [["ward", "code", "name"], [WARD, "BAN-MUONG", "Bản Mường"], [WARD, "BAN-NA", "Bản Nà"]],
    )
    clans = write_csv(
        tmp_path / "clans.csv",
        [["ward", "code", "name", "head_name"]]
        + [[WARD, code, name, f"Trưởng {name}"] for code, name in CLANS.items()],
    )
    families = write_csv(
        tmp_path / "families.csv",
        [["ward", "code", "head_name", "members", "community", "clan"]]
        + [
            [WARD, code, f"Chủ hộ {code}", 4, "BAN-MUONG" if n % 2 else "BAN-NA", clan]
            for n, (code, clan) in enumerate(HOUSEHOLDS.items())
        ],
    )
    assert "2 created" in run("import_registry", str(communities), "--kind", "communities")
    assert "5 created" in run("import_registry", str(clans), "--kind", "clans")
    assert "25 created" in run("import_registry", str(families), "--kind", "families")

    # 2023: household C3 was recognised then; it must not count for 2024.
    history = write_csv(
        tmp_path / "registrations-2023.csv",
        [
            ["kind", "ward", "code", "outcome", "decision_no", "decision_date"],
            ["family", WARD, "C3", "recognized", "31/QĐ-UBND", "15/12/2023"],
        ],
    )
    assert "1 created" in run("import_registrations", str(history), "--year", "2023")

    family_rows = [["kind", "ward", "code", "c.F1", "c.F2", "c.F3", "outcome", "decision_no",
                    "decision_date"]]  # fmt: skip
    for code, (outcome, decision) in OUTCOMES_2024.items():
        number, date = decision or ("", "")
        family_rows.append(["family", WARD, code, "", "", "", outcome, number, date])
    family_rows.append(["family", WARD, "C3", "có", "3", "25", "", "", ""])
    family_file = write_csv(tmp_path / "family-registrations-2024.csv", family_rows)
    assert "22 rows: 22 created" in run("import_registrations", str(family_file), "--year", "2024")

    clan_rows: list[list[Any]] = [["kind", "ward", "code", "c.C1", "c.C2", "c.C3"]]
    clan_rows += [["clan", WARD, code, *cells] for code, cells in CLAN_EVIDENCE.items()]
    clan_file = write_xlsx(tmp_path / "clan-registrations-2024.xlsx", clan_rows)
    assert "5 rows: 5 created" in run("import_registrations", str(clan_file), "--year", "2024")

    # What the imports stored, in the contract's terms.
    stored = Registration.objects.filter(year=2024)
    assert stored.filter(kind=Kind.FAMILY, state=State.RECOGNIZED).count() == 18
    assert stored.filter(kind=Kind.FAMILY, state=State.RECOGNIZED, outstanding=True).count() == 3
    assert stored.filter(kind=Kind.FAMILY, state=State.REJECTED).count() == 3
    assert sorted(Decision.objects.filter(year=2024).values_list("number", "date")) == [
        ("45/QĐ-UBND", dt.date(2024, 12, 20)),
        ("46/QĐ-UBND", dt.date(2024, 12, 27)),
    ]
    assert CriteriaSet.objects.get(code="LC-CLAN-2024").province.code == "12"

    results = tmp_path / "results.csv"
    run("evaluate", "--year", "2024", "--output", str(results))

    with results.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == [
            "kind",
            "ward",
            "code",
            "points",
            "passed",
            "outstanding",
            "missing",
            "failed_required",
        ]
        lines = list(reader)
    assert {line["ward"] for line in lines} == {WARD}
    got = {
        (line["kind"], line["code"]): (
            Decimal(line["points"]),
            line["passed"],
            line["outstanding"],
            line["missing"],
            line["failed_required"],
        )
        for line in lines
    }
    assert len(got) == len(lines)  # one line per registration evaluated
    expected = {key: (Decimal(points), *rest) for key, (points, *rest) in EXPECTED.items()}
    assert got == expected

    # The clans' stored results explain the share the same way.
    shares = {
        reg.entity.code: next(c for c in reg.result["criteria"] if c["code"] == "S1")
        for reg in stored.filter(kind=Kind.CLAN).select_related("entity")
    }
    assert {code: (s["derived"]["numerator"], s["derived"]["denominator"], s["met"])
            for code, s in shares.items()} == {
        "DH-A": (4, 5, True),
        "DH-B": (7, 10, True),
        "DH-C": (2, 3, False),
        "DH-D": (4, 4, True),
        "DH-E": (0, 2, False),
    }  # fmt: skip

    # Importing the same files again changes nothing, evaluated or decided.
    assert "22 rows: 0 created, 0 updated, 22 unchanged" in run(
        "import_registrations", str(family_file), "--year", "2024"
    )
    assert "5 rows: 0 created, 0 updated, 5 unchanged" in run(
        "import_registrations", str(clan_file), "--year", "2024"
    )
