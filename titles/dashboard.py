"""The city dashboard's arithmetic and wording: pure functions over roll-up rows.

Roll-up rows are the dicts `titles.selectors.rollup_rows` returns (the contract's columns).
Nothing here reads the database: the views fetch the rows, these helpers work out the gap to a
target, the yearly increase still needed to reach the 2030 target, the sort order of a table and
the figures as the active language writes them ("91,5 %" in Vietnamese, "91.5%" in English).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from registry.models import Kind
from registry.text import sort_key
from titles.rules.rounding import half_up

# Hanoi Plan 291/KH-UBND sets its targets for 2025 and for 2030; the dashboard measures the
# distance still to go to the latter.
PLAN_YEAR = 2030

STATUS_LABELS: dict[str, Any] = {
    "below": _("Below target"),
    "on_track": _("On track"),
    "above": _("Above target"),
    "no_target": _("No target"),
}
# Sorting by status puts the wards that need attention first.
STATUS_RANK = {"below": 0, "on_track": 1, "above": 2, "no_target": 3}

# The sortable columns of a figures table, in the order they are shown.
SORT_COLUMNS: tuple[tuple[str, Any, bool], ...] = (
    # (key, heading, numeric)
    ("name", _("Name"), False),
    ("entities", _("Entities"), True),
    ("registered", _("Registered"), True),
    ("recognized", _("Recognised"), True),
    ("outstanding", _("Outstanding"), True),
    ("rate", _("Rate"), True),
    ("registered_rate", _("Rate of registered"), True),
    ("target", _("Target"), True),
    ("status", _("Status"), True),
)
SORT_KEYS = frozenset(key for key, _heading, _numeric in SORT_COLUMNS)


# --- arithmetic ---------------------------------------------------------------------------------


def yearly_increase_needed(
    *,
    rate: Decimal | None,
    target_min: Decimal | None,
    year: int,
    plan_year: int = PLAN_YEAR,
) -> Decimal | None:
    """Percentage points a year still needed to reach `target_min` by `plan_year`.

    (target_min − rate) ÷ (plan_year − year), one decimal, half up. None when there is no rate
    or no target, when the rate already reaches the target, or when `year` is not before
    `plan_year` (no year left to spread the gap over).
    """
    if rate is None or target_min is None or year >= plan_year or rate >= target_min:
        return None
    return half_up((target_min - rate) / (plan_year - year))


def gap_to_target(rate: Decimal | None, target_min: Decimal | None) -> Decimal | None:
    """rate − target_min in percentage points: negative below the target's minimum."""
    if rate is None or target_min is None:
        return None
    return half_up(rate - target_min)


# --- wording ------------------------------------------------------------------------------------


def number_text(value: Decimal | float | None) -> str:
    """One decimal as the active language writes it: 91.5 → "91,5" in Vietnamese."""
    if value is None:
        return "–"
    return number_format(half_up(Decimal(value)), decimal_pos=1)


def percent_pattern() -> str:
    """How the active language writes a percentage, with `{value}` for the number."""
    return pgettext("percentage", "%(value)s%%") % {"value": "{value}"}


def percent_text(value: Decimal | float | None) -> str:
    """A percentage in the active language: "91,5 %" in Vietnamese, "91.5%" in English."""
    if value is None:
        return "–"
    return percent_pattern().replace("{value}", number_text(value))


def points_text(value: Decimal | None) -> str:
    """A difference of percentages, in percentage points: "+3,5 points" / "−12.0 points"."""
    if value is None:
        return "–"
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return pgettext("percentage points", "%(sign)s%(value)s points") % {
        "sign": sign,
        "value": number_text(abs(value)),
    }


def _bound_text(value: Decimal) -> str:
    """A target bound without needless decimals: 70.00 → "70", 72.50 → "72,5" in Vietnamese."""
    return number_format(Decimal(format(Decimal(value).normalize(), "f")))


def target_text(row: Mapping[str, Any]) -> str:
    """The target band as "70–80 %", or a dash when the unit has none."""
    if row.get("target_min") is None:
        return "–"
    low, high = _bound_text(row["target_min"]), _bound_text(row["target_max"])
    return percent_pattern().replace("{value}", f"{low}–{high}")


