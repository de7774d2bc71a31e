"""Keyset (cursor) pages: a list walked by its sort key, never by OFFSET, never counted.

A page of a list at province scope must cost the same whether it is the first or the ten
thousandth: OFFSET reads and throws away every row before the page, and a page count needs a
COUNT over the province. A keyset page asks for the rows after (or before) the last one shown,
by the list's own order, which an index matches, and reads one row more than it shows to know
whether there is a next page.

The cursor names a direction and the sort values of the row it starts from, encoded so that it
survives a URL; a cursor that does not decode is the caller's `InvalidCursor` (a 400 naming the
parameter, like any other bad parameter).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

AFTER, BEFORE = "a", "b"


class InvalidCursor(ValueError):
    """The cursor parameter is not one this list made."""


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None
    first: bool  # no cursor was given: the list's first page

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


def encode(direction: str, values: Sequence[Any]) -> str:
    raw = json.dumps([direction, *values], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, *, width: int) -> tuple[str, list[Any]]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, *values = json.loads(raw)
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise InvalidCursor(cursor) from error
    if direction not in (AFTER, BEFORE) or len(values) != width:
        raise InvalidCursor(cursor)
    if not all(isinstance(value, (str, int)) and not isinstance(value, bool) for value in values):
        raise InvalidCursor(cursor)
    return direction, values


def keyset_page(
    rows: QuerySet,
    *,
    columns: Sequence[str],
    key: Callable[[Any], Sequence[Any]],
    cursor: str | None,
    size: int,
) -> KeysetPage:
    """One page of `rows`, which must be ordered ascending by exactly `columns`.

    `columns` are the SQL expressions of the sort (qualified column names, e.g.
    `"registry_entity"."sort_key"`), compared as one row value, which PostgreSQL walks on a
    matching index and SQLite compares alike; `key(obj)` gives an object's values of them.
    """
    direction, values = (AFTER, None) if not cursor else decode(cursor, width=len(columns))
    query = rows
    if values is not None:
        operator = ">" if direction == AFTER else "<"
        marks = ", ".join(["%s"] * len(values))
        # The SQL is the caller's column names and placeholders only; the values are parameters.
        query = query.filter(
            RawSQL(  # noqa: S611
                f"({', '.join(columns)}) {operator} ({marks})",
                values,
                output_field=BooleanField(),
            )
        )
    if direction == BEFORE:
        query = query.reverse()
    found = list(query[: size + 1])
    more = len(found) > size
    found = found[:size]
    if direction == BEFORE:
        found.reverse()
    if not found:
        return KeysetPage(rows=[], next_cursor=None, previous_cursor=None, first=cursor is None)
    after = encode(AFTER, key(found[-1]))
    before = encode(BEFORE, key(found[0]))
    if direction == AFTER:
        next_cursor = after if more else None
        previous_cursor = before if values is not None else None
    else:
        next_cursor = after
        previous_cursor = before if more else None
    return KeysetPage(
        rows=found,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        first=cursor is None,
    )
