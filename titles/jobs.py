"""The titles' background jobs, registered when the app starts (`TitlesConfig.ready`).

The report workbook and roll-up CSV, and the mass actions a confirmation starts: evaluate now,
approve what passed, issue a decision; and the registrations import (its check and the import
of the checked file). An action's job runs its service in one transaction, so
a failure (or a worker killed half-way) leaves nothing written; the services check everything
again, the signed-off year included, and the workflow stays the only writer of a
registration's state. Its outcome is what the action used to say on the list: the counts, and
for a decision a link to it; `back` (checked by the view) leads to the list it came from.
"""

from __future__ import annotations

import datetime
import re

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jobs.kinds import JobContext, JobRefused, Outcome, Output, ResultView, register
from registry import selectors as registry_selectors
from registry import uploads
from registry.access import can_review
from registry.models import AdministrativeUnit, Kind
from titles import certificates as certificate_sheets
from titles import reports, selectors, workflow
from titles.models import State
from titles.services import imports, review
from titles.services.evaluate import registrations_evaluate

REPORT = "titles.report"
EVALUATE = "titles.evaluate"
APPROVE_PASSED = "titles.approve_passed"
DECISION = "titles.decision"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SAFE_NAME = re.compile(r"[^0-9A-Za-z_-]")


def report_filename(*, unit_code: str, year: int, file_format: str, level: str) -> str:
    stem = f"bao-cao-hoc-tap-{_SAFE_NAME.sub('', unit_code)}-{year}"
    return f"{stem}-{level}.csv" if file_format == "csv" else f"{stem}.xlsx"


@register(REPORT)
def report(*, job: JobContext, unit_code: str, year: int, file_format: str, level: str) -> Outcome:
    """The report workbook or roll-up CSV of a unit and year, scoped to the job's owner."""
    unit = reports.report_unit(user=job.user, unit_code=unit_code)
    filename = report_filename(unit_code=unit.code, year=year, file_format=file_format, level=level)
    if file_format == "csv":
        content = reports.report_csv(
            user=job.user, unit_code=unit.code, year=year, level=level, progress=job.progress
        ).encode("utf-8")
        content_type = "text/csv; charset=utf-8"
    else:
        content = reports.report_workbook(
            user=job.user, unit_code=unit.code, year=year, progress=job.progress
        )
        content_type = XLSX_TYPE
    title = _("Report of %(unit)s, %(year)s") % {"unit": unit.name, "year": year}
    return Outcome(
        output=Output(filename=filename, content_type=content_type, content=content),
        summary={"title": title},
    )


# --- the mass actions ---------------------------------------------------------------------------


def _ward(job: JobContext, ward_code: str) -> AdministrativeUnit:
    """The ward the action works on, if its owner may still review it."""
    if not can_review(job.user):
        raise JobRefused(_("You may no longer review registrations."))
    try:
        return registry_selectors.ward_get(user=job.user, code=ward_code)
    except Http404:
        raise JobRefused(_("This commune/ward is no longer in your scope.")) from None


def _title(heading: str, ward: AdministrativeUnit, year: int) -> str:
    return f"{heading} — {ward.name} ({ward.code}) · {year}"


