"""Self-assessment slips: the sheet of a residential area's slips (staff), and the public page
where a household types the short code printed on its slip.

A slip carries the link as an address and a QR code, and a short code for those who would rather
type. Links and codes are shown once, when they are issued: the sheet is the answer to the POST
that issues them, and printing it again means issuing new ones.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.client_ip import client_ip
from registry import selectors as registry_selectors
from registry.access import require_register
from registry.models import Community
from titles.forms import SelfCodeForm, SlipSheetForm, current_year
from titles.models import Registration
from titles.services import registrations as registering
from titles.views.staff import self_assessment_page, slip_of
from titles.workflow import WorkflowError

# Wrong codes one address may try in SELF_CODE_WINDOW seconds before the page stops looking
# codes up for it (the reasoning is in `registering.registration_from_code`).
SELF_CODE_TRIES = 10
SELF_CODE_WINDOW = 3600


# --- the slip sheet (staff) -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def area_slips(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what printing the area's slips for a year will do; POST: issue the links and show
    the sheet, several slips to an A4 page."""
    community: Community = registry_selectors.entity_get(
        user=request.user, kind="communities", pk=pk
    )
    require_register(request.user)
    form = SlipSheetForm(
        request.POST if request.method == "POST" else request.GET or None,
        initial={"year": current_year()},
    )
    year = form.cleaned_data["year"] if form.is_valid() else current_year()
    if request.method == "POST" and form.is_valid():
        try:
            issued = registering.self_assessment_links_issue_area(
                community=community,
                year=year,
                user=request.user,
                replace_live=form.cleaned_data["replace_live"],
            )
        except WorkflowError as exc:
            messages.error(request, str(exc))
            return redirect(f"{reverse('area_slips', args=[pk])}?year={year}")
        return render(
            request,
            "titles/staff/slip_sheet.html",
            {
                "community": community,
                "year": year,
                "slips": [slip_of(request, link) for link in issued],
            },
        )
    return render(
        request,
        "titles/staff/slip_sheet_confirm.html",
        {
            "community": community,
            "year": year,
            "form": form,
            "plan": registering.area_slips(community=community, year=year),
        },
    )


# --- the short code (public) ------------------------------------------------------------------


def _tries_key(request: HttpRequest) -> str:
    return f"titles:self-code-tries:{client_ip(request) or 'unknown'}"


def _too_many_tries(request: HttpRequest) -> bool:
    return cache.get(_tries_key(request), 0) >= SELF_CODE_TRIES


def _count_wrong_try(request: HttpRequest) -> None:
    key = _tries_key(request)
    if not cache.add(key, 1, SELF_CODE_WINDOW):
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, SELF_CODE_WINDOW)


def _look_up(request: HttpRequest, code: str) -> tuple[Registration | None, str, int]:
    """(registration, "", 200) for a working code; else (None, the message for the household,
    404 for a wrong or ended code, 429 when this address has guessed too often)."""
    if _too_many_tries(request):
        message = _(
            "Too many wrong codes were typed from this device. Please wait an hour, or scan the "
            "QR code on the slip instead."
        )
        return None, message, 429
    try:
        return registering.registration_from_code(code), "", 200
    except registering.SelfCodeMalformed as exc:  # not a guess: nothing to count
        return None, str(exc), 404
    except registering.SelfCodeUnknown as exc:
        _count_wrong_try(request)
        return None, str(exc), 404
    except registering.SelfCodeEnded as exc:
        ask = _("Please ask your education-promotion association for a new slip.")
        return None, f"{exc} {ask}", 404


@require_http_methods(["GET", "POST"])
def self_code(request: HttpRequest) -> HttpResponse:
    """PUBLIC: the household types the code printed on its slip and is taken to its form."""
    form = SelfCodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        registration, problem, status = _look_up(request, form.cleaned_data["code"])
        if registration is not None:
            code = registering.self_code_normalize(form.cleaned_data["code"])
            return redirect("self_code_form", code=code)
        form.add_error("code", problem)
    return render(request, "titles/staff/self_code.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def self_code_form(request: HttpRequest, code: str) -> HttpResponse:
    """PUBLIC: the household's form, opened by the short code (as its link would open it)."""
    registration, problem, status = _look_up(request, code)
    if registration is None:
        form = SelfCodeForm(initial={"code": code})
        return render(
            request,
            "titles/staff/self_code.html",
            {"form": form, "problem": problem},
            status=status,
        )
    return self_assessment_page(
        request, registration, form_url=reverse("self_code_form", args=[code])
    )


urlpatterns = [
    path("registrations/areas/<int:pk>/slips/", area_slips, name="area_slips"),
    path("s/", self_code, name="self_code"),
    path("s/<str:code>/", self_code_form, name="self_code_form"),
]
