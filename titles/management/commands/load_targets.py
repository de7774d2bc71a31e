"""`manage.py load_targets PATH` — load a targets file (or `--defaults`: the plans shipped in
titles/targets/). Thin: the checks and writes are `titles.services.targets`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from registry.imports.report import describe_error, summary
from registry.management.report import import_and_report
from titles.services.targets import targets_load, targets_load_defaults


class Command(BaseCommand):
    help = (
        "Load plan targets (unit, kind, year, min_rate, max_rate in percent, optional source) "
        "from a CSV (UTF-8) or XLSX file, or the shipped plans with --defaults. All or nothing; "
        "a target is replaced by one of the same unit, title and year."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", type=Path, help="the .csv or .xlsx file")
        parser.add_argument(
            "--defaults",
            action="store_true",
            help="load the national and provincial plans shipped with the application",
        )

    def handle(self, *args: Any, path: Path | None, defaults: bool, **options: Any) -> None:
        if bool(path) == defaults:
            raise CommandError(_("Give either a PATH or --defaults."))
        if path is not None:
            import_and_report(
                self, path=path, run=lambda file: targets_load(file=file, filename=path.name)
            )
            return
        report = targets_load_defaults()
        for note in report.notes:
            self.stdout.write(_("Note: %(note)s") % {"note": note})
        if not report.ok:
            for error in report.errors:
                self.stderr.write(describe_error(error))
            raise CommandError(
                ngettext(
                    "%(count)d problem found in the shipped targets; nothing was written.",
                    "%(count)d problems found in the shipped targets; nothing was written.",
                    len(report.errors),
                )
                % {"count": len(report.errors)}
            )
        self.stdout.write(self.style.SUCCESS(summary(report)))