def display_row(row: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A roll-up row with its figures worded for a table; `extra` adds links and marks."""
    return {
        **row,
        "rate_text": percent_text(row["rate"]),
        "registered_rate_text": percent_text(row["registered_rate"]),
        "target_text": target_text(row),
        "status_label": STATUS_LABELS[row["status"]],
        "status_rank": STATUS_RANK[row["status"]],
        **extra,
    }


# --- headline cards -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """One title's card: its roll-up row (None: no figures yet) and the distance to go."""

    kind: str
    label: str
    row: dict[str, Any] | None
    gap: Decimal | None  # rate − this year's target minimum, in points
    target_2030_min: Decimal | None
    increase_2030: Decimal | None  # points a year still needed to reach the 2030 minimum

    @property
    def gap_text(self) -> str:
        return points_text(self.gap)

    @property
    def increase_2030_text(self) -> str:
        return points_text(self.increase_2030)

    @property
    def target_2030_text(self) -> str:
        if self.target_2030_min is None:
            return "–"
        return percent_pattern().replace("{value}", _bound_text(self.target_2030_min))


def headlines(
    rows: Iterable[Mapping[str, Any]],
    *,
    year: int,
    targets_2030: Mapping[str, tuple[Decimal, Decimal]],
    kinds: Iterable[str] | None = None,
) -> list[Headline]:
    """A card per title of `kinds` (all five by default) from one unit's roll-up rows.

    `targets_2030` maps a title to the unit's (min, max) target for PLAN_YEAR.
    """
    by_kind = {str(row["kind"]): row for row in rows}
    cards = []
    for kind in kinds if kinds is not None else Kind.values:
        row = by_kind.get(str(kind))
        target_2030 = targets_2030.get(str(kind))
        target_2030_min = target_2030[0] if target_2030 else None
        rate = row["rate"] if row else None
        cards.append(
            Headline(
                kind=str(kind),
                label=str(Kind(kind).label),
                row=display_row(row) if row else None,
                gap=gap_to_target(rate, row["target_min"] if row else None),
                target_2030_min=target_2030_min,
                increase_2030=yearly_increase_needed(
                    rate=rate, target_min=target_2030_min, year=year
                ),
            )
        )
    return cards


# --- sorting ------------------------------------------------------------------------------------


def parse_sort(value: str | None) -> tuple[str, bool]:
    """`?sort=rate` → ("rate", False); `-rate` → ("rate", True); anything else → ("", False)."""
    value = (value or "").strip()
    descending = value.startswith("-")
    key = value.removeprefix("-")
    if key not in SORT_KEYS:
        return "", False
    return key, descending


def _sort_value(row: Mapping[str, Any], key: str) -> Any:
    if key == "name":
        return sort_key(str(row["unit_name"]))
    if key == "target":
        return row["target_min"]
    if key == "status":
        return STATUS_RANK[row["status"]]
    return row[key]


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Rows ordered by a column of SORT_COLUMNS; rows without a value (no rate, no target)
    come last in either direction, ties keep the units' code order. No key: as given."""
    if not key:
        return list(rows)
    present = [row for row in rows if _sort_value(row, key) is not None]
    missing = [row for row in rows if _sort_value(row, key) is None]
    present.sort(key=lambda row: _sort_value(row, key), reverse=descending)
    return present + missing


def sort_headers(key: str, descending: bool) -> list[dict[str, Any]]:
    """The table's column headings with the `sort` value each links to and its aria-sort.

    A heading links to its ascending order, or to descending when it is already ascending.
    """
    headers = []
    for column, label, numeric in SORT_COLUMNS:
        active = column == key
        headers.append(
            {
                "key": column,
                "label": label,
                "numeric": numeric,
                "sort": f"-{column}" if active and not descending else column,
                "aria_sort": ("descending" if descending else "ascending") if active else "",
            }
        )
    return headers


def as_float(value: Decimal | None) -> float | None:
    """A figure for the charts' JSON (json_script writes a Decimal as a string)."""
    return None if value is None else float(value)
