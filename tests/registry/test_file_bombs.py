"""Hostile spreadsheets cost little: each bomb is refused with a message for the user, quickly,
reading no more than the first limit it crosses, with memory bounded whatever it expands to.

Every bomb is generated here, small on disk (the zip's deflate squeezes the repetition); the
peak memory of reading it is measured with tracemalloc as a guard with a generous bound.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator

import pytest

from registry.spreadsheets import ImportFileError, read_rows
from tests.fuzz.files import csv_bytes, xlsx_bytes

SHEET = "xl/worksheets/sheet1.xml"
MB = 1024 * 1024
PEAK_BOUND = 64 * MB  # generous: the bombs below expand to 20–300 MB
# A CSV is read whole (it is at most IMPORT_MAX_BYTES); its bombs are the cells and rows in it.

SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>ward</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>code</t></is></c></row>'
)
SHEET_TAIL = b"</sheetData></worksheet>"


def _repeat(piece: bytes, times: int, *, chunk: int = 4096) -> Iterator[bytes]:
    block = piece * chunk
    for _ in range(times // chunk):
        yield block
    yield piece * (times % chunk)


def _workbook(parts: dict[str, Callable[[], Iterator[bytes]]], *, extra: int = 0) -> bytes:
    """A real workbook (written by openpyxl) with some parts replaced by generated content."""
    base = xlsx_bytes([["ward", "code", "name"], ["00070", "T1", "Tổ 1"]])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for info in source.infolist():
            if info.filename in parts:
                with target.open(info.filename, "w", force_zip64=True) as part:
                    for piece in parts[info.filename]():
                        part.write(piece)
            else:
                target.writestr(info, source.read(info))
        for name in parts.keys() - set(source.namelist()):
            with target.open(name, "w", force_zip64=True) as part:
                for piece in parts[name]():
                    part.write(piece)
        for index in range(extra):
            target.writestr(f"xl/media/pad{index}.bin", b"")
    return out.getvalue()


def _refused(data: bytes, filename: str = "bomb.xlsx") -> str:
    """The message the reader refuses `data` with, checking that memory stayed bounded."""
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError) as refused:
            read_rows(data=data, filename=filename, notes=[])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BOUND, f"reading the bomb peaked at {peak / MB:.0f} MB"
    return str(refused.value)


def test_a_huge_inline_cell_is_refused():
    def sheet():
        yield SHEET_HEAD + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
        yield from _repeat(b"x", 60 * MB)
        yield b"</t></is></c></row>" + SHEET_TAIL

    data = _workbook({SHEET: sheet})
    assert len(data) < MB
    assert "in row 2 holds more than 32767 characters" in _refused(data)


def test_a_huge_shared_string_is_refused():
    def strings():
        yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
        yield from _repeat(b"y", 60 * MB)
        yield b"</t></si></sst>"

    data = _workbook({"xl/sharedStrings.xml": strings})
    assert "holds more than 32767 characters" in _refused(data)


def test_a_row_of_a_hundred_thousand_cells_is_refused():
    def sheet():
        yield SHEET_HEAD + b'<row r="2">'
        yield from _repeat(b"<c/>", 100_000)
        yield b"</row>" + SHEET_TAIL

    assert "Row 2 has more than 256 columns" in _refused(_workbook({SHEET: sheet}))


def test_one_cell_in_the_last_column_is_refused():
    """A sparse cell at XFD1 would make a dense reader allocate 16,384 columns for every row."""

    def sheet():
        yield SHEET_HEAD + b'<row r="2"><c r="XFD2"><v>1</v></c></row>' + SHEET_TAIL

    assert "Row 2 has more than 256 columns" in _refused(_workbook({SHEET: sheet}))


def test_a_padded_styles_part_is_refused_from_the_zip_directory():
    def styles():
        yield b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        yield from _repeat(b" ", 40 * MB)
        yield b"</styleSheet>"

    data = _workbook({"xl/styles.xml": styles})
    assert len(data) < MB
    message = _refused(data)
    assert "expands to more than 16 MB" in message and "xl/styles.xml" in message


def test_a_padded_sheet_over_the_part_limit_is_refused(settings):
    settings.IMPORT_MAX_PART_BYTES = 4 * MB

    def sheet():
        yield SHEET_HEAD
        yield from _repeat(b"<!-- padding -->", 1024 * 1024)
        yield SHEET_TAIL

    message = _refused(_workbook({SHEET: sheet}))
    assert "expands to more than 4 MB" in message and SHEET in message


def test_a_zip_bomb_is_refused_without_inflating_it():
    """A sheet that inflates to 300 MB is refused by the size its directory declares."""

    def sheet():
        yield SHEET_HEAD
        yield from _repeat(b"\n", 300 * MB, chunk=MB)
        yield SHEET_TAIL

    data = _workbook({SHEET: sheet})
    assert len(data) < 2 * MB
    assert "expands to more than 256 MB" in _refused(data)


def test_a_zip_of_thousands_of_parts_is_refused():
    assert "more than 1000 parts" in _refused(_workbook({}, extra=1500))


def test_a_workbook_listing_thousands_of_sheets_is_refused():
    def workbook():
        yield (
            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            b"<sheets>"
        )
        for index in range(5000):
            yield f'<sheet name="S{index}" sheetId="{index + 1}" r:id="rId1"/>'.encode()
        yield b"</sheets></workbook>"

    assert "more than 100 sheets" in _refused(_workbook({"xl/workbook.xml": workbook}))


def test_deeply_nested_xml_is_refused():
    def sheet():
        yield SHEET_HEAD + b'<row r="2"><c r="A2" t="inlineStr"><is>'
        yield from _repeat(b"<r>", 1_000_000)
        yield from _repeat(b"</r>", 1_000_000)
        yield b"</is></c></row>" + SHEET_TAIL

    assert "nested more than 64 levels deep" in _refused(_workbook({SHEET: sheet}))


def test_entity_declarations_are_refused():
    def sheet():
        yield (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        )
        yield SHEET_HEAD.split(b"\n", 1)[1]
        yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        yield SHEET_TAIL

    assert "not a valid .xlsx workbook" in _refused(_workbook({SHEET: sheet}))


def test_too_many_cells_in_all_are_refused(settings):
    settings.IMPORT_MAX_CELLS = 100
    rows = [["ward", "code", "name"]] + [["00070", f"T{i}", "Tổ"] for i in range(40)]
    assert "more than 100 cells" in _refused(xlsx_bytes(rows))
    assert "more than 100 cells" in _refused(csv_bytes(rows), "bomb.csv")


def test_a_csv_row_of_a_million_cells_is_refused():
    data = b"ward,code,name\n" + b"," * 1_000_000 + b"\n"
    assert "Row 2 has more than 256 columns" in _refused(data, "wide.csv")


def test_a_huge_csv_cell_is_refused():
    data = b"ward,code,name\n00070,T1," + b"z" * (2 * MB) + b"\n"
    assert "in row 2 holds more than 32767 characters" in _refused(data, "cell.csv")


def test_files_at_the_limits_are_read(settings):
    """The limits refuse bombs, not real files: a row of 256 cells, a cell of 32,767
    characters and a workbook within the part size read as written."""
    wide = [f"c{i}" for i in range(256)]
    long = "ư" * 32_767
    for data, name in (
        (xlsx_bytes([wide, ["00070", long]]), "ok.xlsx"),
        (csv_bytes([wide, ["00070", long]]), "ok.csv"),
    ):
        rows = read_rows(data=data, filename=name, notes=[])
        assert rows[0][:3] == ["c0", "c1", "c2"] and len(rows[0]) == 256
        assert rows[1][1] == long
