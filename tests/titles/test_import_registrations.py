"""Importing registrations: what the service and `manage.py import_registrations` accept, what
they refuse (naming row, column and reason), and that a refusal writes nothing.

Files are built in the tests. Messages are checked in English (the active language is forced),
so compiled Vietnamese translations cannot break the assertions. Criteria sets are the small
ones of tests.titles.factories: family F1 boolean, F2 number (min 2), F3 scale (max 30); clan C1
boolean, C2 share of families.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from registry.imports.pipeline import CHUNK
from registry.imports.report import ImportReport
from registry.models import Entity, Kind
from registry.services.imports import registry_import
from registry.spreadsheets import match_key
from tests.factories import make_clan, make_community, make_family, make_unit
from tests.progress import recorded_bar
from tests.registry.test_import import csv_bytes
from tests.registry.test_import_xlsx import xlsx_bytes
from tests.titles.factories import CLAN_DOC, FAMILY_DOC, load, registration
from titles.models import (
    Certificate,
    Decision,
    Registration,
    RegistrationEvent,
    RegistrationWindow,
    State,
)
from titles.services.imports import (
    HEADER_ALIASES,
    KIND_WORDS,
    OUTCOME_WORDS,
    registrations_import,
)

YEAR = 2025  # a past year (the sets start in 2025), so outcomes may be imported
HEADER = ["kind", "ward", "code", "c.F1", "c.F2", "c.F3", "c.C1", "c.C2", "outcome",
          "decision_no", "decision_date"]  # fmt: skip


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(ward_a, ward_b):
    """Ward A: area A1, clan DH1 and households H1–H3 of it. Ward B: household HB1, clan DB1."""
    load(FAMILY_DOC)
    load(CLAN_DOC)
    area = make_community(ward_a, code="A1")
    clan = make_clan(ward_a, code="DH1")
    for n in (1, 2, 3):
        make_family(ward_a, code=f"H{n}", community=area, clan=clan)
    make_family(ward_b, code="HB1", community=make_community(ward_b, code="B1"))
    make_clan(ward_b, code="DB1")


def row(kind: str = "family", ward: str = "00070", code: str = "H1", **cells: Any) -> list[Any]:
    """A row of HEADER; evidence given as F1="có", outcome etc. by name."""
    values = {"kind": kind, "ward": ward, "code": code}
    values.update(
        {f"c.{k}" if k[0] in "FC" and k[1:].isdigit() else k: v for k, v in cells.items()}
    )
    return [values.get(column, "") for column in HEADER]


def run(
    rows: list[list[Any]],
    *,
    header: list[Any] | None = None,
    year: int = YEAR,
    dry_run: bool = False,
    user: Any = None,
    filename: str = "dang-ky.csv",
    data: bytes | None = None,
) -> ImportReport:
    if data is None:
        data = csv_bytes([header or HEADER, *rows])
    return registrations_import(
        file=io.BytesIO(data), filename=filename, year=year, dry_run=dry_run, user=user
    )


def family(code: str) -> Entity:
    return Entity.objects.get(kind=Kind.FAMILY, code=code)


def regs() -> dict[str, Registration]:
    return {r.entity.code: r for r in Registration.objects.select_related("entity", "decision")}


def assert_refused(report: ImportReport, *, row: int, column: str, reason: str) -> None:
    """The report names this row, column and reason, and nothing was written."""
    assert not report.ok
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
    found = [(e.row, e.column, e.reason) for e in report.errors]
    assert any(r == row and c == column and reason in why for r, c, why in found), found


def assert_nothing_written() -> None:
    assert not Registration.objects.exists()
    assert not RegistrationEvent.objects.exists()
    assert not Decision.objects.exists()


# --- Accepting ---------------------------------------------------------------------------------


def test_families_and_a_clan_with_evidence_and_outcomes(world, ward_a):
    report = run(
        [
            row(
                code="H1",
                F1="có",
                F2="3",
                F3="25",
                outcome="outstanding",
                decision_no="12/QĐ-UBND",
                decision_date="15/12/2025",
            ),
            row(
                code="H2",
                F1="Yes",
                F2="2,5",
                outcome="recognized",
                decision_no="12/QĐ-UBND",
                decision_date="2025-12-15",
            ),
            row(code="H3", F1="KHÔNG", outcome="not_recognized"),
            row(kind="clan", code="DH1", C1="1"),
        ]  # fmt: skip
    )
    assert report.ok, report.errors
    assert (report.rows, report.created, report.updated, report.unchanged) == (4, 4, 0, 0)
    assert report.written
    stored = regs()
    h1, h2, h3, clan = stored["H1"], stored["H2"], stored["H3"], stored["DH1"]
    assert (h1.state, h1.outstanding, h1.evidence) == (
        State.RECOGNIZED,
        True,
        {"F1": "có", "F2": "3", "F3": "25"},
    )
    assert (h2.state, h2.outstanding, h2.evidence) == (
        State.RECOGNIZED,
        False,
        {"F1": "Yes", "F2": "2,5"},
    )
    assert h1.decision == h2.decision
    decision = Decision.objects.get()
    assert (decision.ward, decision.province_id, decision.year, decision.number, decision.date) == (
        ward_a,
        ward_a.parent_id,
        YEAR,
        "12/QĐ-UBND",
        dt.date(2025, 12, 15),
    )
    assert (h3.state, h3.decision, h3.evidence) == (State.REJECTED, None, {"F1": "KHÔNG"})
    assert h3.rejection_reason
    assert (clan.state, clan.kind, clan.evidence) == (State.SUBMITTED, Kind.CLAN, {"C1": "1"})
    assert (clan.ward, clan.province_id, clan.year) == (ward_a, ward_a.parent_id, YEAR)
    events = RegistrationEvent.objects.filter(action=RegistrationEvent.Action.IMPORT)
    assert events.count() == 4
    assert events.get(registration=h1).detail == {
        "row": 2,
        "after": {"F1": "có", "F2": "3", "F3": "25"},
        "outcome": "outstanding",
        "decision": "12/QĐ-UBND",
    }


def test_a_file_of_only_kind_ward_code_registers(world):
    report = run(
        [["family", "70", "H1"], ["Dòng họ", "070", "DH1"]], header=["kind", "ward", "code"]
    )
    assert report.ok, report.errors
    assert {code: (r.state, r.evidence) for code, r in regs().items()} == {
        "H1": (State.REGISTERED, {}),
        "DH1": (State.REGISTERED, {}),
    }


def test_vietnamese_headers_with_bom_and_semicolons(world):
    header = ["Loại", "Mã phường/xã", "Mã", "C.F1", "tc.F2", "Kết quả", "Số QĐ", "NGAY QUYET DINH"]
    data = csv_bytes(
        [
            header,
            ["Gia đình học tập", "00070", "H1", "Có", "4", "Công nhận", "05/QĐ", "20.12.2025"],
            ["hộ gia đình", "00070", "H2", "không", "", "Không đạt", "", ""],
            ["dong ho", "00070", "DH1", "", "", "", "", ""],
        ],
        bom=True,
        delimiter=";",
    )
    report = run([], data=data)
    assert report.ok, report.errors
    stored = regs()
    assert (stored["H1"].state, stored["H1"].evidence) == (
        State.RECOGNIZED,
        {"F1": "Có", "F2": "4"},
    )
    assert stored["H1"].decision.date == dt.date(2025, 12, 20)
    assert stored["H2"].state == State.REJECTED
    assert stored["DH1"].kind == Kind.CLAN


def test_xlsx_typed_cells(world):
    data = xlsx_bytes(
        [
            [
                "kind",
                "ward",
                "code",
                "c.F1",
                "c.F2",
                "c.F3",
                "outcome",
                "decision_no",
                "decision_date",
            ],
            ["family", 70, "H1", True, 3, 7.5, "recognized", "QD-1", dt.datetime(2025, 12, 1)],
            ["family", 70.0, "H2", 0, 2.0, 40, None, None, None],
            ["family", "00070", "H3", "yes", "1,5", None, None, None, None],
        ]  # fmt: skip
    )
    report = run([], data=data, filename="Đăng ký 2025.xlsx")
    assert report.ok, report.errors
    stored = regs()
    assert stored["H1"].evidence == {"F1": "1", "F2": "3", "F3": "7.5"}
    assert stored["H1"].decision.date == dt.date(2025, 12, 1)
    assert stored["H2"].evidence == {"F1": "0", "F2": "2", "F3": "40"}  # a scale is capped later
    assert stored["H3"].evidence == {"F1": "yes", "F2": "1,5"}


def test_xlsx_errors_are_refused_like_csv(world):
    data = xlsx_bytes([["kind", "ward", "code", "c.F1"], ["family", 70, "H1", 2]])
    report = run([], data=data, filename="dang-ky.xlsx")
    assert_refused(report, row=2, column="c.F1", reason="“2” is not valid for F1: expected yes/no")
    assert_nothing_written()


def test_evidence_codes_match_ignoring_case_and_are_stored_as_the_set_writes_them(world):
    report = run(
        [["family", "00070", "H1", "true", "2"]], header=["kind", "ward", "code", "c.f1", "C.F2"]
    )
    assert report.ok, report.errors
    assert regs()["H1"].evidence == {"F1": "true", "F2": "2"}


def test_a_file_may_mix_kinds_and_other_kinds_columns_stay_empty(world, ward_a):
    make_unit(ward_a, code="DV1")
    report = run(
        [
            row(code="H1", F1="có"),
            row(kind="clan", code="DH1", C1="không"),
            row(kind="unit", code="DV1"),  # no unit set is loaded: fine without evidence
        ]
    )
    assert report.ok, report.errors
    assert {code: r.evidence for code, r in regs().items()} == {
        "H1": {"F1": "có"},
        "DH1": {"C1": "không"},
        "DV1": {},
    }


@pytest.mark.parametrize(
    ("value", "kind"),
    [("1", True), ("0", False), ("TRUE", True), ("false", False), ("Yes", True), ("NO", False),
     ("có", True), ("Không", False), ("CÓ", True)],
)  # fmt: skip
def test_boolean_evidence_words(world, value, kind):
    report = run([row(code="H1", F1=value)])
    assert report.ok, report.errors
    assert regs()["H1"].evidence == {"F1": value}


@pytest.mark.parametrize("value", ["0", "2", "2.5", "2,5", " 3 ", "10000"])
def test_number_evidence_values(world, value):
    report = run([row(code="H1", F2=value)])
    assert report.ok, report.errors
    assert regs()["H1"].evidence == {"F2": value.strip()}


# --- Re-importing and updating ----------------------------------------------------------------


def test_reimport_of_the_same_file_changes_nothing(world):
    rows = [
        row(code="H1", F1="có", outcome="recognized", decision_no="QD1",
            decision_date="01/12/2025"),
        row(code="H2", F1="0", outcome="not_recognized"),
        row(code="H3", F2="3"),
        row(kind="clan", code="DH1", C1="có"),
    ]  # fmt: skip
    first = run(rows)
    assert first.ok, first.errors
    before = {code: (r.version, r.updated_at, r.state) for code, r in regs().items()}
    events = RegistrationEvent.objects.count()
    again = run(rows)
    assert again.ok, again.errors
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert not again.written
    assert {code: (r.version, r.updated_at, r.state) for code, r in regs().items()} == before
    assert RegistrationEvent.objects.count() == events
    assert Decision.objects.count() == 1


def test_new_evidence_updates_and_sends_an_evaluated_registration_back(world):
    reg = registration(
        family("H1"),
        year=YEAR,
        state=State.EVALUATED,
        evidence={"F1": "có", "F3": "20"},
    )
    report = run([["family", "70", "H1", "4", ""]], header=["kind", "ward", "code", "c.F2", "c.F3"])
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    reg.refresh_from_db()
    # F2 set, F3 cleared by its empty cell, F1 (no column in the file) kept
    assert reg.evidence == {"F1": "có", "F2": "4"}
    assert (reg.state, reg.version) == (State.SUBMITTED, 2)
    event = reg.events.get(action=RegistrationEvent.Action.IMPORT)
    assert (event.from_state, event.to_state) == (State.EVALUATED, State.SUBMITTED)
    assert event.detail["before"] == {"F1": "có", "F3": "20"}
    assert event.detail["after"] == {"F1": "có", "F2": "4"}


def test_a_file_without_evidence_columns_leaves_stored_evidence_alone(world):
    reg = registration(
        family("H1"),
        year=YEAR,
        state=State.EVALUATED,
        evidence={"F1": "có"},
    )
    report = run([["family", "70", "H1"]], header=["kind", "ward", "code"])
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    reg.refresh_from_db()
    assert (reg.state, reg.evidence, reg.version) == (State.EVALUATED, {"F1": "có"}, 1)


def test_an_outcome_decides_an_undecided_registration(world):
    reg = registration(family("H1"), year=YEAR, state=State.SUBMITTED, evidence={"F1": "có"})
    report = run(
        [["family", "70", "H1", "outstanding", "QD9", "2025-12-30"]],
        header=["kind", "ward", "code", "outcome", "decision_no", "decision_date"],
    )
    assert report.ok, report.errors
    assert report.updated == 1
    reg.refresh_from_db()
    assert (reg.state, reg.outstanding, reg.decision.number, reg.evidence, reg.version) == (
        State.RECOGNIZED,
        True,
        "QD9",
        {"F1": "có"},
        2,
    )
    event = reg.events.get()
    assert (event.from_state, event.to_state, event.detail["outcome"]) == (
        State.SUBMITTED,
        State.RECOGNIZED,
        "outstanding",
    )


def test_a_stored_decision_of_the_ward_is_reused(world, ward_a):
    stored = Decision.objects.create(
        ward=ward_a,
        province_id=ward_a.parent_id,
        year=YEAR,
        number="QD1",
        date=dt.date(2025, 12, 1),
    )
    report = run(
        [row(code="H1", outcome="recognized", decision_no="QD1", decision_date="1/12/2025")]
    )
    assert report.ok, report.errors
    assert regs()["H1"].decision == stored
    assert Decision.objects.count() == 1


def test_the_same_decision_number_in_two_wards_is_two_decisions(world):
    report = run(
        [
            row(code="H1", outcome="recognized", decision_no="QD1", decision_date="01/12/2025"),
            row(
                ward="00004",
                code="HB1",
                outcome="recognized",
                decision_no="QD1",
                decision_date="02/12/2025",
            ),
        ]  # fmt: skip
    )
    assert report.ok, report.errors
    assert sorted(Decision.objects.values_list("ward__code", "date")) == [
        ("00004", dt.date(2025, 12, 2)),
        ("00070", dt.date(2025, 12, 1)),
    ]


# --- Dry run -----------------------------------------------------------------------------------


def test_dry_run_reports_what_would_happen_and_writes_nothing(world):
    rows = [
        row(code="H1", F1="có", outcome="recognized", decision_no="QD1",
            decision_date="01/12/2025"),
        row(code="H2", F1="0"),
    ]  # fmt: skip
    report = run(rows, dry_run=True)
    assert report.ok, report.errors
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 2, 0, 0)
    assert not report.written
    assert_nothing_written()


def test_dry_run_of_an_update_leaves_the_registration_as_it_was(world):
    entity = family("H1")
    reg = registration(entity, year=YEAR, state=State.EVALUATED, evidence={"F1": "có"})
    report = run([row(code="H1", F1="không")], dry_run=True)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    reg.refresh_from_db()
    assert (reg.state, reg.evidence, reg.version) == (State.EVALUATED, {"F1": "có"}, 1)
    assert not RegistrationEvent.objects.exists()


# --- Refusing: the file ------------------------------------------------------------------------


def test_not_utf8_is_refused(world):
    data = csv_bytes([HEADER, row(code="H1", F1="có")], encoding="cp1258")
    report = run([], data=data)
    assert_refused(report, row=0, column="", reason="not UTF-8")
    assert_nothing_written()


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n", b" , ,\n"])
def test_an_empty_file_is_refused(world, data):
    assert_refused(run([], data=data), row=0, column="", reason="The file is empty.")


def test_a_header_only_file_is_refused(world):
    report = run([])
    assert_refused(report, row=0, column="", reason="header row but no data rows")


def test_a_blank_row_above_the_header_is_skipped(world):
    data = csv_bytes([["", "", ""], ["kind", "ward", "code"], ["family", "70", "NOPE"]])
    assert_refused(run([], data=data), row=3, column="code", reason="no family with the code")


def test_an_unknown_file_type_is_refused(world):
    report = run([], data=b"kind,ward,code\n", filename="dang-ky.ods")
    assert_refused(report, row=0, column="", reason="Only .csv and .xlsx")


def test_a_damaged_workbook_is_refused(world):
    report = run([], data=b"PK\x03\x04 not really", filename="dang-ky.xlsx")
    assert_refused(report, row=0, column="", reason="not a valid .xlsx")


def test_an_oversized_file_is_refused(world, settings):
    settings.IMPORT_MAX_BYTES = 100
    report = run([row(code=f"H{n}") for n in range(10)])
    assert_refused(report, row=0, column="", reason="larger than the limit")


@pytest.mark.parametrize("year", [0, 1899, 2101, 32768])
def test_a_year_out_of_range_is_refused(world, year):
    report = run([row(code="H1")], year=year)
    assert_refused(report, row=0, column="", reason="is not a year between 1900 and 2100")


@pytest.mark.parametrize("missing", ["kind", "ward", "code"])
def test_a_missing_required_column_is_refused(world, missing):
    header = [c for c in ("kind", "ward", "code") if c != missing]
    values = {"kind": "family", "ward": "70", "code": "H1"}
    report = run([[values[c] for c in header]], header=header)
    assert_refused(report, row=1, column=missing, reason="required column is missing")
    assert_nothing_written()


def test_two_headers_for_one_column_are_refused(world):
    report = run([["family", "70", "H1", "H1"]], header=["kind", "ward", "code", "Mã"])
    assert_refused(report, row=1, column="code", reason="“code” and “Mã” both mean code")


def test_two_columns_for_one_criterion_are_refused(world):
    report = run(
        [["family", "70", "H1", "có", "có"]], header=["kind", "ward", "code", "c.F1", "tc.f1"]
    )
    assert_refused(report, row=1, column="tc.f1", reason="are the same criterion")


def test_an_evidence_column_without_a_code_is_refused(world):
    report = run([["family", "70", "H1", "có"]], header=["kind", "ward", "code", "c."])
    assert_refused(report, row=1, column="c.", reason="needs a criterion code")


def test_unknown_columns_are_noted_not_refused(world):
    report = run([["family", "70", "H1", "x"]], header=["kind", "ward", "code", "Ghi chú"])
    assert report.ok, report.errors
    assert report.notes == ["Columns not used for registrations were ignored: “Ghi chú”."]


# --- Refusing: rows ----------------------------------------------------------------------------


BAD_ROWS = [
    pytest.param(row(kind="household"), "kind", "“household” is not a kind", id="unknown-kind"),
    pytest.param(row(kind=""), "kind", "this cell is empty", id="empty-kind"),
    pytest.param(row(ward=""), "ward", "this cell is empty", id="empty-ward"),
    pytest.param(row(code=" "), "code", "this cell is empty", id="empty-code"),
    pytest.param(
        row(ward="99999"),
        "ward",
        "no commune/ward in force has the code “99999”",
        id="unknown-ward",
    ),
    pytest.param(
        row(code="H404"),
        "code",
        "no family with the code “H404” in commune/ward 00070",
        id="unknown-entity",
    ),
    pytest.param(
        row(code="HB1"),
        "code",
        "no family with the code “HB1” in commune/ward 00070",
        id="entity-of-another-ward",
    ),
    pytest.param(
        row(kind="clan", code="H1"),
        "code",
        "no clan with the code “H1” in commune/ward 00070",
        id="entity-of-another-kind",
    ),
    pytest.param(row(code="H" * 65), "code", "longer than 64 characters", id="code-too-long"),
    pytest.param(
        row(F1="maybe"),
        "c.F1",
        "“maybe” is not valid for F1: expected yes/no (có/không, 1/0, true/false)",
        id="bad-boolean",
    ),
    pytest.param(row(F1="2"), "c.F1", "“2” is not valid for F1: expected yes/no", id="bool-two"),
    pytest.param(
        row(F2="hai"),
        "c.F2",
        "“hai” is not valid for F2: expected a number of 0 or more, such as 3 or 2,5",
        id="bad-number",
    ),
    pytest.param(row(F2="-1"), "c.F2", "“-1” is not valid for F2", id="negative-number"),
    pytest.param(row(F2="1.234,5"), "c.F2", "“1.234,5” is not valid for F2", id="separators"),
    pytest.param(row(F2="yes"), "c.F2", "“yes” is not valid for F2", id="yes-for-number"),
    pytest.param(
        row(F3="7 điểm"),
        "c.F3",
        "“7 điểm” is not valid for F3: expected points of 0 or more, such as 7 or 7,5 "
        "(counted up to 30)",
        id="bad-scale",
    ),
    pytest.param(row(F3="1e3"), "c.F3", "“1e3” is not valid for F3", id="exponent"),
    pytest.param(
        row(C1="có"),
        "c.C1",
        "C1 is not a criterion of T-FAM, the set for Learning Family in 2025",
        id="criterion-not-in-set",
    ),
    pytest.param(
        row(kind="clan", code="DH1", C2="0.8"),
        "c.C2",
        "C2 is a share criterion, computed from the members' recognitions; leave this cell empty",
        id="share-criterion",
    ),
    pytest.param(row(outcome="đậu"), "outcome", "“đậu” is not an outcome", id="unknown-outcome"),
    pytest.param(
        row(outcome="recognized", decision_date="01/12/2025"),
        "decision_no",
        "a recognition needs the number of its decision",
        id="recognized-without-number",
    ),
    pytest.param(
        row(outcome="outstanding", decision_no="QD1"),
        "decision_date",
        "a recognition needs the date of its decision",
        id="outstanding-without-date",
    ),
    pytest.param(
        row(outcome="recognized", decision_no="QD1", decision_date="31/02/2025"),
        "decision_date",
        "“31/02/2025” is not a date; write it as 2024-12-15 or 15/12/2024",
        id="bad-date",
    ),
    pytest.param(
        row(outcome="recognized", decision_no="QD1", decision_date="12/15/2025"),
        "decision_date",
        "“12/15/2025” is not a date",
        id="month-day-swapped",
    ),
    pytest.param(
        row(outcome="recognized", decision_no="QD1", decision_date="31/12/2024"),
        "decision_date",
        "31/12/2024 cannot be the date of a decision on 2025",
        id="date-before-the-year",
    ),
    pytest.param(
        row(outcome="not_recognized", decision_no="QD1"),
        "decision_no",
        "a registration that was not recognised has no recognition decision",
        id="not-recognized-with-number",
    ),
    pytest.param(
        row(decision_no="QD1", decision_date="01/12/2025"),
        "decision_no",
        "a decision without an outcome",
        id="decision-without-outcome",
    ),
    pytest.param(
        row(outcome="recognized", decision_no="Q" * 65, decision_date="01/12/2025"),
        "decision_no",
        "longer than 64 characters",
        id="decision-number-too-long",
    ),
]


@pytest.mark.parametrize(("bad_row", "column", "reason"), BAD_ROWS)
def test_a_bad_row_is_refused_and_nothing_is_written(world, bad_row, column, reason):
    good = row(code="H2", F1="có", outcome="recognized", decision_no="QD7",
               decision_date="02/12/2025")  # fmt: skip
    report = run([good, bad_row])
    assert_refused(report, row=3, column=column, reason=reason)
    assert_nothing_written()


def test_one_problem_per_cell(world):
    report = run([row(outcome="not_recognized", decision_date="hôm qua")])
    assert [(e.row, e.column) for e in report.errors] == [(2, "decision_date")]
    assert "has no recognition decision" in report.errors[0].reason


def test_a_decision_date_in_the_future_is_refused(world):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    report = run(
        [row(outcome="recognized", decision_no="QD1", decision_date=tomorrow.isoformat())],
        year=tomorrow.year,
    )
    assert_refused(report, row=2, column="decision_date", reason="must fall between")


def test_evidence_for_a_kind_without_a_criteria_set_is_refused(world, ward_a):
    make_unit(ward_a, code="DV1")
    report = run([row(kind="unit", code="DV1", F1="có")])
    assert_refused(
        report,
        row=2,
        column="c.F1",
        reason="no criteria set for Learning Unit is in force in 2025",
    )


def test_evidence_for_a_year_before_the_set_is_refused(world):
    report = run([row(code="H1", F1="có")], year=2024)
    assert_refused(report, row=2, column="c.F1", reason="no criteria set for Learning Family")


def test_a_duplicate_row_is_refused(world):
    report = run([row(code="H1", F1="có"), row(code="H2"), row(ward="70", code="H1", F1="không")])
    assert_refused(
        report,
        row=4,
        column="code",
        reason="the same family as row 2 (H1 of commune/ward 00070)",
    )
    assert_nothing_written()


def test_the_same_code_as_two_kinds_is_not_a_duplicate(world, ward_a):
    make_clan(ward_a, code="H1")
    report = run([row(code="H1"), row(kind="clan", code="H1")])
    assert report.ok, report.errors
    assert Registration.objects.count() == 2


def test_conflicting_dates_for_one_decision_number_are_refused(world):
    report = run(
        [
            row(code="H1", outcome="recognized", decision_no="QD1", decision_date="01/12/2025"),
            row(code="H2", outcome="recognized", decision_no="QD1", decision_date="02/12/2025"),
        ]
    )
    assert_refused(
        report, row=3, column="decision_date", reason="decision QD1 is dated 01/12/2025 on row 2"
    )
    assert_nothing_written()


def test_a_date_that_contradicts_a_stored_decision_is_refused(world, ward_a):
    Decision.objects.create(
        ward=ward_a,
        province_id=ward_a.parent_id,
        year=YEAR,
        number="QD1",
        date=dt.date(2025, 12, 1),
    )
    report = run([row(outcome="recognized", decision_no="QD1", decision_date="03/12/2025")])
    assert_refused(
        report,
        row=2,
        column="decision_date",
        reason="decision QD1 is already recorded with the date 01/12/2025",
    )
    assert not Registration.objects.exists()


def test_a_stored_decision_of_another_year_is_refused(world, ward_a):
    Decision.objects.create(
        ward=ward_a, province_id=ward_a.parent_id, year=2024, number="QD1", date=dt.date(2025, 1, 5)
    )
    report = run([row(outcome="recognized", decision_no="QD1", decision_date="05/01/2025")])
    assert_refused(
        report,
        row=2,
        column="decision_no",
        reason="decision QD1 of commune/ward 00070 is a decision on 2024, not 2025",
    )


def test_every_problem_is_reported_at_once_in_row_order(world):
    report = run(
        [
            row(code="H404", F1="maybe"),
            row(code="H1"),
            row(kind="?", ward="99999", F2="x", outcome="??"),
        ]
    )
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "code"),
        (4, "kind"),
        (4, "ward"),
        (4, "outcome"),
    ]
    # Row 2's evidence is not checked while its entity is unknown; row 4's neither.
    assert_nothing_written()


# --- Decided registrations ---------------------------------------------------------------------


@pytest.fixture
def decided(world):
    """H1 recognised under QD1, H2 rejected — as a first import left them."""
    report = run(
        [
            row(
                code="H1",
                F1="có",
                outcome="recognized",
                decision_no="QD1",
                decision_date="01/12/2025",
            ),
            row(code="H2", F1="không", outcome="not_recognized"),
        ]  # fmt: skip
    )
    assert report.ok, report.errors
    return {code: (r.state, r.version, dict(r.evidence)) for code, r in regs().items()}


@pytest.mark.parametrize(
    ("changed", "column", "reason"),
    [
        (row(code="H1", F1="có", outcome="outstanding", decision_no="QD1",
             decision_date="01/12/2025"), "outcome", "already decided (Recognised)"),
        (row(code="H1", F1="có", outcome="not_recognized"), "outcome", "already decided"),
        (row(code="H2", F1="không", outcome="recognized", decision_no="QD1",
             decision_date="01/12/2025"), "outcome", "already decided (Rejected)"),
        (row(code="H1", F1="có", outcome="recognized", decision_no="QD2",
             decision_date="01/12/2025"), "decision_no", "recognised by decision QD1"),
        (row(code="H1", F1="không"), "c.F1", "already decided (Recognised)"),
        (row(code="H2", F1="", F2="3"), "c.F1", "already decided (Rejected)"),
    ],
)  # fmt: skip
def test_a_decided_registration_cannot_be_changed_by_a_reimport(decided, changed, column, reason):
    row_number = 2 if changed[2] == "H1" else 3
    rows = [row(code="H1", F1="có"), row(code="H2", F1="không")]
    rows[row_number - 2] = changed
    report = run(rows)
    assert_refused(report, row=row_number, column=column, reason=reason)
    after = {code: (r.state, r.version, dict(r.evidence)) for code, r in regs().items()}
    assert after == decided
    assert Decision.objects.count() == 1


def test_repeating_a_decided_registration_without_outcome_columns_is_unchanged(decided):
    report = run([["family", "70", "H1", "có"]], header=["kind", "ward", "code", "c.F1"])
    assert report.ok, report.errors
    assert report.unchanged == 1


def test_an_approved_registration_is_decided_too(world):
    entity = family("H1")
    registration(entity, year=YEAR, state=State.APPROVED)
    report = run(
        [row(code="H1", outcome="recognized", decision_no="QD1", decision_date="01/12/2025")]
    )
    assert_refused(report, row=2, column="outcome", reason="already decided (Approved)")


# --- Users and scope ---------------------------------------------------------------------------


def test_staff_imports_their_own_ward(world, alice):
    report = run([row(code="H1", F1="có", outcome="recognized", decision_no="QD1",
                      decision_date="01/12/2025")], user=alice)  # fmt: skip
    assert report.ok, report.errors
    reg = regs()["H1"]
    assert (reg.created_by, reg.decision.issued_by) == (alice, alice)
    assert reg.events.get().user == alice


def test_staff_cannot_import_another_wards_rows(world, alice):
    report = run([row(code="H1"), row(ward="00004", code="HB1")], user=alice)
    assert_refused(
        report,
        row=3,
        column="ward",
        reason="no commune/ward in force in your scope has the code “00004”",
    )
    assert_nothing_written()


def test_an_admin_imports_any_ward(world, dave):
    report = run([row(code="H1"), row(ward="00004", code="HB1")], user=dave)
    assert report.ok, report.errors
    assert report.created == 2


@pytest.mark.parametrize("who", ["carol", "bob", "nobody"])
def test_users_who_may_not_register_are_refused_before_the_file_is_read(world, request, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        run([row(code="H1")], user=user, data=b"not even a spreadsheet")
    assert_nothing_written()


def test_staff_cannot_import_this_years_outcomes(world, alice, ward_a):
    this_year = timezone.localdate().year
    RegistrationWindow.objects.create(
        province=ward_a.parent,
        year=this_year,
        opens_on=dt.date(this_year, 1, 1),
        closes_on=dt.date(this_year, 12, 31),
    )
    report = run(
        [
            row(
                code="H1",
                outcome="recognized",
                decision_no="QD1",
                decision_date=timezone.localdate().isoformat(),
            )
        ],
        year=this_year,
        user=alice,
    )
    assert_refused(
        report, row=2, column="outcome", reason="only outcomes of past years can be imported"
    )
    assert [e.column for e in report.errors] == ["outcome"]


def test_an_admin_may_import_this_years_outcomes(world, dave):
    today = timezone.localdate()
    report = run(
        [row(code="H1", outcome="recognized", decision_no="QD1", decision_date=today.isoformat())],
        year=today.year,
        user=dave,
    )
    assert report.ok, report.errors


def test_staff_register_this_year_only_while_the_window_is_open(world, alice, ward_a):
    this_year = timezone.localdate().year
    refused = run([row(code="H1")], year=this_year, user=alice)
    assert_refused(refused, row=0, column="", reason="has not been opened in this province yet")
    assert_nothing_written()
    RegistrationWindow.objects.create(
        province=ward_a.parent,
        year=this_year,
        opens_on=dt.date(this_year, 1, 1),
        closes_on=dt.date(this_year, 12, 31),
    )
    accepted = run([row(code="H1")], year=this_year, user=alice)
    assert accepted.ok, accepted.errors


# --- The tables of words -----------------------------------------------------------------------


def test_no_header_alias_means_two_columns():
    seen: dict[str, str] = {}
    for column, aliases in HEADER_ALIASES.items():
        for alias in (column, *aliases):
            key = match_key(alias)
            assert seen.setdefault(key, column) == column, (alias, seen[key], column)
            assert not key.startswith(("c.", "tc.")), alias


def test_every_kind_and_outcome_word_is_accepted(world):
    for word, kind in KIND_WORDS.items():
        report = run([[word, "70", "H1" if kind == Kind.FAMILY else "nope"]],
                     header=["kind", "ward", "code"], dry_run=True)  # fmt: skip
        columns = {e.column for e in report.errors}
        assert "kind" not in columns, (word, report.errors)
    for word in OUTCOME_WORDS:
        report = run([row(code="H1", outcome=word, decision_no="QD1", decision_date="01/12/2025")],
                     dry_run=True)  # fmt: skip
        assert "outcome" not in {e.column for e in report.errors}, (word, report.errors)


# --- Queries -----------------------------------------------------------------------------------


def test_the_import_makes_a_few_queries_not_one_per_row(world, ward_a):
    area = make_community(ward_a, code="A9")
    for n in range(40):
        make_family(ward_a, code=f"Q{n}", community=area)

    def queries(count: int) -> int:
        rows = [
            row(code=f"Q{n}", F1="có", outcome="recognized", decision_no=f"QD{n % 3}",
                decision_date="01/12/2025")
            for n in range(count)
        ]  # fmt: skip
        with CaptureQueriesContext(connection) as context:
            report = run(rows, dry_run=True)
        assert report.ok, report.errors
        return len(context.captured_queries)

    assert queries(40) == queries(5)


# --- The command -------------------------------------------------------------------------------


def write(path: Path, rows: list[list[Any]], header: list[Any] | None = None) -> Path:
    path.write_bytes(csv_bytes([header or HEADER, *rows], bom=True))
    return path


def command(path: Path, *extra: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_registrations", str(path), *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_and_prints_a_summary(world, tmp_path):
    path = write(tmp_path / "dk.csv", [row(code="H1", F1="có"), row(code="H2")])
    out, err = command(path, "--year", "2025")
    assert "2 rows: 2 created, 0 updated, 0 unchanged." in out
    assert err == ""
    out, _err = command(path, "--year", "2025")
    assert "2 rows: 0 created, 0 updated, 2 unchanged." in out
    assert Registration.objects.count() == 2


def test_command_dry_run_writes_nothing(world, tmp_path):
    path = write(tmp_path / "dk.csv", [row(code="H1", F1="có")])
    out, _err = command(path, "--year", "2025", "--dry-run")
    assert "Dry run, nothing written. 1 row: 1 would be created" in out
    assert_nothing_written()


def test_command_prints_each_error_and_fails_writing_nothing(world, tmp_path):
    path = write(
        tmp_path / "dk.csv",
        [row(code="H1", F1="có"), row(code="H404"), row(code="H2", F2="hai")],
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 problems found in .*dk.csv; nothing was written"):
        call_command(
            "import_registrations", str(path), "--year", "2025", stdout=io.StringIO(), stderr=err
        )
    assert err.getvalue().splitlines() == [
        "row 3, column code: no family with the code “H404” in commune/ward 00070",
        "row 4, column c.F2: “hai” is not valid for F2: expected a number of 0 or more, such as "
        "3 or 2,5 (no thousands separator)",
    ]
    assert_nothing_written()


def test_command_a_dry_run_of_a_bad_file_fails_too(world, tmp_path):
    path = write(tmp_path / "dk.csv", [row(code="H404")])
    with pytest.raises(CommandError, match="1 problem found"):
        command(path, "--year", "2025", "--dry-run")


def test_command_prints_notes(world, tmp_path):
    path = write(
        tmp_path / "dk.csv", [["family", "70", "H1", "x"]], ["kind", "ward", "code", "STT"]
    )
    out, _err = command(path, "--year", "2025")
    assert "Note: Columns not used for registrations were ignored: “STT”." in out


def test_command_a_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*nowhere.csv"):
        command(tmp_path / "nowhere.csv", "--year", "2025")


def test_command_needs_a_year(db, tmp_path):
    path = write(tmp_path / "dk.csv", [row(code="H1")])
    with pytest.raises(CommandError, match="--year"):
        command(path)
    with pytest.raises(CommandError, match="invalid int value"):
        command(path, "--year", "năm nay")


def test_imported_recognitions_are_numbered_as_they_are_recorded(world, ward_a):
    """Historical outcomes get their certificate numbers as the import records them, decision by
    decision (by date), after the numbers the ward already gave that year, so that printing
    only reads them; importing more under a decision numbers the new ones after them."""
    report = run(
        [
            row(code="H2", outcome="recognized", decision_no="QD2", decision_date="20/12/2025"),
            row(code="H1", outcome="recognized", decision_no="QD1", decision_date="01/12/2025"),
            row(code="H3", outcome="outstanding", decision_no="QD1", decision_date="01/12/2025"),
            row(ward="00004", code="HB1", outcome="recognized", decision_no="QD1",
                decision_date="02/12/2025"),
        ]  # fmt: skip
    )
    assert report.ok, report.errors

    def numbers() -> dict[str, tuple[str, int]]:
        return {
            code: (ward, number)
            for code, ward, number in Certificate.objects.values_list(
                "registration__entity__code", "ward__code", "number"
            )
        }

    assert numbers() == {
        "H1": ("00070", 1),
        "H3": ("00070", 2),
        "H2": ("00070", 3),
        "HB1": ("00004", 1),
    }
    assert run([row(kind="clan", code="DH1", outcome="recognized", decision_no="QD1",
                    decision_date="01/12/2025")]).ok  # fmt: skip
    assert numbers()["DH1"] == ("00070", 4)


def test_the_bar_moves_within_the_checks_and_the_writes(world):
    """The pipeline's meter (`StepMeter`) moves the registrations' checks and writes as it does
    every kind's: a file of several chunks reports many growing values within both steps."""
    rows = 3 * CHUNK
    families = [["ward", "code", "head_name", "members", "community"]]
    families += [["00070", f"R{n:05d}", f"Chủ hộ {n}", 3, "A1"] for n in range(rows)]
    assert registry_import(
        file=io.BytesIO(csv_bytes(families)), filename="h.csv", kind="families", dry_run=False
    ).ok
    by_step, seen = recorded_bar()
    report = registrations_import(
        file=io.BytesIO(
            csv_bytes([HEADER, *(row(code=f"R{n:05d}", F1="có") for n in range(rows))])
        ),
        filename="dang-ky.csv",
        year=YEAR,
        dry_run=False,
        progress=by_step,
    )
    assert report.ok, report.errors[:3]
    assert Registration.objects.filter(year=YEAR).count() == rows
    values = [done for _step, done in seen]
    assert values == sorted(set(values))
    assert len([done for name, done in seen if name == "check"]) >= 3
    assert len([done for name, done in seen if name == "write"]) >= 3
    assert values[-1] == rows
