"""`manage.py programme_statement CODE [--from DATE] [--to DATE] [--format {table,csv,json}]`,
and `programme_statement --verify [CODE]`.

The statement is `programmes.statement.programme_statement`, the one the pages and the API
show. `--verify` recomputes the programmes' summaries from the detail rows
(`programmes.services.tallies.tallies_verify`), prints every difference and exits non-zero if
there is one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from programmes.models import Programme
from programmes.services.tallies import tallies_verify
from programmes.statement import Statement, programme_statement
from registry.imports.cells import calendar_date

FORMATS = ("table", "csv", "json")


def _date(value: str) -> dt.date:
    parsed = calendar_date(value)
    if parsed is None:
        raise CommandError(_("%(value)s is not a date (yyyy-mm-dd)") % {"value": value})
    return parsed


class Command(BaseCommand):
    help = "Print a programme's statement (raised, spent, balance, reach, items, warnings)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", nargs="?", help="the programme's code")
        parser.add_argument("--from", dest="date_from", help="first day (yyyy-mm-dd)")
        parser.add_argument("--to", dest="date_to", help="last day (yyyy-mm-dd)")
        parser.add_argument("--format", choices=FORMATS, default="table")
        parser.add_argument(
            "--verify",
            action="store_true",
            help="check the stored summaries against the detail rows (all programmes without CODE)",
        )

    def handle(self, *args: Any, code: str | None, verify: bool, **options: Any) -> None:
        if verify:
            return self._verify(code)
        if not code:
            raise CommandError(_("Name the programme's code."))
        programme = Programme.objects.filter(code=code).first()
        if programme is None:
            raise CommandError(_("No programme has the code %(code)s.") % {"code": code})
        date_from = _date(options["date_from"]) if options["date_from"] else None
        date_to = _date(options["date_to"]) if options["date_to"] else None
        if date_from and date_to and date_to < date_from:
            raise CommandError(_("--to is before --from."))
        s = programme_statement(programme=programme, date_from=date_from, date_to=date_to)
        self.stdout.write(render(s, options["format"]), ending="")

    def _verify(self, code: str | None) -> None:
        ids = None
        if code:
            ids = list(Programme.objects.filter(code=code).values_list("pk", flat=True))
            if not ids:
                raise CommandError(_("No programme has the code %(code)s.") % {"code": code})
        differences = tallies_verify(programme_ids=ids)
        for d in differences:
            self.stderr.write(
                f"{d.programme} ward={d.key[1]} school={d.key[2]} month={d.key[3]} "
                f"{d.figure}: stored {d.stored}, computed {d.computed}"
            )
        if differences:
            raise CommandError(_("%(n)d differences found.") % {"n": len(differences)})
        self.stdout.write(self.style.SUCCESS(_("The programmes' summaries are exact.")))


def _rows(s: Statement) -> list[tuple[str, str, Any]]:
    """(section, name, value) rows: the figures, the items, the warnings."""
    data = s.as_dict()
    rows: list[tuple[str, str, Any]] = [("figure", name, data[name]) for name in Statement.FIGURES]
    rows += [("items_received", item, q) for item, q in data["items_received"].items()]
    rows += [("items_delivered", item, q) for item, q in data["items_delivered"].items()]
    rows += [("warning", w["kind"], w["message"]) for w in data["warnings"]]
    return rows


def render(s: Statement, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(s.as_dict(), ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["section", "name", "value"])
        for section, name, value in _rows(s):
            writer.writerow([section, name, "" if value is None else value])
        return out.getvalue()
    out.write(f"{s.programme.code} · {s.programme.name}\n")
    for section, name, value in _rows(s):
        shown = "—" if value is None else value
        if section == "figure":
            out.write(f"{name:<24}{shown:>20}\n")
        elif section == "warning":
            out.write(f"! {name}: {shown}\n")
        else:
            out.write(f"{section}: {name:<20}{shown:>12}\n")
    return out.getvalue()
