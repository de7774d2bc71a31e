"""What the import commands share: reading the file named on the command line and printing the
report, the same way for every import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from registry.imports.pipeline import rows_progress
from registry.imports.report import ImportReport, describe_error, summary

BAR_WIDTH = 30


def import_and_report(
    command: BaseCommand,
    *,
    path: Path,
    run: Callable[..., ImportReport],
    with_progress: bool = False,
) -> None:
    """Import the file at `path` with `run(file)` and print the report on `command`'s streams.

    With `with_progress` (an import through `registry.imports.pipeline`), `run(file, progress)`
    is given a progress callback: on a terminal, stderr shows a bar of the rows done of the
    file's (the same count as a web import's job page, `rows_progress`), erased when the import
    ends. Notes go to stdout; each error goes to stderr, then CommandError (a non-zero exit) says
    that nothing was written; otherwise the one-line summary. An unreadable path is a
    CommandError.
    """
    bar = _TerminalBar(command) if with_progress and command.stderr.isatty() else None
    try:
        with path.open("rb") as file:
            if with_progress:
                report = run(file, rows_progress(bar.show) if bar else None)
            else:
                report = run(file)
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
        ) from exc
    finally:
        if bar is not None:
            bar.erase()
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


class _TerminalBar:
    """ "[#######.......]  1,200 / 4,000 rows" on one line of stderr, redrawn in place."""

    def __init__(self, command: BaseCommand) -> None:
        self.stream = command.stderr
        self.drawn = 0

    def show(self, done: int, total: int | None) -> None:
        if not total:
            return
        filled = round(BAR_WIDTH * done / total)
        line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:,} / {total:,}"
        self.stream.write("\r" + line.ljust(self.drawn), ending="")
        self.stream.flush()
        self.drawn = len(line)

    def erase(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r", ending="")
            self.stream.flush()
