"""`manage.py import_registry PATH --kind KIND [--ward CODE] [--dry-run]`: load a registry file.

Thin on purpose: the checks and writes are the kind's own (`registry.services.imports` for the
registry's five, the apps' for theirs; see `registry.imports.kinds`), which the upload page uses
too, so the command and the page accept and refuse exactly the same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.imports.kinds import kind_names, registered_kind
from registry.management.report import import_and_report


class Command(BaseCommand):
    help = (
        "Import families, clans, communities, units or citizens from a CSV (UTF-8) or XLSX file. "
        "All or nothing: any bad row and nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the .csv or .xlsx file")
        parser.add_argument("--kind", required=True, choices=kind_names())
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
        self, *args: Any, path: Path, kind: str, dry_run: bool, ward: str | None, **options: Any
    ) -> None:
        import_and_report(
            self,
            path=path,
            run=lambda file, progress: registered_kind(kind).run(
                file=file, filename=path.name, dry_run=dry_run, ward=ward, progress=progress
            ),
            with_progress=True,
        )
