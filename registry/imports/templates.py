"""The template workbook of a kind of file, written from its column specs so it cannot drift.

Sheet one holds the header row (each column's first Vietnamese header, or its contract name
when it has none) and an example row (`Column.example`); sheet two, "Hướng dẫn", explains each
column: the header, the contract name, the other headers accepted, whether it is required and
the values it takes (`Column.allowed`). The workbook is written in Vietnamese whatever the
page's language: it is the file a ward office fills in. The example row imports as it stands
once the records it names exist (a test holds this for every kind).
"""

from __future__ import annotations

import io

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from registry.imports.pipeline import Column, ImportKind

_WIDTH = 24
_GUIDE_WIDTHS = (28, 18, 36, 18, 60)


def template_header(column: Column) -> str:
    """The header a template writes for `column`: its first Vietnamese alias."""
    return column.aliases[0] if column.aliases else column.name


def template_workbook(kind: ImportKind, *, ward: str = "") -> bytes:
    """The kind's template as .xlsx bytes; `ward` (a code) fills the example's ward cell."""
    with translation.override("vi"):
        return _workbook(kind, ward=ward)


def _workbook(kind: ImportKind, *, ward: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Data")
    bold = Font(bold=True)
    headers = [template_header(column) for column in kind.columns]
    example = [
        ward if column.name == "ward" and ward else column.example for column in kind.columns
    ]
    sheet.append(headers)
    sheet.append(example)
    for position, _header in enumerate(headers, start=1):
        sheet.cell(row=1, column=position).font = bold
        sheet.column_dimensions[get_column_letter(position)].width = _WIDTH
    sheet.freeze_panes = "A2"

    guide = book.create_sheet(_("Guide"))
    guide.append(
        [
            _("Column header"),
            _("Name in the file contract"),
            _("Other headers accepted"),
            _("Required"),
            _("Values"),
        ]
    )
    for column in kind.columns:
        guide.append(
            [
                template_header(column),
                column.name,
                ", ".join(column.aliases[1:]),
                _required(column),
                str(column.allowed),
            ]
        )
    if kind.extra is not None:
        guide.append(
            [
                str(kind.extra.header or kind.extra.label),
                kind.extra.label,
                ", ".join(f"{prefix}…" for prefix in kind.extra.prefixes),
                _("No"),
                str(kind.extra.allowed),
            ]
        )
    for note in (
        _(
            "The header row may stand below title rows (the committee's name, the list's title, "
            "blank rows): it is found among the first 20 rows."
        ),
        _("Columns may be in any order; headers are matched ignoring case and diacritics."),
        _(
            "The file is checked first and nothing is written until you confirm; one bad row and "
            "no row is written."
        ),
    ):
        guide.append([])
        guide.append([note])
    for position, width in enumerate(_GUIDE_WIDTHS, start=1):
        guide.column_dimensions[get_column_letter(position)].width = width
    for cell in guide[1]:
        cell.font = bold
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _required(column: Column) -> str:
    if column.name == "ward":
        return _("Yes, unless you work for one commune/ward")
    return _("Yes") if column.required else _("No")
