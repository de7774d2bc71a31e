from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit import selectors
from audit.forms import AuditFilterForm
from audit.services import OPERATIONS

PAGE_SIZE = 50


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log for administrators: a global one's all of it, a province's their province.

    Any other user gets 403, like the other administrator-only pages.
    """
    if not selectors.can_read_audit(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET)
    rows = selectors.audit_entries(user=request.user, **form.filters())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        operation = entry.detail.get("operation") if entry.action == entry.Action.BULK else None
        entry.operation_label = OPERATIONS.get(operation, operation) if operation else ""
        entry.summary = {key: value for key, value in entry.detail.items() if key != "operation"}
    return render(request, "audit/log.html", {"form": form, "page": page})
