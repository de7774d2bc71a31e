"""Reading spreadsheets people make: CSV (UTF-8, with or without BOM) or XLSX (first sheet).

Shared by every import. Cells are data, never formulas: a workbook is read without evaluating
anything (a formula cell yields its text). Reports name rows as the spreadsheet does (the header
is row 1) so a user can find them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from typing import BinaryIO
from xml.etree import ElementTree

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from registry.text import fold

Cell = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None


class ImportFileError(Exception):
    """The file as a whole cannot be read; the import pipeline reports it as an error on row 0."""


def as_text(cell: Cell) -> str:
    """A cell as text; a whole float (Excel's number 123) reads as "123", not "123.0"."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.date | dt.time):
        return cell.isoformat()
    return "" if cell is None else str(cell)


def match_key(text: str) -> str:
    """What headers and type words are compared by: folded, "_"/"-" as spaces, "a / b" as "a/b"."""
    key = fold(text).replace("_", " ").replace("-", " ")
    return " ".join(re.sub(r"\s*/\s*", "/", key).split())


def normalize_ward_code(text: str) -> str:
    """The official 5-digit ward code; "70" and "0070" both mean "00070"."""
    if text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 5:
        return text.lstrip("0").zfill(5)
    return text


def read_table(
    *, file: BinaryIO, filename: str, notes: list[str], columns: Iterable[str]
) -> list[list[Cell]]:
    """The file's rows (header first), refusing oversized, empty and header-less files.

    `columns` are the column names a header-less file is told to start with.
    """
    limit = settings.IMPORT_MAX_BYTES
    data = file.read(limit + 1)
    if len(data) > limit:
        raise ImportFileError(
            _("The file is larger than the limit of %(size)s MB; split it into several files.")
            % {"size": f"{limit / 1024 / 1024:g}"}
        )
    table = read_rows(data=data, filename=filename, notes=notes)
    if all(is_blank(cell) for row in table for cell in row):
        raise ImportFileError(_("The file is empty."))
    if all(is_blank(cell) for cell in table[0]):
        raise ImportFileError(
            _("The first row must hold the column names (%(columns)s).")
            % {"columns": ", ".join(columns)}
        )
    return table


def read_rows(*, data: bytes, filename: str, notes: list[str]) -> list[list[Cell]]:
    """The first sheet's rows, header first; index i is spreadsheet row i + 1."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "csv":
        return _read_csv(data)
    if extension == "xlsx":
        return _read_xlsx(data, notes)
    raise ImportFileError(
        _("Only .csv and .xlsx files can be imported (this file is “%(name)s”).")
        % {"name": filename}
    )


def _read_csv(data: bytes) -> list[list[Cell]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _(
                "The file is not UTF-8 text. In Excel choose Save As → “CSV UTF-8 (Comma "
                "delimited)”, or import the .xlsx workbook itself."
            )
        ) from exc
    header_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=header_line.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError(
            _("The CSV file could not be read: %(error)s") % {"error": exc}
        ) from exc


def _read_xlsx(data: bytes, notes: list[str]) -> list[list[Cell]]:
    """The first worksheet's cell values; any failure of the parser means a damaged workbook.

    The parser meets untrusted bytes (a broken zip, malformed XML, missing parts) and fails in
    many ways; each is the same answer to the user, never a server error.
    """
    try:
        # data_only=False: a formula cell yields its text ("=1+1"), never a computed value.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # some writers record wrong dimensions; read every row
            rows = [
                [cell.text if isinstance(cell, ArrayFormula) else cell for cell in row]
                for row in sheet.iter_rows(values_only=True)
            ]
        finally:
            book.close()
    except Exception as exc:  # any parser failure: see the docstring
        raise ImportFileError(
            _("The file is not a valid .xlsx workbook. Open it in Excel and save it again.")
        ) from exc
    if len(book.sheetnames) > 1:
        notes.append(
            _("The workbook has %(count)d sheets; only the first, “%(name)s”, was read.")
            % {"count": len(book.sheetnames), "name": sheet.title}
        )
    return rows


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored, or None: PostgreSQL's text cannot hold a NUL character (nor
    can a query look one up), so a cell holding one is a bad cell on every database alike."""
    if "\x00" in text:
        return _("contains a NUL character, which cannot be stored; remove it")
    return None


def is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


# A row element of a worksheet, with or without a namespace prefix (`<row `, `<x:row>`);
# `<rowBreaks>` is not one.
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,20}:)?row[\s/>]")
_ROW_TAG_MAX = 32


def count_data_rows(*, data: bytes, filename: str, stop_after: int) -> int:
    """How many rows the file has below its header, without reading it as a table.

    Counting stops once past `stop_after`, so a huge file is refused quickly. A CSV's blank
    lines do not count; a workbook's rows are its first sheet's row elements, counted in the
    XML as it is unzipped. A file that cannot be read counts 0 rows: reading it in the import
    says what is wrong with it.
    """
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    limit = stop_after + 1  # the header row, then one too many
    try:
        if extension == "csv":
            rows = _count_csv_rows(data, limit)
        elif extension == "xlsx":
            rows = _count_xlsx_rows(data, limit)
        else:
            return 0
    except (UnicodeDecodeError, csv.Error, zipfile.BadZipFile, KeyError, StopIteration):
        return 0
    except ElementTree.ParseError:
        return 0
    return max(rows - 1, 0)


def _count_csv_rows(data: bytes, limit: int) -> int:
    text = data.decode("utf-8-sig")
    delimiter = max([",", ";", "\t"], key=text.split("\n", 1)[0].count)
    count = 0
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if any(cell.strip() for cell in row):
            count += 1
            if count > limit:
                break
    return count


def _count_xlsx_rows(data: bytes, limit: int) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as book, book.open(_first_sheet_path(book)) as sheet:
        count, carry = 0, b""
        while chunk := sheet.read(1024 * 1024):
            buffer = carry + chunk
            # A tag starting in the last few bytes may be cut; it is counted with the next chunk.
            end = max(len(buffer) - _ROW_TAG_MAX, 0)
            count += sum(1 for match in _ROW_TAG.finditer(buffer) if match.start() < end)
            carry = buffer[end:]
            if count > limit:
                return count
        return count + len(_ROW_TAG.findall(carry))


def _first_sheet_path(book: zipfile.ZipFile) -> str:
    """The first worksheet's part name, as the workbook and its relationships name it.

    The standard library's parser, as openpyxl uses on the same parts (expat caps entity
    expansion); the sheet itself is only scanned, never parsed.
    """
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))  # noqa: S314
    sheet = next(el for el in workbook.iter() if el.tag.rsplit("}", 1)[-1] == "sheet")
    rel_id = next(value for key, value in sheet.attrib.items() if key.rsplit("}", 1)[-1] == "id")
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    target = next(el.get("Target", "") for el in rels.iter() if el.get("Id") == rel_id)
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
