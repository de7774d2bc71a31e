"""The three spreadsheet imports (registry, registrations, targets) on generated files: headers
shuffled, missing, repeated or hostile, cells valid or hostile. Every file gets a report; with
an error (or on a dry run) nothing is written, and what a clean import writes is the cells'
text as written (trimmed)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import event, given
from hypothesis import strategies as st

from registry.imports.report import ImportReport
from registry.models import Entity, Kind
from registry.services.imports import COLUMNS, HEADER_ALIASES, KIND_OF, KINDS, registry_import
from registry.spreadsheets import match_key
from tests.fuzz.conftest import rolled_back, snapshot
from tests.fuzz.files import XLSX_UNSAFE, csv_bytes, xlsx_bytes
from tests.fuzz.strategies import NUL, examples, hostile_text, long_text
from tests.titles.factories import FAMILY_DOC, load
from titles.models import Decision, Registration, Target
from titles.services.imports import registrations_import
from titles.services.targets import targets_load

THIS_YEAR = timezone.localdate().year
_EXTRA_HEADERS = ["note", "Ghi chú", "<b>x</b>", "=SUM(A1)", "c.", "tc.F1 ", NUL]

# Cells a column accepts, so that some generated rows are clean and get written.
_GOOD: dict[str, list[object]] = {
    "ward": ["00070", "70", 70, "0070"],
    "code": ["NEW1", "TDP1", "DH1", "HGD1", "DV1", "CD1", " sp ace ", "=1+1", "<i>c</i>"],
    "name": ["Nguyễn Thị Ánh Tuyết", "<script>alert(1)</script>", "'; DROP TABLE x; --"],
    "head_name": ["Trần Văn Ơn", "", "@SUM(A1)"],
    "full_name": ["Lê Thị Hoa", "陳 Ткач محمد"],
    "members": [4, "3", 4.0, "2.0"],
    "staff": [30, "12"],
    "birth_year": [1985, "2000"],
    "community": ["TDP1"],
    "clan": ["DH1", ""],
    "family": ["HGD1", ""],
    "unit": ["DV1", ""],
    "unit_type": ["school", "Trường học", "doanh nghiệp"],
    "area_type": ["thôn", "To dan pho", "other", ""],
}


def _cell(column: str, *, max_size: int = 40) -> st.SearchStrategy[object]:
    return st.one_of(
        st.sampled_from(_GOOD.get(column, [""])),
        hostile_text(max_size=max_size),
        long_text(64 if column in ("code", "ward") else 255),
        st.integers(-(10**10), 10**10),
        st.floats(allow_nan=True, allow_infinity=True),
        st.none(),
    )


def _file(rows: list[list[object]], filename: str) -> tuple[bytes, list[list[object]]]:
    """The file's bytes and the table as the import will read it (an XLSX loses what XML
    cannot hold)."""
    if filename.endswith(".xlsx"):
        clean = [[XLSX_UNSAFE.sub("", c) if isinstance(c, str) else c for c in r] for r in rows]
        return xlsx_bytes(clean), clean
    text_rows = [["" if c is None else c for c in row] for row in rows]
    return csv_bytes(text_rows), text_rows


def _check_report(report: ImportReport, before: tuple, *, dry_run: bool) -> None:
    assert isinstance(report, ImportReport)
    event("refused" if report.errors else "dry run" if dry_run else "written")
    for error in report.errors:
        assert isinstance(error.row, int) and error.row >= 0
        assert isinstance(error.reason, str) and error.reason.strip()
    if report.errors or dry_run:
        assert snapshot() == before, "a refused file or a dry run wrote something"
        assert not report.written


def _trimmed(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell).strip()


# --- registry --------------------------------------------------------------------------------


_FREE_TEXT = hostile_text(max_size=60, nul=False)


@st.composite
def registry_files(draw):
    kind = draw(st.sampled_from(KINDS))
    names = [column.name for column in COLUMNS[kind]]
    if draw(st.booleans()):  # a well-formed file whose texts are hostile: mostly written
        header = draw(st.permutations(names))
        count = draw(st.integers(1, 4))
        rows = [
            [
                f"N{index}-{draw(_FREE_TEXT)}"[:64]
                if column == "code"
                else draw(st.one_of(st.sampled_from(_GOOD[column]), _FREE_TEXT))
                if column in ("name", "head_name", "full_name")
                else draw(st.sampled_from(_GOOD[column]))
                for column in header
            ]
            for index in range(count)
        ]
        return kind, [list(header), *rows]
    choices = [*names, *(a for aliases in HEADER_ALIASES[kind].values() for a in aliases)]
    header = draw(
        st.one_of(
            st.permutations(names),  # every column, in any order
            st.lists(st.sampled_from([*choices, *_EXTRA_HEADERS]), min_size=1, max_size=8),
        )
    )
    columns = [
        next((c for c in names if c == h or h in HEADER_ALIASES[kind].get(c, ())), "x")
        for h in header
    ]
    rows = draw(
        st.lists(
            st.tuples(*(_cell(column) for column in columns)).map(list), min_size=1, max_size=5
        )
    )
    return kind, [list(header), *rows]


@examples(70)
@given(
    generated=registry_files(),
    filename=st.sampled_from(["registry.csv", "registry.xlsx"]),
    dry_run=st.booleans(),
    as_staff=st.booleans(),
)
def test_registry_import_reports_or_stores_verbatim(
    registry_a, alice, generated, filename, dry_run, as_staff
):
    kind, rows = generated
    data, table = _file(rows, filename)
    with rolled_back():
        before = snapshot()
        report = registry_import(
            file=io.BytesIO(data),
            filename=filename,
            kind=kind,
            dry_run=dry_run,
            user=alice if as_staff else None,
        )
        _check_report(report, before, dry_run=dry_run)
        if not report.written:
            return
        # The file's headers as contract columns: aliases ("Tên", "Mã", …) name them too.
        aliases = HEADER_ALIASES[kind]
        by_key = {
            match_key(name): column
            for column in aliases
            for name in (column, *aliases[column])
        }
        header = [by_key.get(match_key(_trimmed(h))) for h in table[0]]
        name_column = {"families": "head_name", "citizens": "full_name"}.get(kind, "name")
        code_at, name_at = header.index("code"), header.index(name_column)
        for row in table[1:]:
            if all(_trimmed(c) == "" for c in row):
                continue
            entity = Entity.objects.get(
                kind=KIND_OF[kind], ward__code="00070", code=_trimmed(row[code_at])
            )
            assert entity.name == _trimmed(row[name_at])


@pytest.mark.parametrize(
    ("column", "value"),
    [("name", "Thôn\x00Một"), ("code", "T\x00"), ("ward", "00070\x00")],
)
def test_a_nul_in_a_registry_cell_is_a_bad_row(ward_a, column, value):
    """PostgreSQL text cannot hold NUL (and a query cannot even look it up): the row is refused
    with a reason, on every database alike."""
    cells = {"ward": "00070", "code": "T1", "name": "Thôn Một"}
    cells[column] = value
    report = registry_import(
        file=io.BytesIO(csv_bytes([list(cells), list(cells.values())])),
        filename="a.csv",
        kind="communities",
        dry_run=False,
    )
    assert [(e.row, e.column) for e in report.errors] == [(2, column)]
    assert "NUL" in report.errors[0].reason
    assert not Entity.objects.filter(kind=Kind.COMMUNITY).exists()


# --- registrations ---------------------------------------------------------------------------

_REG_GOOD: dict[str, list[object]] = {
    "kind": ["family", "Gia đình", "clan", "unit", "citizen", "cộng đồng"],
    "ward": ["00070", "70"],
    "code": ["HGD1", "DH1", "DV1", "CD1", "TDP1", "NOPE"],
    "outcome": ["", "recognized", "tiêu biểu", "không đạt"],
    "decision_no": ["", "12/QĐ-UBND", "<b>7</b>", "=1+1"],
    "decision_date": ["", f"15/12/{THIS_YEAR - 1}", f"{THIS_YEAR - 1}-12-15", "31/02/2024"],
    "c.F1": ["", "có", "yes", "1", "không"],
    "c.F2": ["", "2,5", "3", "-1"],
    "c.F3": ["", "30", "7.5", "1e9"],
    "c.X9": ["", "1"],
    "tc.f1": ["", "1"],
}


_ENTITIES = [("family", "HGD1"), ("dòng họ", "DH1"), ("unit", "DV1"), ("công dân", "CD1")]


@st.composite
def registration_files(draw):
    if draw(st.booleans()):  # well-formed, past outcomes with hostile decision numbers
        header = ["kind", "ward", "code", "outcome", "decision_no", "decision_date", "c.F1"]
        entities = draw(st.lists(st.sampled_from(_ENTITIES), min_size=1, max_size=4, unique=True))
        rows = [
            [
                kind,
                "00070",
                code,
                "recognized",
                f"{index}/{draw(_FREE_TEXT)}"[:64],
                f"15/12/{THIS_YEAR - 1}",
                "có" if kind == "family" else "",
            ]
            for index, (kind, code) in enumerate(entities)
        ]
        return [header, *rows]
    optional = draw(st.sets(st.sampled_from(list(_REG_GOOD)[3:])))
    header = draw(st.permutations(["kind", "ward", "code", *sorted(optional)]))
    header = list(header)
    if draw(st.booleans()):
        header.append(draw(st.sampled_from(_EXTRA_HEADERS + ["Loại", "Mã"])))
    rows = draw(
        st.lists(
            st.tuples(
                *(
                    st.one_of(st.sampled_from(_REG_GOOD.get(h, [""])), hostile_text(max_size=30))
                    if h in _REG_GOOD
                    else hostile_text(max_size=30)
                    for h in header
                )
            ).map(list),
            min_size=1,
            max_size=4,
        )
    )
    return [header, *rows]


@examples(70)
@given(
    rows=registration_files(),
    filename=st.sampled_from(["registrations.csv", "registrations.xlsx"]),
    year=st.sampled_from([THIS_YEAR - 1, THIS_YEAR, 1899, 2101]),
    dry_run=st.booleans(),
    who=st.sampled_from(["command", "alice", "dave"]),
)
def test_registrations_import_reports_or_stores_verbatim(
    registry_a, alice, dave, rows, filename, year, dry_run, who
):
    load({**FAMILY_DOC, "valid_from": 2000})
    data, table = _file(rows, filename)
    user = {"command": None, "alice": alice, "dave": dave}[who]
    with rolled_back():
        before = snapshot()
        report = registrations_import(
            file=io.BytesIO(data), filename=filename, year=year, dry_run=dry_run, user=user
        )
        _check_report(report, before, dry_run=dry_run)
        if not report.written:
            return
        header = [_trimmed(h) for h in table[0]]
        for row in table[1:]:
            cells = dict(zip(header, (_trimmed(c) for c in row), strict=False))
            if not any(cells.values()):
                continue
            registration = Registration.objects.get(
                year=year, entity__ward__code="00070", entity__code=cells["code"]
            )
            if cells.get("decision_no") and registration.decision_id:
                assert registration.decision.number == cells["decision_no"]
            for code in ("F1", "F2", "F3"):
                if cells.get(f"c.{code}"):
                    assert registration.evidence[code] == " ".join(cells[f"c.{code}"].split())


@pytest.mark.parametrize(
    ("column", "value"),
    [("ward", "00070\x00"), ("code", "HGD1\x00"), ("decision_no", "12/QĐ\x00")],
)
def test_a_nul_in_a_registrations_cell_is_a_bad_row(registry_a, column, value):
    cells = {
        "kind": "family",
        "ward": "00070",
        "code": "HGD1",
        "outcome": "recognized",
        "decision_no": "12/QĐ",
        "decision_date": f"15/12/{THIS_YEAR - 1}",
    }
    cells[column] = value
    report = registrations_import(
        file=io.BytesIO(csv_bytes([list(cells), list(cells.values())])),
        filename="r.csv",
        year=THIS_YEAR - 1,
        dry_run=False,
    )
    assert [(e.row, e.column) for e in report.errors] == [(2, column)]
    assert "NUL" in report.errors[0].reason
    assert not Registration.objects.exists() and not Decision.objects.exists()


# --- targets ---------------------------------------------------------------------------------

_TARGET_GOOD: dict[str, list[object]] = {
    "unit": ["01", "1", "00070", "70", 1],
    "kind": ["family", "Dòng họ", "unit"],
    "year": [2025, "2030", "2025.0"],
    "min_rate": ["70", "72,5", 70, "70%", "0.7", "100"],
    "max_rate": ["80", "90.25", 100, "101"],
    "source": ["Kế hoạch 291/KH-UBND", "<script>x</script>", "", "=HYPERLINK(1)"],
}


@examples(50)
@given(
    header=st.permutations(list(_TARGET_GOOD)),
    data=st.data(),
    filename=st.sampled_from(["targets.csv", "targets.xlsx"]),
)
def test_targets_load_reports_or_stores_verbatim(ward_a, header, data, filename):
    rows = [
        [
            {"unit": unit, "kind": kind, "year": 2025, "min_rate": "70", "max_rate": "80,5"}.get(
                column, f"{unit}-{kind}-{data.draw(_FREE_TEXT)}"
            )
            for column in header
        ]
        for unit, kind in data.draw(
            st.lists(
                st.tuples(st.sampled_from(["01", "00070"]), st.sampled_from(["family", "unit"])),
                unique=True,
                min_size=1,
                max_size=4,
            )
        )
    ]
    if data.draw(st.booleans()):
        rows = data.draw(
            st.lists(
                st.tuples(
                    *(
                        st.one_of(st.sampled_from(_TARGET_GOOD[h]), hostile_text(max_size=30))
                        for h in header
                    )
                ).map(list),
                min_size=1,
                max_size=4,
            )
        )
    file, table = _file([list(header), *rows], filename)
    with rolled_back():
        before = snapshot()
        report = targets_load(file=io.BytesIO(file), filename=filename)
        _check_report(report, before, dry_run=False)
        if not report.written:
            return
        for row in table[1:]:
            cells = dict(zip(header, row, strict=True))
            target = Target.objects.get(
                year=int(Decimal(_trimmed(cells["year"]))), source=_trimmed(cells["source"])
            )
            assert target.min_rate == Decimal(
                _trimmed(cells["min_rate"]).rstrip("%").replace(",", ".")
            )


def test_a_nul_in_a_target_source_is_a_bad_row(province):
    header = ["unit", "kind", "year", "min_rate", "max_rate", "source"]
    report = targets_load(
        file=io.BytesIO(csv_bytes([header, ["01", "family", "2025", "70", "80", "Kế\x00 hoạch"]])),
        filename="t.csv",
    )
    assert [(e.row, e.column) for e in report.errors] == [(2, "source")]
    assert "NUL" in report.errors[0].reason
    assert not Target.objects.exists()
