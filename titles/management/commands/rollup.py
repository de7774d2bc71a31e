"""`manage.py rollup --year YEAR [--unit CODE] [--level {province,ward,community}]
[--format {table,csv,json}]`, and `rollup --verify [--unit PROVINCE]`.

The rows are the contract's roll-up rows (`titles.selectors.rollup_rows_all`: every unit, read
from the summaries). `--verify` recomputes each province's summaries from the detail rows
(`titles.services.rollups.rollup_verify`), prints every difference and exits non-zero if there
is one.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from registry.models import AdministrativeUnit, EntityTally, RollupLevel
from titles.management.rows import FORMATS, rows_as
from titles.models import Rollup, RollupSnapshot
from titles.rules.criteria_file import FIRST_YEAR, LAST_YEAR
from titles.selectors import ROLLUP_COLUMNS, rollup_rows_all
from titles.services.rollups import Difference, rollup_verify

# Columns the table aligns right (numbers).
_NUMERIC = {
    "year",
    "entities",
    "registered",
    "recognized",
    "outstanding",
    "rate",
    "registered_rate",
    "target_min",
    "target_max",
}


class Command(BaseCommand):
    help = (
        "Print the roll-up rows of a year (entities, registered, recognised, outstanding, rates "
        "and target status per unit and title), or check the stored summaries with --verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="the year (required unless --verify)")
        parser.add_argument(
            "--unit",
            help="a province or commune/ward code: only that unit and the units under it",
        )
        parser.add_argument(
            "--level",
            choices=[level.value for level in RollupLevel],
            default=RollupLevel.WARD.value,
            help="one row per province, commune/ward or residential area (default: ward)",
        )
        parser.add_argument("--format", choices=FORMATS, default="table", dest="output_format")
        parser.add_argument(
            "--verify",
            action="store_true",
            help=(
                "recompute the summaries of the province given by --unit (or of every province) "
                "from the detail rows, every year, and print each difference"
            ),
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
                _(
                    "%(code)s is a commune/ward: it has no province rows; use --level ward or "
                    "--level community."
                )
                % {"code": unit_row.code}
            )
        rows = rollup_rows_all(year=year, level=level, unit_code=unit_row and unit_row.code)
        self.stdout.write(rows_as(output_format, rows, ROLLUP_COLUMNS, right=_NUMERIC), ending="")

    def _verify(self, unit: AdministrativeUnit | None) -> None:
        if unit is not None and not unit.is_province:
            raise CommandError(
                _("--verify takes a province code; %(code)s is a commune/ward.")
                % {"code": unit.code}
            )
        provinces = (
            [unit]
            if unit is not None
            else list(
                AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.PROVINCE).order_by(
                    "code"
                )
            )
        )
        differences: list[Difference] = []
        for province in provinces:
            differences += rollup_verify(province_id=province.pk)
        for difference in differences:
            self.stdout.write(describe(difference))
        if differences:
            raise CommandError(
                ngettext(
                    "%(count)d difference between the stored summaries and the detail rows.",
                    "%(count)d differences between the stored summaries and the detail rows.",
                    len(differences),
                )
                % {"count": len(differences)}
            )
        ids = [p.pk for p in provinces]
        checked = (
            Rollup.objects.filter(province_id__in=ids).count()
            + EntityTally.objects.filter(province_id__in=ids).count()
            + RollupSnapshot.objects.filter(province_id__in=ids).count()
        )
        self.stdout.write(_("No difference: %(count)d summary rows checked.") % {"count": checked})


def _unit(code: str) -> AdministrativeUnit:
    """The province or commune/ward in force with this code, else CommandError."""
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


def describe(difference: Difference) -> str:
    """One difference on a line: `rollup community:123 2025 family stored (3, 2, 0) computed
    (3, 3, 0)` (level:unit id, year, title; registered, recognised, outstanding), or
    `tally ward:45 family stored (3) computed (4)` for an entity count (`tally ward:45 family
    from 2026 …` for the entities counted from 2026 on), `members ward:45 family stored (10)
    computed (12)` for the members of a family tally's households, `snapshot ward:45 2025 stored (1)
    computed (0)` for a ward-year whose snapshot exists (1) or not (0) while it is signed off (1)
    or not (0), `snapshot ward:45 2025 family stored (…) computed (…)` for a snapshot whose
    ward row (entities, registered, recognised, outstanding) is not the sum of its areas', and
    `birth_tally ward:45 1990 stored (12) computed (13)` for the citizens of a ward born in a
    year, and `registration_count ward:45 2026 family evaluated True True None False stored (3)
    computed (4)` for a ward's registrations of a title in a state, with a result (passed or
    not, None before any evaluation), with evidence or not, under a decision (its id, None
    before recognition) and outstanding or not."""
    level, unit_id, *rest = difference.key
    if difference.table in ("tally", "members"):
        kind, since = rest
        rest = [kind, f"from {since}"] if since else [kind]
    key = " ".join([f"{level}:{unit_id}", *(str(part) for part in rest)])
    return (
        f"{difference.table} {key} stored {_tuple(difference.stored)} "
        f"computed {_tuple(difference.computed)}"
    )


def _tuple(values: tuple) -> str:
    return "(" + ", ".join(str(v) for v in values) + ")"
