"""Cell parsers for column specs: a cell in, a typed value out, or `BadCell` with the reason.

A parser receives a non-blank cell, stripped when it is text (blank cells never reach it: the
pipeline applies the column's `required`/`empty` rule). The reason is what the user reads in the
report beside the row and column, in the active language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from registry.spreadsheets import Cell, as_text, match_key, normalize_ward_code, unstorable

Parser = Callable[[Cell], Any]


class BadCell(Exception):
    """A cell's value does not fit its column; the message is the reason the user sees."""


def shown(cell: Cell, limit: int = 40) -> str:
    """A cell's text as a message quotes it: trimmed, cut at `limit` characters."""
    text = as_text(cell).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(cell: Cell, limit: int = 40) -> str:
    """`shown` between typographic quotes: “…”."""
    return "“" + shown(cell, limit) + "”"


def raw(cell: Cell) -> Cell:
    """The cell as it is, for a column the kind checks with the row's other cells."""
    return cell


def text(max_length: int) -> Parser:
    """Text that the database can store, at most `max_length` characters."""

    def parse(cell: Cell) -> str:
        value = as_text(cell).strip()
        if reason := unstorable(value):
            raise BadCell(reason)
        if len(value) > max_length:
            raise BadCell(
                _("longer than %(max)d characters (%(length)d)")
                % {"max": max_length, "length": len(value)}
            )
        return value

    return parse


_WHOLE = re.compile(r"[+-]?\d+(?:\.0*)?")


def whole_number(cell: Cell) -> int:
    """An integer from a number cell or its text; 4.0 is 4, 4.5 and "4,5" are not whole."""
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str) and _WHOLE.fullmatch(cell.strip()):
        return int(cell.strip().split(".")[0])
    raise BadCell(_("%(value)s is not a whole number") % {"value": quote(cell)})


def choice(words: dict[str, str], message: str | None = None) -> Parser:
    """One of `words` (matched like headers: any case, with or without diacritics) -> its value.

    `message` (with %(value)s, the cell as `shown`) replaces the default reason, which lists
    the words accepted.
    """
    folded = {match_key(word): value for word, value in words.items()}
    accepted = ", ".join(words)

    def parse(cell: Cell) -> str:
        value = folded.get(match_key(as_text(cell)))
        if value is None:
            if message is not None:
                raise BadCell(message % {"value": shown(cell)})
            raise BadCell(
                _("%(value)s is not one of: %(choices)s")
                % {"value": quote(cell), "choices": accepted}
            )
        return value

    return parse


def ward_code(max_length: int) -> Parser:
    """The official 5-digit commune/ward code; "70", "0070" and the number 70 all mean "00070"."""
    as_code = text(max_length)

    def parse(cell: Cell) -> str:
        return normalize_ward_code(as_code(cell))

    return parse


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


def calendar_date(cell: Cell) -> dt.date | None:
    """A calendar date from a date cell or its text (2024-12-15, 15/12/2024 ...); else None."""
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if not isinstance(cell, str):
        return None
    value = cell.strip()
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None
