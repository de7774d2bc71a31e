"""The rows of a dashboard figures table, written in one pass.

`titles/dashboard/_figures_table.html` holds the table; its rows come from `figure_rows`: a
ward's hundreds of residential areas (445 in Hanoi's largest) took about 60 ms of the ward page
through the template engine, a filter and an escape per cell, and a few ms so. The markup is
the one the template wrote before, cell for cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from registry.markup import format_rows

register = template.Library()

_ROW = (
    '<tr data-unit="{}">'
    '<th scope="row" data-sort="{}"><a href="{}">{}</a> <span class="code">{}</span></th>'
    '<td class="num" data-sort="{}">{}</td>'
    '<td class="num" data-sort="{}">{}</td>'
    '<td class="num" data-sort="{}">{}</td>'
    '<td class="num" data-sort="{}">{}</td>'
    '<td class="num" data-sort="{}">{}</td>'
    '<td class="num" data-sort="{}">{}</td>'
    '<td class="num" data-sort="{}">{}</td>'
    '<td class="status status-{}" data-sort="{}">{}</td>'
    "{}</tr>"
)


def _grouped() -> Any:
    """A whole number with the active language's thousands separator, as `intcomma` writes it
    ("1.234" in Vietnamese), the separator looked up once instead of once per number."""
    separator = formats.get_format("THOUSAND_SEPARATOR")
    grouping = formats.get_format("NUMBER_GROUPING")
    if grouping != 3:
        return lambda n: formats.number_format(n, force_grouping=True)
    return lambda n: f"{n:,}".replace(",", separator)


def _plain(value: Any) -> str:
    """A number as `unlocalize` writes it for sorting ("" for none)."""
    return "" if value is None else formats.localize(value, use_l10n=False)


@register.simple_tag
def figure_rows(rows: Iterable[Mapping[str, Any]], show_signoff: bool = False) -> SafeString:
    grouped = _grouped()
    signed_off = gettext("Signed off")

    def signoff_cell(row: Mapping[str, Any]) -> SafeString | str:
        if not show_signoff:
            return ""
        signoff = row.get("signoff")
        if not signoff:
            return mark_safe("<td></td>")  # noqa: S308 - constant markup
        at = formats.date_format(timezone.localtime(signoff.at), "SHORT_DATE_FORMAT")
        return format_html(
            '<td><span class="signed-off" title="{}">✓ {}</span></td>', at, signed_off
        )

    return format_rows(
        _ROW,
        (
            (
                row["unit_code"],
                row["unit_name"],
                row["href"],
                row["unit_name"],
                row["unit_code"],
                _plain(row["entities"]),
                grouped(row["entities"]),
                _plain(row["registered"]),
                grouped(row["registered"]),
                _plain(row["recognized"]),
                grouped(row["recognized"]),
                _plain(row["outstanding"]),
                grouped(row["outstanding"]),
                _plain(row["rate"]),
                row["rate_text"],
                _plain(row["registered_rate"]),
                row["registered_rate_text"],
                _plain(row["target_min"]),
                row["target_text"],
                row["status"],
                row["status_rank"],
                row["status_label"],
                signoff_cell(row),
            )
            for row in rows
        ),
    )
