"""`manage.py import_registrations PATH --year YEAR [--ward CODE] [--dry-run]`: load a year.

Thin on purpose: the checks and writes are `titles.services.imports.registrations_import`, which
an upload page uses too, so the command and the page accept and refuse exactly the same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.management.report import import_and_report
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
        parser.add_argument(
            "--ward",
            metavar="CODE",
            help=(
                "the commune/ward the file is for: rows without a ward code get it, rows of "
                "another commune/ward are refused (the ward column may then be left out)"
            ),
        )

    def handle(
        self, *args: Any, path: Path, year: int, dry_run: bool, ward: str | None, **options: Any
    ) -> None:
        import_and_report(
            self,
            path=path,
            run=lambda file, progress: registrations_import(
                file=file,
                filename=path.name,
                year=year,
                dry_run=dry_run,
                ward=ward,
                progress=progress,
            ),
            with_progress=True,
        )
