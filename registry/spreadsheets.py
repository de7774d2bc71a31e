"""Reading spreadsheets people make: CSV (UTF-8, with or without BOM) or XLSX (first sheet).

Shared by every import. Cells are data, never formulas: a workbook is read without evaluating
anything (a formula cell yields its formula's text, as typed, never a value). Reports name rows as
the spreadsheet does (its first row is row 1, whatever title rows stand above the header) so a
user can find them.

A file is untrusted: a few hundred kilobytes of zip can expand to gigabytes of XML, a row can
hold millions of cells and a cell hundreds of megabytes. Before any parser builds anything, the
reader checks the file against `ReadLimits` -- the zip's parts by the sizes its central directory
declares (the standard library never inflates a part beyond that size), then every XML part the
parser will read, streamed through expat chunk by chunk with no tree kept: nesting depth, no
DOCTYPE, sheets in the workbook, cells per row, column letters, characters per cell and cells in
all. The first limit crossed refuses the file with a message, so memory stays bounded and a
hostile file costs seconds at most. CSV files get the same row, cell and character limits.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO
from xml.etree import ElementTree
from xml.parsers import expat

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from registry.text import fold

Cell = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None
# How far reading a file is: (rows read, rows in the file). A workbook's sheet is read twice (the
# limits' scan, then the parser), each pass taking half of the way.
ReadProgress = Callable[[int, int], None]
# Reading tells its progress once every this many rows.
_PROGRESS_ROWS = 2000


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
    *,
    file: BinaryIO,
    filename: str,
    notes: list[str],
    columns: Iterable[str],
    progress: ReadProgress | None = None,
) -> list[list[Cell]]:
    """The file's rows (index i is spreadsheet row i + 1), refusing oversized and empty files.

    The header may stand below title rows; the import pipeline finds it. `columns` are the
    column names a file is told it needs. `progress`, when given, hears how far the reading is
    as it goes (a workbook of 200,000 rows takes tens of seconds).
    """
    limit = settings.IMPORT_MAX_BYTES
    data = file.read(limit + 1)
    if len(data) > limit:
        raise ImportFileError(
            _("The file is larger than the limit of %(size)s MB; split it into several files.")
            % {"size": f"{limit / 1024 / 1024:g}"}
        )
    table = read_rows(data=data, filename=filename, notes=notes, progress=progress)
    if all(is_blank(cell) for row in table for cell in row):
        raise ImportFileError(_("The file is empty."))
    return table


def read_rows(
    *, data: bytes, filename: str, notes: list[str], progress: ReadProgress | None = None
) -> list[list[Cell]]:
    """The first sheet's rows, header first; index i is spreadsheet row i + 1."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "csv":
        return _read_csv(data)
    if extension == "xlsx":
        return _read_xlsx(data, notes, progress)
    raise ImportFileError(
        _("Only .csv and .xlsx files can be imported (this file is “%(name)s”).")
        % {"name": filename}
    )


@dataclass(frozen=True)
class ReadLimits:
    """What a file may expand to before it is refused; see the module docstring."""

    part_bytes: int  # a worksheet's or the shared strings' XML, uncompressed
    other_part_bytes: int  # any other part (styles, workbook, relationships, theme ...)
    parts: int  # entries in the zip
    sheets: int  # sheets listed in the workbook
    columns: int  # cells in one row, and the highest column a cell may name
    cells: int  # cells in the whole sheet or CSV
    cell_chars: int  # characters in one cell (Excel itself holds at most 32,767)
    depth: int  # nesting of XML elements (a worksheet needs 7)

    @classmethod
    def from_settings(cls) -> ReadLimits:
        return cls(
            part_bytes=settings.IMPORT_MAX_PART_BYTES,
            other_part_bytes=_OTHER_PART_BYTES,
            parts=_MAX_PARTS,
            sheets=settings.IMPORT_MAX_SHEETS,
            columns=settings.IMPORT_MAX_COLUMNS,
            cells=settings.IMPORT_MAX_CELLS,
            cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            depth=_MAX_XML_DEPTH,
        )


_OTHER_PART_BYTES = 16 * 1024 * 1024
_MAX_PARTS = 1000
_MAX_XML_DEPTH = 64
_CHUNK = 1024 * 1024


def _too_many_columns(limits: ReadLimits, row: int) -> ImportFileError:
    return ImportFileError(
        _(
            "Row %(row)d has more than %(limit)d columns; a file for import has a few columns "
            "only. Delete the unused columns and save it again."
        )
        % {"row": row, "limit": limits.columns}
    )


def _too_many_cells(limits: ReadLimits) -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(limit)s cells; split it into several files.")
        % {"limit": f"{limits.cells:,}".replace(",", ".")}
    )


def _cell_too_long(limits: ReadLimits, row: int | None) -> ImportFileError:
    if row is None:
        return ImportFileError(
            _("A cell holds more than %(limit)d characters, more than a spreadsheet cell can.")
            % {"limit": limits.cell_chars}
        )
    return ImportFileError(
        _(
            "A cell in row %(row)d holds more than %(limit)d characters, more than a spreadsheet "
            "cell can."
        )
        % {"row": row, "limit": limits.cell_chars}
    )


