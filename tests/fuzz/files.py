"""Writing test tables as the spreadsheets people upload: CSV (any delimiter, with or without a
byte-order mark) and XLSX workbooks."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import Workbook

# What an XLSX cell cannot hold (XML 1.0 forbids these control characters), and "\r", which
# XML parsers turn into "\n" when they read the sheet back.
XLSX_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\r]")


def csv_bytes(rows: list[list[object]], *, delimiter: str = ",", bom: bool = False) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[object]], *, sheets: int = 1) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([XLSX_UNSAFE.sub("", cell) if isinstance(cell, str) else cell for cell in row])
    for index in range(1, sheets):
        book.create_sheet(f"Extra {index}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def table_bytes(rows: list[list[object]], *, filename: str, **options: object) -> bytes:
    if filename.endswith(".xlsx"):
        return xlsx_bytes(rows)
    return csv_bytes(rows, **options)  # type: ignore[arg-type]
