"""The two steps of an upload page, shared by the registry's and the registrations' import.

Upload → dry run and report → confirm → the real import, all-or-nothing.

The registry's and the registrations' pages run both steps as background jobs (`start_check`,
`start_confirmed`, `import_job`): the request only checks the upload cheaply (the form's size
and type), stores the file with the job and answers with the job's page, whose bar
follows the rows; the dry run's page shows the report (`import_result_context`) and, when the
file is clean, offers the import of the same stored file.

A page that runs the import in the request (the programmes') keeps the checked file between
the two requests in the session (never on disk), named by a random token that the confirm form
carries back; a file too large for the session (base64 grows it by a third) is asked for again
with the confirmation instead, which is as safe: an import is all-or-nothing and checks the
file again when it runs.

Each page also offers its kinds' template workbooks (`template_download`).

The page's forms post `step`: "check" for a new file; CONFIRM for the checked file (the job
pages post the dry run's `job`, the session pages its token); or, on a session page, IMPORT for
a large checked file chosen again.
"""

from __future__ import annotations

import base64
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from jobs import selectors as job_selectors
from jobs import services as jobs
from jobs.kinds import InputFile, JobContext, JobRefused, Outcome
from jobs.models import Job
from registry.forms import ImportConfirmForm, SpreadsheetUploadForm
from registry.imports.pipeline import ImportKind, only_ward, rows_progress
from registry.imports.report import ImportReport, report_as_json, report_from_json
from registry.imports.templates import template_workbook
from registry.spreadsheets import too_many_rows
from registry.text import fold

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CONFIRM, IMPORT = "confirm", "import"
# A checked file waits in the session for its confirmation only up to this size.
SESSION_MAX_BYTES = 5 * 1024 * 1024
_OWN_KEYS = ("token", "filename", "data")


@dataclass(frozen=True)
class Upload:
    """A file to check or import, with what the page's form said about it."""

    data: bytes
    filename: str
    # The form's other fields (the registry's kind, the registrations' year), kept in the
    # session beside the file's own keys.
    params: dict[str, Any]


def posted_step(request: HttpRequest) -> str | None:
    """The step a POST asks for (see the module docstring); None for a GET."""
    return request.POST.get("step") if request.method == "POST" else None


def upload_of(form: SpreadsheetUploadForm) -> Upload:
    """The file a valid upload form brings."""
    file = form.cleaned_data["file"]
    params = {name: value for name, value in form.cleaned_data.items() if name != "file"}
    return Upload(data=file.read(), filename=file.name, params=params)


def offer_confirmation(
    request: HttpRequest,
    upload: Upload,
    *,
    report: ImportReport,
    session_key: str,
    max_bytes: int,
    reupload_form: forms.Form,
) -> dict[str, Any]:
    """The page's `confirm_form` and `reupload_form` after `report`, at most one of them set.

    After a clean dry run, a file up to `max_bytes` waits in the session under `session_key`
    and the confirm form names it by its token, and a larger one is asked for again with
    `reupload_form`; a file with errors, or a real import, gets neither.
    """
    offered = report.ok and report.dry_run
    confirm_form = None
    if offered and len(upload.data) <= max_bytes:
        token = secrets.token_urlsafe(16)
        request.session[session_key] = {
            "token": token,
            **upload.params,
            "filename": upload.filename,
            "data": base64.b64encode(upload.data).decode("ascii"),
        }
        confirm_form = ImportConfirmForm(initial={"token": token})
    return {
        "confirm_form": confirm_form,
        "reupload_form": reupload_form if offered and confirm_form is None else None,
    }


def take_confirmed(request: HttpRequest, *, session_key: str) -> Upload | None:
    """The file the posted confirmation names, removed from the session so it imports once.

    None, with an error message for the user, when no file waits under that token (a replayed
    or forged confirmation, or a session that has expired since the check).
    """
    form = ImportConfirmForm(request.POST)
    pending = request.session.get(session_key)
    if not (form.is_valid() and pending and pending["token"] == form.cleaned_data["token"]):
        messages.error(
            request, _("That file is no longer waiting for confirmation; please choose it again.")
        )
        return None
    del request.session[session_key]
    return Upload(
        data=base64.b64decode(pending["data"]),
        filename=pending["filename"],
        params={key: value for key, value in pending.items() if key not in _OWN_KEYS},
    )


# --- as background jobs ------------------------------------------------------------------------


