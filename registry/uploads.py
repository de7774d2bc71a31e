"""The two steps of an upload page, shared by the registry's and the registrations' import.

Upload → dry run and report → confirm → the real import, all-or-nothing. Between the two requests
the checked file waits in the session (never on disk), named by a random token that the confirm
form carries back; a file too large for the session (base64 grows it by a third) is asked for
again with the confirmation instead, which is as safe: an import is all-or-nothing and checks
the file again when it runs.

Each page also offers its kinds' template workbooks (`template_download`).

The page's forms post `step`: "check" for a new file, CONFIRM for the file waiting in the
session, or IMPORT for a large checked file chosen again.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from registry.forms import ImportConfirmForm, SpreadsheetUploadForm
from registry.imports.pipeline import ImportKind, only_ward
from registry.imports.report import ImportReport
from registry.imports.templates import template_workbook
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