@register(EVALUATE)
def evaluate(*, job: JobContext, ward: str, year: int, back: str = "") -> Outcome:
    """ "Evaluate now" for one ward and year: every registration ready for it, at once."""
    unit = _ward(job, ward)
    try:
        with transaction.atomic():
            workflow.check_not_frozen(ward_id=unit.pk, year=year)
            run = registrations_evaluate(year=year, ward=unit, user=job.user, progress=job.progress)
    except review.ReviewError as exc:
        raise JobRefused(str(exc)) from exc
    evaluated = len(run.rows)
    passed = sum(1 for row in run.rows if row.passed)
    notes = [
        ngettext(
            "Evaluated %(count)s registration: %(passed)s passed.",
            "Evaluated %(count)s registrations: %(passed)s passed.",
            evaluated,
        )
        % {"count": evaluated, "passed": passed}
    ]
    if run.not_submitted:
        notes.append(
            ngettext(
                "%(count)s registration is not yet submitted (no evidence) and stays registered.",
                "%(count)s registrations are not yet submitted (no evidence) and stay registered.",
                run.not_submitted,
            )
            % {"count": run.not_submitted}
        )
    for kind, count in run.no_criteria.items():
        notes.append(
            ngettext(
                "%(count)s registration for %(title)s was not evaluated: no criteria set is "
                "in force for %(year)s.",
                "%(count)s registrations for %(title)s were not evaluated: no criteria set is "
                "in force for %(year)s.",
                count,
            )
            % {"count": count, "title": Kind(kind).label, "year": year}
        )
    if run.changed_meanwhile:
        notes.append(
            ngettext(
                "%(count)s registration changed while it was being evaluated and was left as "
                "it was; evaluate again.",
                "%(count)s registrations changed while they were being evaluated and were left "
                "as they were; evaluate again.",
                run.changed_meanwhile,
            )
            % {"count": run.changed_meanwhile}
        )
    return Outcome(
        summary={
            "title": _title(_("Evaluate now"), unit, year),
            "evaluated": evaluated,
            "passed": passed,
        },
        notes=notes,
    )


def approvable_ids(
    *, user, ward: AdministrativeUnit, year: int, kind: str | None, area: int | None, q: str
) -> list[int] | None:
    """The ids "approve all that passed" approves when the queue is narrowed by residential
    area or search (what the queue shows), or None when the ward, year and title say it all."""
    if not area and not q:
        return None
    return list(
        selectors.registration_list(
            user=user, year=year, kind=kind, ward_id=ward.pk, community_id=area, q=q
        )
        .filter(review.APPROVABLE)
        .values_list("pk", flat=True)
    )


@register(APPROVE_PASSED)
def approve_passed(
    *,
    job: JobContext,
    ward: str,
    year: int,
    kind: str = "",
    area: int | None = None,
    q: str = "",
    ids: list[int] | None = None,
    back: str = "",
) -> Outcome:
    """ "Approve what passed": the ticked registrations (`ids`), or all that passed under the
    queue's filters."""
    unit = _ward(job, ward)
    try:
        with transaction.atomic():
            workflow.check_not_frozen(ward_id=unit.pk, year=year)
            if ids is None:
                ids = approvable_ids(
                    user=job.user, ward=unit, year=year, kind=kind or None, area=area, q=q
                )
            else:
                kind = ""
            approved, skipped = review.registrations_approve_passed(
                user=job.user,
                ward=unit,
                year=year,
                kind=kind or None,
                ids=ids,
                progress=job.progress,
            )
    except review.ReviewError as exc:
        raise JobRefused(str(exc)) from exc
    if approved:
        notes = [
            ngettext(
                "Approved %(count)s registration.", "Approved %(count)s registrations.", approved
            )
            % {"count": approved}
        ]
    else:
        notes = [_("Nothing was approved: no evaluated registration passed.")]
    if skipped:
        notes.append(
            ngettext(
                "%(count)s registration was changed by someone else meanwhile and was left "
                "as it was.",
                "%(count)s registrations were changed by someone else meanwhile and were left "
                "as they were.",
                skipped,
            )
            % {"count": skipped}
        )
    return Outcome(
        summary={
            "title": _title(_("Approve what passed"), unit, year),
            "approved": approved,
            "skipped": skipped,
        },
        notes=notes,
    )


