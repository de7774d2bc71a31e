"""The spreadsheet reader on bad input: random bytes, wrong encodings, damaged workbooks, huge
cells, formula-like and control characters. It returns the rows as written or refuses the file
with ImportFileError (a message for the user), never anything else."""

from __future__ import annotations

import io

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from registry.spreadsheets import ImportFileError, as_text, read_rows, read_table
from tests.fuzz.files import XLSX_UNSAFE, csv_bytes, xlsx_bytes
from tests.fuzz.strategies import examples, hostile_text

# Header cells a CSV's delimiter detection reads: no delimiter, quote or line break in them.
_HEADER = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp"), blacklist_characters=',;\t"'
    ),
    min_size=1,
    max_size=12,
)


def _read(data: bytes, filename: str) -> list[list[object]] | None:
    """The rows, or None when the file was refused with a message; anything else fails."""
    notes: list[str] = []
    try:
        rows = read_rows(data=data, filename=filename, notes=notes)
    except ImportFileError as exc:
        assert str(exc).strip()
        return None
    assert isinstance(rows, list) and all(isinstance(row, list) for row in rows)
    return rows


@examples(120)
@given(
    data=st.binary(max_size=400),
    filename=st.sampled_from(["a.csv", "a.xlsx", "A.CSV", "a.xls", "a", "a.csv.exe", ".csv"]),
)
@example(data=b"\xff\xfe" + "mã,tên".encode("utf-16-le"), filename="a.csv")  # UTF-16 from Excel
@example(  # Vietnamese Windows code page, as old Excel versions save CSV
    data=b"Ma\xde,T\xean\r\n1,Nguy\xean",
    filename="a.csv",  # "Mã,Tên / 1,Nguyên"
)
@example(data=b"\x00" * 50, filename="a.csv")
@example(data=b"PK\x03\x04" + b"\x00" * 40, filename="a.xlsx")  # a zip header, nothing else
@example(data=b'"unclosed,quote\n', filename="a.csv")
def test_random_bytes_are_read_or_refused(data, filename):
    _read(data, filename)


@examples(60)
@given(
    cut=st.integers(min_value=0, max_value=4000),
    flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=8),
)
def test_damaged_workbooks_are_refused_not_crashed(cut, flips):
    """Truncated or bit-flipped XLSX files get into the zip and XML parsers, not only the gate."""
    data = bytearray(xlsx_bytes([["ward", "code", "name"], ["00070", "T1", "Thôn Một"]]))
    for position, value in flips:
        if position < len(data):
            data[position] = value
    _read(bytes(data[: cut or None]), "damaged.xlsx")


@examples(80)
@given(
    header=st.lists(_HEADER, min_size=2, max_size=5),
    body=st.lists(st.lists(hostile_text(max_size=40), min_size=5, max_size=5), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
)
def test_csv_cells_come_back_verbatim(header, body, delimiter, bom):
    """Whatever a cell holds (formulas, markup, control characters, NUL, other scripts), a CSV
    gives it back exactly; nothing is evaluated or cleaned on the way in."""
    width = len(header)
    rows = [header, *(row[:width] for row in body)]
    read = _read(csv_bytes(rows, delimiter=delimiter, bom=bom), "people.csv")
    assert read is not None
    assert [list(row) for row in read if row] == [row for row in rows if row]


@examples(40)
@given(
    rows=st.lists(
        st.lists(
            st.one_of(
                hostile_text(max_size=40),
                st.integers(-(10**12), 10**12),
                st.floats(allow_nan=False, allow_infinity=False, width=32),
                st.booleans(),
                st.none(),
            ),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=5,
    ),
    sheets=st.integers(1, 3),
)
def test_xlsx_cells_come_back_as_written(rows, sheets):
    """XLSX cells come back as the values written: formula-like text as its text (never a
    computed value), numbers as numbers; extra sheets are named in a note."""
    notes: list[str] = []
    read = read_rows(data=xlsx_bytes(rows, sheets=sheets), filename="book.xlsx", notes=notes)
    expected = [[XLSX_UNSAFE.sub("", c) if isinstance(c, str) else c for c in row] for row in rows]
    # A sheet stores "" as no cell at all.
    expected = [[None if c == "" else c for c in row] for row in expected]
    assume(any(c is not None for row in expected for c in row))
    trimmed = list(read)
    assert len(trimmed) == len(expected)
    for got, want in zip(trimmed, expected, strict=True):
        got = list(got) + [None] * (len(want) - len(got))
        for cell, value in zip(got, want, strict=True):
            if isinstance(value, float):
                assert cell == pytest.approx(value)
            else:
                assert cell == value
                assert as_text(cell) == as_text(value)
    assert bool(notes) == (sheets > 1)


@pytest.mark.parametrize("filename", ["big.csv", "big.xlsx"])
def test_a_huge_cell_is_read_or_refused_with_a_message(filename):
    cell = "Ắ<script>" * 20_000  # 180,000 characters, beyond the csv module's field limit
    data = (
        csv_bytes([["ward", "name"], ["00070", cell]])
        if filename.endswith(".csv")
        else (xlsx_bytes([["ward", "name"], ["00070", cell[:32_767]]]))
    )
    rows = _read(data, filename)
    if filename.endswith(".xlsx"):
        assert rows is not None and rows[1][1] == cell[:32_767]


def test_a_file_over_the_limit_is_refused_before_it_is_parsed(settings):
    settings.IMPORT_MAX_BYTES = 1024
    with pytest.raises(ImportFileError, match="larger than the limit"):
        read_table(
            file=io.BytesIO(b"a,b\n" + b"x" * 2000), filename="a.csv", notes=[], columns=["a"]
        )


@examples(40)
@given(rows=st.lists(st.lists(st.sampled_from(["", " ", "\t", "\u3000"]), max_size=3), max_size=4))
def test_blank_files_are_refused_with_a_message(rows):
    data = csv_bytes(rows) if rows else b""
    with pytest.raises(ImportFileError):
        read_table(file=io.BytesIO(data), filename="blank.csv", notes=[], columns=["a", "b"])
