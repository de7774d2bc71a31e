"""`manage.py activity_rollup --year YEAR [--unit CODE] [--level {province,ward}]
[--format {table,csv,json}]`, and `activity_rollup --verify [--unit PROVINCE]`.

The rows are the contract's (`community.selectors.rollup_rows` for every unit, read from the
summaries). `--verify` recomputes the summaries from the groups, members and activities
(`community.services.summaries.summaries_verify`), prints each difference and exits non-zero if
there is one.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from community.selectors import LEVELS, ROLLUP_COLUMNS, rollup_rows
from community.services.summaries import summaries_verify
from registry.models import AdministrativeUnit, RollupLevel
from titles.management.rows import FORMATS, rows_as
from titles.rules.criteria_file import FIRST_YEAR, LAST_YEAR

_TEXT = {"unit_code", "unit_name", "group_type"}


class Command(BaseCommand):
    help = (
        "Print the groups' and digital literacy figures of a year per unit and group type "
        "(groups, members, activities, people helped, dossiers, citizens reached, adults, reach "
        "rate), or check the stored summaries with --verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="the year (required unless --verify)")
        parser.add_argument(
            "--unit", help="a province or commune/ward code: only that unit and the units under it"
        )
        parser.add_argument(
            "--level",
            choices=[str(level) for level in LEVELS],
            default=str(RollupLevel.WARD),
            help="one row per province or commune/ward (default: ward)",
        )
        parser.add_argument("--format", choices=FORMATS, default="table", dest="output_format")
        parser.add_argument(
            "--verify",
            action="store_true",
            help="recompute the summaries (of the province given by --unit, or of all) from the "
            "detail rows and print each difference",
        )

    def handle(
        self,
        *args: Any,
        year: int | None,
        unit: str | None,
        level: str,
        output_format: str,
        verify: bool,
        **options: Any,
    ) -> None:
        unit_row = _unit(unit) if unit else None
        if verify:
            self._verify(unit_row)
            return
        if year is None:
            raise CommandError(_("--year is required."))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise CommandError(
                _("%(year)d is not a year between %(first)d and %(last)d.")
                % {"year": year, "first": FIRST_YEAR, "last": LAST_YEAR}
            )
        if unit_row is not None and not unit_row.is_province and level == RollupLevel.PROVINCE:
            raise CommandError(
                _("%(code)s is a commune/ward: it has no province rows; use --level ward.")
                % {"code": unit_row.code}
            )
        rows = rollup_rows(user=None, year=year, level=level, unit_code=unit_row and unit_row.code)
        right = [column for column in ROLLUP_COLUMNS if column not in _TEXT]
        self.stdout.write(rows_as(output_format, rows, ROLLUP_COLUMNS, right=right), ending="")

    def _verify(self, unit: AdministrativeUnit | None) -> None:
        if unit is not None and not unit.is_province:
            raise CommandError(
                _("--verify takes a province code; %(code)s is a commune/ward.")
                % {"code": unit.code}
            )
        differences = summaries_verify(province_id=unit.pk if unit is not None else None)
        for d in differences:
            self.stdout.write(
                f"{d.table} {' '.join(str(part) for part in d.key)} "
                f"stored {d.stored} computed {d.computed}"
            )
        if differences:
            raise CommandError(
                ngettext(
                    "%(count)d difference between the stored summaries and the detail rows.",
                    "%(count)d differences between the stored summaries and the detail rows.",
                    len(differences),
                )
                % {"count": len(differences)}
            )
        self.stdout.write(_("No difference between the stored summaries and the detail rows."))


def _unit(code: str) -> AdministrativeUnit:
    code = code.strip()
    found = AdministrativeUnit.objects.filter(code=code, valid_to__isnull=True).first()
    if found is None:
        raise CommandError(
            _(
                "No province or commune/ward in force has the code “%(code)s” (province codes "
                "have 2 digits, such as 01; commune/ward codes 5, such as 00070)."
            )
            % {"code": code}
        )
    return found
