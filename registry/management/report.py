"""What the import commands share: reading the file named on the command line and printing the
report, the same way for every import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from registry.imports.report import ImportReport, describe_error, summary


def import_and_report(
    command: BaseCommand, *, path: Path, run: Callable[[BinaryIO], ImportReport]
) -> None:
    """Import the file at `path` with `run` and print the report on `command`'s streams.

    Notes go to stdout; each error goes to stderr, then CommandError (a non-zero exit) says that
    nothing was written; otherwise the one-line summary. An unreadable path is a CommandError.
    """
    try:
        with path.open("rb") as file:
            report = run(file)
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
        ) from exc
    for note in report.notes:
        command.stdout.write(_("Note: %(note)s") % {"note": note})
    if not report.ok:
        for error in report.errors:
            command.stderr.write(describe_error(error))
        raise CommandError(
            ngettext(
                "%(count)d problem found in %(path)s; nothing was written.",
                "%(count)d problems found in %(path)s; nothing was written.",
                len(report.errors),
            )
            % {"count": len(report.errors), "path": path}
        )
    command.stdout.write(command.style.SUCCESS(summary(report)))