@register(DECISION)
def decision(
    *,
    job: JobContext,
    ward: str,
    year: int,
    number: str,
    date: str,
    registrations: list[int] | None = None,
    kind: str = "",
    expected: str = "",
    leave_out: list[int] | None = None,
    back: str = "",
) -> Outcome:
    """Issue a recognition decision for the chosen approved registrations (`registrations`),
    or for all that are approved under the title (`kind`) but those left out (`leave_out`),
    `expected` being what the user was shown of them (`selectors.approved_fingerprint`): all
    or none."""
    unit = _ward(job, ward)
    if registrations is None:
        approved = selectors.registration_list(
            user=job.user, year=year, kind=kind or None, state=State.APPROVED, ward_id=unit.pk
        )
        left_out = set(leave_out or ())
        shown = selectors.approved_fingerprint(selectors.approved_by_title(approved))
        rows = list(approved)
        chosen = [r for r in rows if r.pk not in left_out]
        if shown != expected or len(rows) - len(chosen) != len(left_out):
            raise JobRefused(
                _(
                    "The approved registrations changed since the decision was reviewed; "
                    "nothing was issued. Review it again."
                )
            )
    else:
        chosen = list(
            selectors.registration_list(
                user=job.user, year=year, state=State.APPROVED, ward_id=unit.pk
            ).filter(pk__in=registrations)
        )
        if len(chosen) != len(set(registrations)):
            raise JobRefused(
                _(
                    "Some of the chosen registrations are no longer approved; nothing was "
                    "issued. Choose them again."
                )
            )
    try:
        with transaction.atomic():
            issued = review.decision_issue(
                user=job.user,
                ward=unit,
                year=year,
                number=number,
                date=datetime.date.fromisoformat(date),
                registrations=chosen,
                progress=job.progress,
            )
    except review.ReviewError as exc:
        raise JobRefused(str(exc)) from exc
    count = len(chosen)
    return Outcome(
        summary={
            "title": _title(_("Issue decision %(number)s") % {"number": issued.number}, unit, year),
            "recognised": count,
            "links": [
                {
                    "url": reverse("decision_detail", args=[issued.pk]),
                    "label": _("Open decision %(number)s") % {"number": issued.number},
                }
            ],
        },
        notes=[
            ngettext(
                "Decision %(number)s issued: %(count)s registration recognised.",
                "Decision %(number)s issued: %(count)s registrations recognised.",
                count,
            )
            % {"number": issued.number, "count": count}
        ],
    )


# --- the registrations import -------------------------------------------------------------------

REGISTRATIONS_IMPORT = "titles.registrations_import"


def _registrations_subject(year: int) -> str:
    return _("Registrations for %(year)s") % {"year": year}


@register(
    REGISTRATIONS_IMPORT,
    result=ResultView(template="registry/_import_job.html", context=uploads.import_result_context),
)
def registrations_import(*, job: JobContext, year: int, dry_run: bool, title: str = "") -> Outcome:
    """Check (`dry_run`) or import the job's file of a year's registrations (the upload page's
    file, stored with the job): all-or-nothing, as `manage.py import_registrations`."""
    return uploads.import_job(
        job,
        dry_run=dry_run,
        subject=_registrations_subject(year),
        page_url=reverse("registrations_import"),
        done_url=f"{reverse('registration_list')}?{urlencode({'year': year})}",
        run=lambda **kwargs: imports.registrations_import(year=year, **kwargs),
    )


# --- printing -----------------------------------------------------------------------------------

CERTIFICATES = "titles.certificates"


@register(CERTIFICATES)
def certificates(*, job: JobContext, decision: int) -> Outcome:
    """Every certificate of a decision in one printable HTML file (`titles.certificates`),
    for a decision too large for one page; the owner must still see the decision."""
    try:
        issued = selectors.decision_get(user=job.user, pk=decision)
    except Http404:
        raise JobRefused(_("This decision is no longer in your scope.")) from None
    content, count = certificate_sheets.certificates_file(decision=issued, progress=job.progress)
    return Outcome(
        output=Output(
            filename=certificate_sheets.file_name(issued),
            content_type="text/html; charset=utf-8",
            content=content,
        ),
        summary={
            "title": _("Certificates of decision %(number)s") % {"number": issued.number},
            "links": [
                {
                    "url": reverse("decision_detail", args=[issued.pk]),
                    "label": _("Open decision %(number)s") % {"number": issued.number},
                }
            ],
        },
        notes=[
            ngettext(
                "The file holds %(count)s certificate on an A4 landscape sheet: open it in a "
                "browser and print it.",
                "The file holds %(count)s certificates, one A4 landscape sheet each: open it in "
                "a browser and print it.",
                count,
            )
            % {"count": count}
        ],
    )
