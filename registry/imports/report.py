"""What an import found and did, and how it is told: the same for every kind of file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


@dataclass
class RowError:
    row: int  # spreadsheet row number (as the file numbers it; 0 for a problem with the whole file)
    column: str  # the contract column, or an extra column's header as written ("" for the file)
    reason: str  # human message, already translated into the active language
    # The column's header as the file wrote it ("Tổ dân phố" for `community`); "" when the file
    # has no such column (a missing column, a file problem). Set when the errors are sorted.
    header: str = ""

    @property
    def shown(self) -> str:
        """The column as the report names it: the file's own header, else the contract name."""
        return self.header or self.column


@dataclass
class ImportReport:
    """What an import found and did; counts stay 0 unless the file is free of errors.

    On a dry run the counts say what a real run would create, update and leave unchanged.
    """

    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The one commune/ward the file is for (ward staff, or the command's --ward), else "".
    ward: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run and bool(self.created or self.updated)


def report_as_json(report: ImportReport) -> dict[str, Any]:
    """The report as JSON values, kept with a background job's outcome (`report_from_json`)."""
    return asdict(report)


def report_from_json(data: dict[str, Any]) -> ImportReport:
    return ImportReport(
        **{**data, "errors": [RowError(**error) for error in data.get("errors", [])]}
    )


def summary(report: ImportReport) -> str:
    """One line saying what the import did (or, on a dry run, would do)."""
    counts = {
        "rows": ngettext("%(n)d row", "%(n)d rows", report.rows) % {"n": report.rows},
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    }
    if report.dry_run:
        return (
            _(
                "Dry run, nothing written. %(rows)s: %(created)d would be created, "
                "%(updated)d updated, %(unchanged)d unchanged."
            )
            % counts
        )
    return (
        _("%(rows)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % counts
    )


def describe_error(error: RowError) -> str:
    """An error as the command prints it: "row N, column C: reason" (a file problem: the reason).

    C is the header as the file wrote it (the contract name for a column the file lacks).
    """
    if error.row == 0:
        return error.reason
    return _("row %(row)d, column %(column)s: %(reason)s") % {
        "row": error.row,
        "column": error.shown,
        "reason": error.reason,
    }
