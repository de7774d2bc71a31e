"""`manage.py import_registrations PATH --year YEAR [--dry-run]`: load a year's registrations.

Thin on purpose: the checks and writes are `titles.services.imports.registrations_import`, which
an upload page uses too, so the command and the page accept and refuse exactly the same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from registry.services.imports import describe_error, summary
from titles.services.imports import registrations_import


class Command(BaseCommand):
    help = (
        "Import a year's registrations (kind, ward, code; c.<CRITERION> evidence; historical "
        "outcome, decision_no, decision_date) from a CSV (UTF-8) or XLSX file. All or nothing: "
        "any bad row and nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the .csv or .xlsx file")
        parser.add_argument("--year", type=int, required=True, help="the registrations' year")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report; write nothing"
        )

    def handle(self, *args: Any, path: Path, year: int, dry_run: bool, **options: Any) -> None:
        try:
            with path.open("rb") as file:
                report = registrations_import(
                    file=file, filename=path.name, year=year, dry_run=dry_run
                )
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from exc
        for note in report.notes:
            self.stdout.write(_("Note: %(note)s") % {"note": note})
        if not report.ok:
            for error in report.errors:
                self.stderr.write(describe_error(error))
            raise CommandError(
                ngettext(
                    "%(count)d problem found in %(path)s; nothing was written.",
                    "%(count)d problems found in %(path)s; nothing was written.",
                    len(report.errors),
                )
                % {"count": len(report.errors), "path": path}
            )
        self.stdout.write(self.style.SUCCESS(summary(report)))
