"""Rows of a contract's columns written as a command prints them: an aligned table, CSV or JSON.

One writer for every command that prints summary rows (`rollup`, `activity_rollup`), so that
their formats cannot drift apart: the contract's column names as the header, a missing value
empty (table, CSV) or null (JSON), a text cell never starting a spreadsheet formula (CSV),
percentages and other decimals as numbers (JSON).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from titles.reports import neutralise

FORMATS = ("table", "csv", "json")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def rows_table(rows: list[dict], columns: Sequence[str], *, right: Collection[str]) -> str:
    """Aligned columns under the column names; the `right` ones (numbers) to the right."""
    lines = [list(columns)] + [[_text(row[c]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    out = []
    for line in lines:
        cells = [
            cell.rjust(width) if column in right else cell.ljust(width)
            for column, cell, width in zip(columns, line, widths, strict=True)
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def rows_csv(rows: list[dict], columns: Sequence[str]) -> str:
    """The header and rows; a text cell never starts a spreadsheet formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [neutralise(row[c]) if isinstance(row[c], str) else _text(row[c]) for c in columns]
        )
    return buffer.getvalue()


def rows_json(rows: list[dict], columns: Sequence[str]) -> str:
    """A list of objects with the columns as keys; decimals as numbers, a missing one null."""

    def value(v: Any) -> Any:
        return float(v) if isinstance(v, Decimal) else v

    data = [{c: value(row[c]) for c in columns} for row in rows]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def rows_as(
    output_format: str, rows: list[dict], columns: Sequence[str], *, right: Collection[str]
) -> str:
    """`rows` in one of FORMATS."""
    if output_format == "table":
        return rows_table(rows, columns, right=right)
    if output_format == "csv":
        return rows_csv(rows, columns)
    return rows_json(rows, columns)
