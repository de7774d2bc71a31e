"""Ward sign-off pages: one ward's year (figures, what is still undecided, sign-off and its
history) and the province's overview of which wards have signed off.

Everyone whose scope covers the ward may read its page (others get 404). Signing off is for the
ward's officials and admins; reopening for an admin of the ward's province (or a global admin);
any other role posting gets 403. The services check the same again and refuse what the state
does not allow (already signed off, nothing to reopen) with a message.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from registry import selectors as registry_selectors
from registry.access import grant_of, ward_units
from registry.models import AdministrativeUnit, Kind, RollupLevel
from titles import selectors, selectors_signoff
from titles.models import WardSignOff
from titles.review_forms import REASON_MAX, YEAR_MAX, YEAR_MIN, current_year
from titles.services.review import ReviewError
from titles.services.signoff import can_reopen, can_sign_off, ward_reopen, ward_sign_off
from titles.views import confirming

STATUS_LABELS = {
    "below": gettext_lazy("below target"),
    "on_track": gettext_lazy("on track"),
    "above": gettext_lazy("above target"),
    "no_target": gettext_lazy("no target"),
}


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for reopening"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": REASON_MAX}),
        help_text=gettext_lazy("Kept in the ward's sign-off history."),
        error_messages={"required": gettext_lazy("Write why the figures are reopened.")},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Write why the figures are reopened."))
        return reason


def _check_year(year: int) -> None:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise Http404


def _page(ward: AdministrativeUnit, year: int) -> str:
    return reverse("ward_signoff", kwargs={"ward_code": ward.code, "year": year})


def _back(ward: AdministrativeUnit, year: int) -> HttpResponse:
    return redirect(_page(ward, year))


@login_required
@require_http_methods(["GET", "POST"])
def ward_signoff(request: HttpRequest, ward_code: str, year: int) -> HttpResponse:
    """A ward's year: its figures, what is still undecided, the sign-off and its history.

    POST `action=sign_off` with `confirmed=1` (without it, the answer is the sign-off's
    confirmation, as `ward_signoff_confirm` shows it), or `action=reopen` with a `reason`.
    """
    _check_year(year)
    user = request.user
    ward = registry_selectors.ward_get(user=user, code=ward_code)
    may_sign_off, may_reopen = can_sign_off(user, ward), can_reopen(user, ward)
    reopen_form = ReopenForm(auto_id="reopen_%s")
    if request.method == "POST":
        if not (may_sign_off or may_reopen):
            raise PermissionDenied
        action = request.POST.get("action")
        if action == WardSignOff.Action.SIGN_OFF and may_sign_off:
            if not confirming.is_confirmed(request):
                return _signoff_confirmation(request, ward, year)
            try:
                ward_sign_off(user=user, ward=ward, year=year)
            except ReviewError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    _("The figures of %(ward)s for %(year)s are signed off.")
                    % {"ward": ward.name, "year": year},
                )
            return redirect(confirming.next_url(request, _page(ward, year)))
        if action == WardSignOff.Action.REOPEN and may_reopen:
            reopen_form = ReopenForm(request.POST, auto_id="reopen_%s")
            if reopen_form.is_valid():
                try:
                    ward_reopen(
                        user=user, ward=ward, year=year, reason=reopen_form.cleaned_data["reason"]
                    )
                except ReviewError as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(
                        request,
                        _("The figures of %(ward)s for %(year)s are reopened.")
                        % {"ward": ward.name, "year": year},
                    )
                return _back(ward, year)
        elif action in WardSignOff.Action.values:
            raise PermissionDenied
        else:
            messages.error(request, _("The form was incomplete; nothing was saved."))
            return _back(ward, year)
    history = list(selectors_signoff.signoff_history(ward=ward, year=year))
    frozen = bool(history) and history[-1].action == WardSignOff.Action.SIGN_OFF
    undecided = [
        {**row, "label": Kind(row["kind"]).label}
        for row in selectors_signoff.undecided_counts(ward=ward, year=year)
    ]
    return render(
        request,
        "titles/signoff/ward.html",
        {
            "ward": ward,
            "year": year,
            "rows": [
                {
                    **row,
                    "label": Kind(row["kind"]).label,
                    "status_label": STATUS_LABELS[row["status"]],
                }
                for row in selectors.rollup_rows(
                    user=user, year=year, level=RollupLevel.WARD, unit_code=ward.code
                )
            ],
            "undecided": undecided,
            "undecided_total": sum(row["unreviewed"] + row["approved"] for row in undecided),
            "history": history,
            "frozen": frozen,
            "last": history[-1] if history else None,
            "can_sign_off": may_sign_off and not frozen,
            "can_reopen": may_reopen and frozen,
            "reopen_form": reopen_form,
            "years": (year - 1, year + 1),
        },
    )


@login_required
@require_GET
def ward_signoff_confirm(request: HttpRequest, ward_code: str, year: int) -> HttpResponse:
    """What signing off the ward's year will freeze, before the official confirms it."""
    _check_year(year)
    user = request.user
    ward = registry_selectors.ward_get(user=user, code=ward_code)
    if not can_sign_off(user, ward):
        raise PermissionDenied
    return _signoff_confirmation(request, ward, year)