def start_check(request: HttpRequest, upload: Upload, *, job_kind: str) -> Job:
    """The dry run of an uploaded file as a job of `job_kind`, the file stored with it; its
    arguments are the form's other fields (`upload.params`) and `dry_run`."""
    return jobs.start(
        kind=job_kind,
        user=request.user,
        args={
            **upload.params,
            "dry_run": True,
            "title": _("Checking %(file)s") % {"file": upload.filename},
        },
        input=InputFile(filename=upload.filename, content=upload.data),
    )


def start_confirmed(request: HttpRequest, *, job_kind: str) -> Job | None:
    """The real import of the file the posted `job` (a clean dry run of the user's) checked, as
    a new job that takes over the stored file, so that it is imported once.

    None, with an error message for the user, when there is no such dry run or its file is no
    longer kept (imported already, or expired).
    """
    checked = job_selectors.done_job_of(
        user=request.user, kind=job_kind, pk=request.POST.get("job", "")
    )
    report = _report_of(checked) if checked is not None else None
    if report is not None and report.ok and report.dry_run:
        filename = checked.result["summary"]["filename"]
        try:
            return jobs.start(
                kind=job_kind,
                user=request.user,
                args={
                    **checked.args,
                    "dry_run": False,
                    "title": _("Importing %(file)s") % {"file": filename},
                },
                scope_id=checked.scope_id,
                input_of=checked.pk,
            )
        except jobs.InputGone:
            pass
    messages.error(
        request, _("That file is no longer waiting for confirmation; please choose it again.")
    )
    return None


def import_job(
    job: JobContext,
    *,
    dry_run: bool,
    subject: str,
    page_url: str,
    done_url: str,
    run: Callable[..., ImportReport],
) -> Outcome:
    """A job's check or import of its stored file with `run` (a kind's import function, called
    with the file, its name, `dry_run`, the job's owner and the progress in rows): its report,
    for `import_result_context`. A clean dry run keeps the file for the import that follows.

    A file of more than IMPORT_MAX_ROWS rows is refused here, before anything is read into
    rows (the job fails with the reason and its file is dropped): the request that started the
    job checked only what needs no reading of every row.
    """
    stored = jobs.input_read(job)
    refusal = too_many_rows(data=stored.content, filename=stored.filename)
    if refusal:
        raise JobRefused(refusal)
    try:
        report = run(
            file=io.BytesIO(stored.content),
            filename=stored.filename,
            dry_run=dry_run,
            user=job.user,
            progress=rows_progress(job.progress),
        )
    except PermissionDenied:
        raise JobRefused(_("You may no longer import this kind of file.")) from None
    links = []
    if report.ok and not dry_run:
        links.append({"url": done_url, "label": _("Open the list")})
    return Outcome(
        summary={
            "report": report_as_json(report),
            "filename": stored.filename,
            "subject": str(subject),
            "page_url": page_url,
            "links": links,
        },
        keep_input=report.ok and dry_run,
    )


def _report_of(job: Job) -> ImportReport | None:
    data = job.result.get("summary", {}).get("report")
    return report_from_json(data) if isinstance(data, dict) else None


def import_result_context(request: HttpRequest, job: Job) -> dict[str, Any]:
    """What the job page adds to show an import job's report (registry/_import_job.html)."""
    summary = job.result.get("summary", {})
    report = _report_of(job)
    waiting = bool(report and report.ok and report.dry_run)
    kept = waiting and jobs.input_kept(job_id=job.pk)
    return {
        "report": report,
        "filename": summary.get("filename", ""),
        "subject": summary.get("subject", ""),
        "cancel_url": summary.get("page_url", ""),
        "confirm_url": summary.get("page_url", "") if kept else "",
        "file_gone": waiting and not kept,
    }


def message_imported(request: HttpRequest, report: ImportReport) -> None:
    """Tell the user what a successful import wrote, on the page they are sent to."""
    messages.success(
        request,
        _("Imported: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.")
        % {"created": report.created, "updated": report.updated, "unchanged": report.unchanged},
    )


def template_download(request: HttpRequest, kind: ImportKind, *, title: str) -> HttpResponse:
    """The kind's template workbook as a download named after `title` ("Hộ gia đình" ->
    mau-ho-gia-dinh.xlsx); a user of one commune/ward gets its code in the example row."""
    data = template_workbook(kind, ward=only_ward(request.user))
    response = HttpResponse(data, content_type=XLSX)
    name = slugify(fold(title)) or kind.name
    response["Content-Disposition"] = f'attachment; filename="mau-{name}.xlsx"'
    return response