def _damaged() -> ImportFileError:
    return ImportFileError(
        _("The file is not a valid .xlsx workbook. Open it in Excel and save it again.")
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
    limits = ReadLimits.from_settings()
    rows: list[list[Cell]] = []
    cells = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if len(row) > limits.columns:
                raise _too_many_columns(limits, reader.line_num)
            cells += len(row)
            if cells > limits.cells:
                raise _too_many_cells(limits)
            if any(len(cell) > limits.cell_chars for cell in row):
                raise _cell_too_long(limits, reader.line_num)
            rows.append(row)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise _cell_too_long(limits, reader.line_num) from exc
        raise ImportFileError(
            _("The CSV file could not be read: %(error)s") % {"error": exc}
        ) from exc
    return rows


def _read_xlsx(
    data: bytes, notes: list[str], progress: ReadProgress | None = None
) -> list[list[Cell]]:
    """The first worksheet's cell values; any failure of the parser means a damaged workbook.

    The file is checked against the limits first (`_check_xlsx`). The parser then meets
    untrusted bytes (a broken zip, malformed XML, missing parts) and fails in many ways; each is
    the same answer to the user, never a server error. With `progress`, the sheet's rows are
    counted first (a quick pass over its XML), so that both passes can say how far they are.
    """
    limits = ReadLimits.from_settings()
    total = 0
    if progress is not None:
        _check_xlsx(data, limits, scan_sheet=False)
        try:
            total = _count_xlsx_rows(data, limits.cells)
        except Exception as exc:  # the same parts the scan below reads: a damaged workbook
            raise _damaged() from exc

        def scanned(rows: int) -> None:
            progress(min(rows, total) // 2, total)

        _check_xlsx(data, limits, scanned=scanned)
    else:
        _check_xlsx(data, limits)
    try:
        # data_only=False: a formula cell yields its text ("=1+1"), never a computed value.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # some writers record wrong dimensions; read every row
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows.append([cell.text if isinstance(cell, ArrayFormula) else cell for cell in row])
                if progress is not None and len(rows) % _PROGRESS_ROWS == 0:
                    progress((total + min(len(rows), total)) // 2, total)
        finally:
            book.close()
    except Exception as exc:  # any parser failure: see the docstring
        raise _damaged() from exc
    if len(book.sheetnames) > 1:
        notes.append(
            _("The workbook has %(count)d sheets; only the first, “%(name)s”, was read.")
            % {"count": len(book.sheetnames), "name": sheet.title}
        )
    return rows


def _check_xlsx(
    data: bytes,
    limits: ReadLimits,
    *,
    scan_sheet: bool = True,
    scanned: Callable[[int], None] | None = None,
) -> None:
    """Refuse a workbook that expands beyond `limits` (ImportFileError), reading no more of it
    than the first limit it crosses; see the module docstring. `scanned`, when given, hears the
    sheet's rows scanned so far, a chunk of its XML at a time."""
    book = _open_zip(data, limits)
    with book:
        names = {info.filename for info in book.infolist()}
        for name in sorted(names):
            if _is_xml(name) and not _is_worksheet(name):
                scan = _XmlScan(limits, part=name)
                _stream(book, name, scan)
                if name == "xl/workbook.xml" and scan.sheets > limits.sheets:
                    raise ImportFileError(
                        _(
                            "The workbook has more than %(limit)d sheets; keep the sheet to import "
                            "and delete the others."
                        )
                        % {"limit": limits.sheets}
                    )
        if scan_sheet:
            try:
                sheet = _first_sheet_path(book)
            except (KeyError, StopIteration, ElementTree.ParseError) as exc:
                raise _damaged() from exc
            if sheet in names:
                _stream(book, sheet, _XmlScan(limits, part=sheet), scanned=scanned)


def _open_zip(data: bytes, limits: ReadLimits) -> zipfile.ZipFile:
    """The workbook's zip, once its central directory is within the limits."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end >= 0 and len(data) >= end + 12:
        declared = int.from_bytes(data[end + 10 : end + 12], "little")
        if declared != 0xFFFF and declared > limits.parts:
            raise _too_many_parts(limits)
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _damaged() from exc
    infos = book.infolist()
    if len(infos) > limits.parts:
        book.close()
        raise _too_many_parts(limits)
    for info in infos:
        big = _is_worksheet(info.filename) or info.filename == "xl/sharedStrings.xml"
        limit = limits.part_bytes if big else limits.other_part_bytes
        if info.file_size > limit:
            book.close()
            raise ImportFileError(
                _(
                    "The workbook expands to more than %(limit)s MB (part “%(part)s”: "
                    "%(size)s MB); split it into several files."
                )
                % {
                    "limit": f"{limit / 1024 / 1024:g}",
                    "part": info.filename[:80],
                    "size": f"{info.file_size / 1024 / 1024:.0f}",
                }
            )
    return book


def _too_many_parts(limits: ReadLimits) -> ImportFileError:
    return ImportFileError(
        _("The workbook holds more than %(limit)d parts; a spreadsheet has a few dozen.")
        % {"limit": limits.parts}
    )


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def _is_worksheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.count("/") == 2


def _stream(
    book: zipfile.ZipFile,
    name: str,
    scan: _XmlScan,
    *,
    scanned: Callable[[int], None] | None = None,
) -> None:
    """Feed one part to `scan` a chunk at a time; a part that is not XML is a damaged file.
    `scanned` hears the rows scanned after each chunk."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.text
    parser.StartDoctypeDeclHandler = scan.doctype
    try:
        with book.open(name) as part:
            while chunk := part.read(_CHUNK):
                parser.Parse(chunk, False)
                if scanned is not None:
                    scanned(scan.rows)
            parser.Parse(b"", True)
    except (expat.ExpatError, zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise _damaged() from exc


_COLUMN = re.compile(r"[A-Za-z]{1,3}")


def _column_number(reference: str) -> int:
    """1 for "A7", 28 for "AB3"; 0 when the reference names no column."""
    letters = _COLUMN.match(reference)
    number = 0
    for letter in letters.group().upper() if letters else "":
        number = number * 26 + ord(letter) - 64
    return number


class _XmlScan:
    """Expat handlers that refuse a part crossing the limits; they keep counters, never text.

    In a worksheet: cells per row, the column each cell names, characters per cell (value,
    formula or inline string) and cells in all; in the shared strings: characters per string;
    in the workbook: how many sheets it lists; in every part: depth, and no DOCTYPE (an XLSX
    part never has one; entity declarations are how XML bombs expand).
    """

    def __init__(self, limits: ReadLimits, *, part: str) -> None:
        self.limits = limits
        self.worksheet = _is_worksheet(part)
        self.workbook = part == "xl/workbook.xml"
        self.depth = 0
        self.row = 0
        self.rows = 0  # row elements so far (`row` is the number the last one gave itself)
        self.row_cells = 0
        self.cells = 0
        self.sheets = 0
        self.chars: int | None = None  # characters of the cell being read, None outside one

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > self.limits.depth:
            raise ImportFileError(
                _(
                    "The workbook's XML is nested more than %(limit)d levels deep; it is not a "
                    "spreadsheet Excel writes."
                )
                % {"limit": self.limits.depth}
            )
        tag = name.rpartition(":")[2]
        if self.worksheet:
            if tag == "row":
                self.rows += 1
                self.row = int(attrs["r"]) if attrs.get("r", "").isdigit() else self.row + 1
                self.row_cells = 0
            elif tag == "c":
                self.row_cells += 1
                self.cells += 1
                column = max(self.row_cells, _column_number(attrs.get("r", "")))
                if column > self.limits.columns:
                    raise _too_many_columns(self.limits, self.row)
                if self.cells > self.limits.cells:
                    raise _too_many_cells(self.limits)
                self.chars = 0
        elif tag == "si":  # a shared string, whatever the part is named
            self.chars = 0
        elif self.workbook and tag == "sheet":
            self.sheets += 1

    def end(self, name: str) -> None:
        self.depth -= 1
        if name.rpartition(":")[2] in ("c", "si"):
            self.chars = None

    def text(self, data: str) -> None:
        if self.chars is not None:
            self.chars += len(data)
            if self.chars > self.limits.cell_chars:
                raise _cell_too_long(self.limits, self.row if self.worksheet else None)

    def doctype(self, *args: object) -> None:
        raise _damaged()


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


def zip_refusal(*, data: bytes, filename: str) -> str:
    """Why a workbook is refused from its zip's directory alone (too many parts, a part
    declared to expand beyond the limits), inflating nothing; "" for a CSV, a workbook whose
    directory is within the limits (reading it checks the rest) or a file that is no zip at all
    (reading it says so, in the import's report)."""
    if not filename.lower().endswith(".xlsx"):
        return ""
    try:
        _open_zip(data, ReadLimits.from_settings()).close()
    except ImportFileError as exc:
        return "" if exc.__cause__ is not None else str(exc)  # a cause: the zip is damaged
    return ""


def too_many_rows(*, data: bytes, filename: str) -> str:
    """Why an uploaded file is refused for its rows (more than IMPORT_MAX_ROWS below its
    header), or "" when it is not; the import commands read any number of rows."""
    limit = settings.IMPORT_MAX_ROWS
    if count_data_rows(data=data, filename=filename, stop_after=limit) <= limit:
        return ""
    return _("The file has more than %(rows)s rows; split it into several files.") % {
        "rows": number_format(limit, force_grouping=True)
    }


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
            _check_xlsx(data, ReadLimits.from_settings(), scan_sheet=False)
            rows = _count_xlsx_rows(data, limit)
        else:
            return 0
    except (UnicodeDecodeError, csv.Error, zipfile.BadZipFile, zlib.error, KeyError, StopIteration):
        return 0
    except ImportFileError:  # over a limit: reading it in the import says which
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