def _signoff_confirmation(request: HttpRequest, ward: AdministrativeUnit, year: int):
    """The figures the sign-off freezes and what is still undecided; in a year already signed
    off, who did it and when, and no button."""
    back = confirming.next_url(request, _page(ward, year))
    heading = _("Sign off the figures of %(year)s") % {"year": year}
    subtitle = f"{ward.name} ({ward.code}) · {year}"
    signoff = selectors_signoff.ward_year_signoff(ward_id=ward.pk, year=year)
    if signoff is not None:
        return confirming.refuse_frozen(
            request, heading=heading, subtitle=subtitle, signoff=signoff, back=back
        )
    undecided = selectors_signoff.undecided_counts(ward=ward, year=year)
    undecided_total = sum(row["unreviewed"] + row["approved"] for row in undecided)
    figures = selectors.rollup_rows(
        user=request.user, year=year, level=RollupLevel.WARD, unit_code=ward.code
    )
    notes = []
    if undecided_total:
        notes.append(
            ngettext(
                "%(count)s registration is not decided yet. Once the figures are signed off it "
                "cannot be approved, rejected or recognised until a province administrator "
                "reopens them.",
                "%(count)s registrations are not decided yet. Once the figures are signed off "
                "they cannot be approved, rejected or recognised until a province "
                "administrator reopens them.",
                undecided_total,
            )
            % {"count": undecided_total}
        )
    undecided_of = {row["kind"]: row["unreviewed"] + row["approved"] for row in undecided}
    figures_of = {row["kind"]: row for row in figures}
    rows = [
        {
            "kind": kind,
            "registered": figures_of[kind]["registered"] if kind in figures_of else 0,
            "recognized": figures_of[kind]["recognized"] if kind in figures_of else 0,
            "undecided": undecided_of.get(kind, 0),
        }
        for kind in figures_of.keys() | undecided_of.keys()
    ]
    return confirming.confirm(
        request,
        confirming.Confirmation(
            heading=heading,
            subtitle=subtitle,
            lead=_(
                "The figures of %(ward)s for %(year)s will be frozen as they are now: no "
                "registration or decision of this commune/ward and year can change until a "
                "province administrator reopens them."
            )
            % {"ward": ward.name, "year": year},
            counts=confirming.Counts(
                columns=[_("Registered"), _("Recognised"), _("Not decided yet")],
                rows=confirming.by_kind(rows, "registered", "recognized", "undecided"),
            ),
            notes=notes,
            action=_page(ward, year),
            fields=[("action", WardSignOff.Action.SIGN_OFF)],
            button=_("Sign off"),
            cancel=back,
        ),
    )


def _year_param(request: HttpRequest) -> int:
    value = request.GET.get("year", "")
    if value.isascii() and value.isdigit() and YEAR_MIN <= int(value) <= YEAR_MAX:
        return int(value)
    return current_year()


@login_required
@require_GET
def signoff_overview(request: HttpRequest) -> HttpResponse:
    """The wards of a province with, for the year, whether each has signed off, who and when.

    A ward user is sent to their own ward's page; a global admin first picks a province.
    """
    user = request.user
    grant = grant_of(user)
    if grant is None:
        raise Http404
    year = _year_param(request)
    if grant.unit is not None and grant.unit.level == AdministrativeUnit.Level.WARD:
        return redirect("ward_signoff", ward_code=grant.unit.code, year=year)
    provinces = AdministrativeUnit.objects.filter(
        level=AdministrativeUnit.Level.PROVINCE, valid_to__isnull=True
    ).order_by("code")
    if grant.unit is not None:
        province = grant.unit
    else:
        code = request.GET.get("province", "").strip()
        province = provinces.filter(code=code).first() if code else None
        if province is None:
            return render(
                request,
                "titles/signoff/province_pick.html",
                {"provinces": provinces, "year": year},
            )
    wards = list(ward_units(user).filter(parent=province, valid_to__isnull=True).order_by("code"))
    signed = selectors_signoff.signed_off_wards(province_id=province.pk, year=year)
    rows = [{"ward": ward, "signoff": signed.get(ward.pk)} for ward in wards]
    return render(
        request,
        "titles/signoff/overview.html",
        {
            "province": province,
            "year": year,
            "rows": rows,
            "signed_count": sum(1 for row in rows if row["signoff"]),
            "pick_province": grant.unit is None,
            "years": (year - 1, year + 1),
        },
    )


urlpatterns = [
    path("signoff/", signoff_overview, name="signoff_overview"),
    path("signoff/<str:ward_code>/<int:year>/", ward_signoff, name="ward_signoff"),
    path(
        "signoff/<str:ward_code>/<int:year>/sign-off/",
        ward_signoff_confirm,
        name="ward_signoff_confirm",
    ),
]
