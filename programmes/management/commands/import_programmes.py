"""`manage.py import_programmes PATH [--dry-run]`: load a programmes spreadsheet.

Thin on purpose: the checks and writes are `programmes.services.imports.programmes_import`, which
the upload page uses too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from programmes.services.imports import programmes_import
from registry.management.report import import_and_report


class Command(BaseCommand):
    help = "Import programmes from a CSV (UTF-8) or XLSX file. All or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the .csv or .xlsx file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report; write nothing"
        )

    def handle(self, *args: Any, path: Path, dry_run: bool, **options: Any) -> None:
        import_and_report(
            self,
            path=path,
            run=lambda file: programmes_import(
                file=file, filename=path.name, kind="programmes", dry_run=dry_run
            ),
        )
