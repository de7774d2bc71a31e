"""The four programmes imports on generated files: headers shuffled, missing or hostile, cells
valid or hostile. Every file gets a report; with an error (or on a dry run) nothing is written;
what a clean import writes is the cells' text as written (trimmed), formulas included."""

from __future__ import annotations

import io

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from programmes.models import Beneficiary, Contribution, Delivery, Programme, ProgrammeTally
from programmes.services.imports import COLUMNS, KINDS, programmes_import
from programmes.services.tallies import tallies_verify
from registry.imports.report import ImportReport
from tests.factories import make_unit
from tests.fuzz.conftest import rolled_back
from tests.fuzz.files import XLSX_UNSAFE, csv_bytes, xlsx_bytes
from tests.fuzz.strategies import examples, hostile_text, long_text
from tests.programmes.factories import make_beneficiary, make_programme

_GOOD: dict[str, list[object]] = {
    "code": ["CT9", "=1+1", " sp ace ", "<i>c</i>"],
    "name": ["Bữa trưa", "<script>alert(1)</script>", "@SUM(A1)"],
    "organiser": ["Hội Khuyến học", "'; DROP TABLE x; --"],
    "province": ["01", "1", 1],
    "kind": ["meals", "Bữa ăn", "devices", "items", "cash", "sữa"],
    "starts": ["01/09/2025", "2025-09-01"],
    "ends": ["", "31/05/2026", "2025-01-01"],
    "daily_rate_vnd": ["", "6.800", 6800, "0"],
    "target_beneficiaries": ["", 100],
    "public_note": ["", "-cmd", "Mục đích"],
    "programme": ["CT1", "NOPE"],
    "ref": ["R1", "R2", "+1", "-2"],
    "date": ["15/09/2025", "2025-09-30", "31/02/2025"],
    "donor": ["Nhà hảo tâm", '=HYPERLINK("x")'],
    "amount_vnd": ["", "1,000,000", 6800, -5, "1e9"],
    "item": ["", "Máy tính bảng"],
    "quantity": ["", 5, "0"],
    "donor_public": ["", "có", "no", "maybe"],
    "ward": ["00070", "70", "00004"],
    "full_name": ["Lò Thị Mai", "陳 Ткач محمد"],
    "birth_year": [2020, "2019", 1800],
    "school": ["MN1", "Trường Mầm non Hoa Sen", "nope"],
    "beneficiary": ["", "TRE1", "X"],
    "days": ["", 10, "3"],
}


def snapshot() -> tuple:
    return (
        sorted(Programme.objects.values_list("code", "name", "organiser", "public_note")),
        sorted(Contribution.objects.values_list("ref", "donor", "amount_vnd")),
        sorted(Beneficiary.objects.values_list("code", "full_name", "birth_year")),
        sorted(Delivery.objects.values_list("ref", "days", "amount_vnd")),
        ProgrammeTally.objects.count(),
    )


def _cell(column: str) -> st.SearchStrategy[object]:
    return st.one_of(
        st.sampled_from(_GOOD.get(column, [""])),
        hostile_text(max_size=40),
        long_text(255),
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=True, allow_infinity=True),
        st.none(),
    )


@st.composite
def files(draw):
    kind = draw(st.sampled_from(KINDS))
    names = [c.name for c in COLUMNS[kind]]
    aliases = [a for c in COLUMNS[kind] for a in c.aliases]
    header = draw(
        st.one_of(
            st.permutations(names),
            st.lists(
                st.sampled_from([*names, *aliases, "=SUM(A1)", "note"]), min_size=1, max_size=8
            ),
        )
    )
    by_alias = {a: c.name for c in COLUMNS[kind] for a in (c.name, *c.aliases)}
    good_only = draw(st.booleans())
    rows = draw(
        st.lists(
            st.tuples(
                *(
                    st.sampled_from(_GOOD.get(by_alias.get(h, "x"), [""]))
                    if good_only
                    else _cell(by_alias.get(h, "x"))
                    for h in header
                )
            ).map(list),
            min_size=1,
            max_size=4,
        )
    )
    return kind, [list(header), *rows]


@pytest.fixture
def setting(province, ward_a, ward_b):
    school = make_unit(ward_a, code="MN1", name="Trường Mầm non Hoa Sen")
    programme = make_programme(province, code="CT1")
    make_beneficiary(programme, school, code="TRE1")
    return programme


@examples(80)
@given(
    generated=files(),
    filename=st.sampled_from(["p.csv", "p.xlsx"]),
    dry_run=st.booleans(),
)
def test_programmes_imports_report_or_store_verbatim(setting, generated, filename, dry_run):
    kind, rows = generated
    if filename.endswith(".xlsx"):
        rows = [[XLSX_UNSAFE.sub("", c) if isinstance(c, str) else c for c in r] for r in rows]
        data = xlsx_bytes(rows)
    else:
        data = csv_bytes([["" if c is None else c for c in r] for r in rows])
    with rolled_back():
        before = snapshot()
        report = programmes_import(
            file=io.BytesIO(data), filename=filename, kind=kind, dry_run=dry_run
        )
        assert isinstance(report, ImportReport)
        event("refused" if report.errors else "dry run" if dry_run else "written")
        for error in report.errors:
            assert error.row >= 0 and error.reason.strip()
        if report.errors or dry_run:
            assert snapshot() == before
            return
        assert tallies_verify() == []
        # A rerun of the same file changes nothing.
        again = programmes_import(
            file=io.BytesIO(data), filename=filename, kind=kind, dry_run=False
        )
        assert again.ok and again.created == again.updated == 0
