"""The staff side of the titles pages: the registrations list, registering, evidence entry,
self-assessment links and the public self-assessment form, and the registrations import.

Every view reads like the registry's: decorators → access (a selector that raises Http404
outside the user's scope, then `require_register`: 403 for read-only roles) → form → one
service call → redirect after POST with a message. Refusals from the services (window closed,
already registered, decided, someone else changed it first) are shown as form errors or
messages, never as a server error.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from registry import selectors as registry_selectors
from registry import uploads
from registry.access import can_register, require_register, scope_q
from registry.forms import WARD_SELECT_MAX, WardPickForm
from registry.models import AdministrativeUnit, Community, Entity, Kind
from registry.paging import keyset_page
from registry.views import entry_ward
from titles import selectors, workflow
from titles.forms import (
    EvidenceForm,
    RegisterAreaForm,
    RegistrationCreateForm,
    RegistrationFilterForm,
    RegistrationsImportForm,
    current_year,
    evidence_display,
    share_lines,
)
from titles.jobs import REGISTRATIONS_IMPORT
from titles.models import Registration
from titles.qr import qr_svg
from titles.rules.evaluation import CriteriaSet, CriterionType
from titles.selectors_signoff import ward_year_signoff
from titles.services import imports
from titles.services import registrations as registering
from titles.services.criteria import criteria_for, parsed
from titles.services.evaluate import shares_for
from titles.services.registrations import EVIDENCE_EDITABLE, EvidenceInvalid
from titles.services.review import ReviewError
from titles.services.review import registration_submit as review_submit
from titles.views import confirming

LIST_PAGE_SIZE = 50


def registration_url(pk: int) -> str:
    """The registration's own page (in the review pages), where every action leads back."""
    return reverse("registration_detail", args=[pk])


def _seen_version(request: HttpRequest, registration: Registration) -> None:
    """Act on the version the user saw, if the form says which: a stale one is refused."""
    seen = request.POST.get("version", "")
    if _is_number(seen):
        registration.version = int(seen)


def _year(request: HttpRequest) -> int:
    value = request.GET.get("year", "")
    return int(value) if _is_number(value) and 1900 <= int(value) <= 2100 else current_year()


def _is_number(value: str) -> bool:
    """Whether a request parameter is a plain positive number that int() reads and the database
    holds; "²" and "٣" are digits to str.isdigit() but not to int()."""
    return value.isascii() and value.isdigit() and len(value) <= 18


# --- list -------------------------------------------------------------------------------------


@login_required
@require_GET
def registration_list(request: HttpRequest) -> HttpResponse:
    """Registrations in the user's scope, by year (this year unless chosen) and filters."""
    user = request.user
    wards = list(registry_selectors.wards_for_filter(user=user)[: WARD_SELECT_MAX + 1])
    ward = _list_ward(request, wards)
    areas = (
        registry_selectors.ward_entity_choices(user=user, kind="communities", ward=ward)
        if ward is not None
        else None
    )
    params = request.GET.copy()
    params.setdefault("year", str(current_year()))
    form = RegistrationFilterForm(params, wards=wards, areas=areas)
    form.is_valid()  # invalid values are shown as errors and left out of the query
    data = form.cleaned_data
    year = data.get("year") or current_year()
    area = data.get("area")
    narrowed_to = None
    if area and areas is None:
        narrowed_to = registry_selectors.entity_get(user=user, kind="communities", pk=area)
    filters = {
        "user": user,
        "year": year,
        "kind": data.get("kind") or None,
        "ward_id": ward.pk if ward is not None else None,
    }
    narrowing = {"state": data.get("state") or None, "community_id": area or None}
    try:
        rows = selectors.registration_list(**filters, **narrowing, q=data.get("q"))
    except registry_selectors.SearchTooBroad:
        form.add_error("q", registry_selectors.SEARCH_TOO_BROAD)
        rows = selectors.registration_list(**filters, **narrowing).none()
    page = keyset_page(
        rows,
        columns=selectors.LIST_ORDER_COLUMNS,
        key=selectors.list_order_key,
        cursor=request.GET.get("cursor"),
        size=LIST_PAGE_SIZE,
    )
    # The whole year's size from the roll-ups (a search or a narrower filter has none: counting
    # it would read everything it matches).
    narrowed = data.get("q") or any(narrowing.values())
    total = None if narrowed else selectors.registration_total(**filters)
    # A signed-off ward-year offers no registering: it would be refused.
    signoff = ward_year_signoff(ward_id=ward.pk, year=year) if ward is not None else None
    return render(
        request,
        "titles/staff/registration_list.html",
        {
            "form": form,
            "page": page,
            "total": total,
            "year": year,
            "ward": ward,
            "area": area if ward is not None else None,
            "narrowed_to": narrowed_to,
            "show_ward": form.many_wards,
            "signoff": signoff,
            "can_register": can_register(user) and signoff is None,
            "here": request.get_full_path(),
        },
    )


def _list_ward(request: HttpRequest, wards: list) -> AdministrativeUnit | None:
    """The ward the list is limited to: `?ward=` (404 outside the scope) or the user's only one."""
    code = request.GET.get("ward", "").strip()
    if code:
        return registry_selectors.ward_get(user=request.user, code=code)
    return wards[0] if len(wards) == 1 else None


# --- registering ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def registration_create(request: HttpRequest) -> HttpResponse:
    """Register one entity: `?entity=<pk>` preselects it, otherwise chosen by title and code."""
    require_register(request.user)
    entity = _entity_in_scope(request)
    form = RegistrationCreateForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        wards=registry_selectors.wards_for_entry(user=request.user),
        entity=entity,
        initial={"year": _year(request)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            registration = registering.registration_create(
                user=request.user, entity=form.entity, year=form.cleaned_data["year"]
            )
        except ReviewError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:  # the model's own checks: shown, never a server error
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("Registered %(name)s for %(year)s.")
                % {"name": registration.entity.name, "year": registration.year},
            )
            return redirect(registration_url(registration.pk))
    return render(request, "titles/staff/registration_form.html", {"form": form, "entity": entity})


def _entity_in_scope(request: HttpRequest) -> Entity | None:
    """The entity named by `?entity=`, or None; 404 if it is not the user's to see."""
    value = request.GET.get("entity", "")
    if not value:
        return None
    entity = (
        Entity.objects.filter(scope_q(request.user), pk=value if _is_number(value) else 0)
        .select_related("ward")
        .first()
    )
    if entity is None:
        raise Http404
    return entity


@login_required
@require_http_methods(["GET", "POST"])
def registration_register_area(request: HttpRequest) -> HttpResponse:
    """Register every household of a residential area that is not registered for the year yet.

    The form (sent by GET) leads to the confirmation: how many households will be registered
    and how many already are; the confirmed POST registers them and returns to the list the
    user came from (`next`), else to the list of the area.
    """
    require_register(request.user)
    ward = entry_ward(request)
    if ward is None:
        wards = registry_selectors.wards_for_entry(user=request.user)
        return render(request, "titles/staff/ward_pick.html", {"form": WardPickForm(wards=wards)})
    areas = registry_selectors.ward_areas_with_households(user=request.user, ward=ward)
    data = request.POST if request.method == "POST" else None
    if data is None and "area" in request.GET:
        data = request.GET
    form = RegisterAreaForm(data, areas=areas, initial={"year": _year(request)})
    if data is not None and form.is_valid():
        community: Community = form.community
        year = form.cleaned_data["year"]
        query = urlencode({"year": year, "ward": ward.code, "area": community.pk})
        back = confirming.next_url(request, f"{reverse('registration_list')}?{query}")
        if not confirming.is_confirmed(request):
            return _register_area_confirmation(request, form, ward, back)
        try:
            created, already = registering.registrations_register_area(
                user=request.user, community=community, year=year
            )
        except ReviewError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("%(area)s, %(year)s: %(created)d registered, %(already)d already registered.")
                % {
                    "area": community.entity.name,
                    "year": year,
                    "created": created,
                    "already": already,
                },
            )
            return redirect(back)
    return _register_area_form(request, form, ward)


def _register_area_form(
    request: HttpRequest, form: RegisterAreaForm, ward: AdministrativeUnit
) -> HttpResponse:
    """The form choosing the area and year; sent by GET, it leads to the confirmation."""
    return render(
        request,
        "titles/staff/register_area.html",
        {
            "form": form,
            "ward": ward,
            "ward_param": request.GET.get("ward", ""),
            "next": confirming.next_param(request),
            "cancel": confirming.next_url(request, reverse("registration_list")),
        },
    )


def _register_area_confirmation(
    request: HttpRequest, form: RegisterAreaForm, ward: AdministrativeUnit, back: str
) -> HttpResponse:
    """How many households registering the area will register; the form again, with the
    reason, when it would be refused (the registration window is closed)."""
    community: Community = form.community
    year = form.cleaned_data["year"]
    heading = _("Register an area")
    subtitle = f"{community.entity.name} · {ward.name} ({ward.code}) · {year}"
    signoff = ward_year_signoff(ward_id=ward.pk, year=year)
    if signoff is not None:
        return confirming.refuse_frozen(
            request, heading=heading, subtitle=subtitle, signoff=signoff, back=back
        )
    try:
        registering.registration_window_check(
            user=request.user, province_id=ward.parent_id, year=year
        )
    except ReviewError as exc:
        form.add_error(None, str(exc))
        return _register_area_form(request, form, ward)
    entities, already = registering.area_households(community=community, year=year)
    count = entities.count()
    action = reverse("registration_register_area")
    if request.GET.get("ward"):
        action = f"{action}?{urlencode({'ward': ward.code})}"
    return confirming.confirm(
        request,
        confirming.Confirmation(
            heading=heading,
            subtitle=subtitle,
            lead=ngettext(
                "%(count)s household of %(area)s will be registered for the Learning Family "
                "title in %(year)s; households already registered are left as they are.",
                "%(count)s households of %(area)s will be registered for the Learning Family "
                "title in %(year)s; households already registered are left as they are.",
                count,
            )
            % {"count": count, "area": community.entity.name, "year": year},
            counts=confirming.Counts(
                columns=[_("To register"), _("Already registered")],
                rows=confirming.by_kind(
                    [{"kind": Kind.FAMILY, "new": count, "already": already}], "new", "already"
                ),
            ),
            nothing=_(
                "Every household of this residential area is already registered for %(year)s."
            )
            % {"year": year}
            if not count
            else "",
            action=action,
            fields=[("area", community.pk), ("year", year)],
            button=_("Register the households"),
            cancel=back,
        ),
    )


# --- evidence ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def registration_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """The evidence form generated from the criteria set in force, with the derived shares."""
    registration = selectors.registration_get(user=request.user, pk=pk)
    require_register(request.user)
    criteria_set = criteria_for(registration)
    rules = parsed(criteria_set) if criteria_set is not None else None
    signoff = ward_year_signoff(ward_id=registration.ward_id, year=registration.year)
    editable = registration.state in EVIDENCE_EDITABLE and signoff is None
    form = None
    if rules is not None and editable:
        form = _evidence_form(request, registration, rules)
        if _evidence_saved(request, form, registration, user=request.user):
            messages.success(request, _("Evidence saved."))
            return redirect(registration_url(registration.pk))
    elif request.method == "POST":
        messages.error(
            request,
            workflow.frozen_message(registration.year)
            if signoff is not None
            else _("Evidence cannot change once a registration is decided."),
        )
        return redirect("registration_evidence", pk=registration.pk)
    shares = []
    if rules is not None and any(c.type == CriterionType.SHARE for c in rules.criteria):
        figures = shares_for(
            kind=registration.kind, year=registration.year, entity_ids=[registration.entity_id]
        )
        shares = share_lines(rules, figures, registration.entity_id)
    return render(
        request,
        "titles/staff/evidence.html",
        {
            "registration": registration,
            "criteria_set": criteria_set,
            "form": form,
            "signoff": signoff,
            "editable": editable,
            "shares": shares,
            "values": evidence_display(rules, registration.evidence) if rules else [],
            "registration_url": registration_url(registration.pk),
        },
    )


def _evidence_form(
    request: HttpRequest, registration: Registration, rules: CriteriaSet
) -> EvidenceForm:
    """The evidence form of the registration's criteria set; bound on a POST."""
    return EvidenceForm(
        request.POST if request.method == "POST" else None,
        rules=rules,
        evidence=registration.evidence,
        version=registration.version,
    )


def _evidence_saved(
    request: HttpRequest,
    form: EvidenceForm,
    registration: Registration,
    *,
    user,
    self_assessed: bool = False,
) -> bool:
    """Save a posted, valid form's evidence on the version it was shown with. False when nothing
    was saved: a GET, or the form's errors (the service's refusals among them) say why."""
    if request.method != "POST" or not form.is_valid():
        return False
    registration.version = form.cleaned_data["version"]
    try:
        registering.evidence_save(
            registration=registration, values=form.values(), user=user, self_assessed=self_assessed
        )
    except EvidenceInvalid as exc:
        form.add_evidence_errors(exc.errors)
    except ReviewError as exc:
        form.add_error(None, str(exc))
    else:
        return True
    return False


@login_required
@require_POST
def registration_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand a registration over for evaluation."""
    return _registration_action(request, pk, review_submit, _("Submitted for evaluation."))


@login_required
@require_POST
def registration_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff confirm the evidence a household or citizen entered itself."""
    return _registration_action(
        request, pk, registering.evidence_confirm, _("Self-assessed evidence confirmed.")
    )


def _registration_action(
    request: HttpRequest, pk: int, action: Callable[..., Registration], done: str
) -> HttpResponse:
    """Apply `action` to the version of the registration the user saw; `done` or the service's
    refusal as a message, then back to the registration's page."""
    registration = selectors.registration_get(user=request.user, pk=pk)
    require_register(request.user)
    _seen_version(request, registration)
    try:
        action(registration=registration, user=request.user)
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(registration_url(registration.pk))


# --- self-assessment --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def registration_self_link(request: HttpRequest, pk: int) -> HttpResponse:
    """The registration's self-assessment link: its state, and issuing or revoking it.

    Only the digest of a link's token is stored, so the link itself is shown once, on the page
    that answers "issue a new link", with a copy button and a printable slip.
    """
    registration = selectors.registration_get(user=request.user, pk=pk)
    require_register(request.user)
    slip = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "issue":
                issued = registering.self_assessment_link_issue(
                    registration=registration, user=request.user
                )
                slip = slip_of(request, issued)
            elif action == "revoke":
                registering.self_assessment_link_revoke(
                    registration=registration, user=request.user
                )
                messages.success(request, _("The self-assessment link no longer works."))
                return redirect("registration_self_link", pk=registration.pk)
            else:
                return HttpResponseBadRequest()
        except ReviewError as exc:
            messages.error(request, str(exc))
            return redirect("registration_self_link", pk=registration.pk)
    frozen = workflow.ward_year_frozen(ward_id=registration.ward_id, year=registration.year)
    return render(
        request,
        "titles/staff/self_link.html",
        {
            "registration": registration,
            "slip": slip,
            "link": slip["link"] if slip else None,
            "live": registering.self_assessment_link_live(registration=registration),
            "editable": registration.state in EVIDENCE_EDITABLE and not frozen,
            "frozen": frozen,
            "registration_url": registration_url(registration.pk),
        },
    )


def slip_of(request: HttpRequest, issued: registering.IssuedLink) -> dict:
    """What a printed slip shows of a link just issued: the address and its QR code, the short
    code and the page where it is typed, and until when it works."""
    link = request.build_absolute_uri(reverse("self_assessment", args=[issued.token]))
    return {
        "registration": issued.registration,
        "link": link,
        "qr": qr_svg(link, title=_("QR code of the self-assessment link")),
        "code": issued.code_display,
        "code_page": request.build_absolute_uri(reverse("self_code")),
        "valid_until": timezone.localdate() + registering.SELF_ASSESSMENT_MAX_AGE,
    }


@require_http_methods(["GET", "POST"])
def self_assessment(request: HttpRequest, token: str) -> HttpResponse:
    """PUBLIC: the household's or citizen's own form, opened from the link staff gave them.

    The random token is the only key. An unknown, ended or expired link, or one of a signed-off
    year, shows the household a plain page (status 404) that tells them to ask their
    association for a new link. What is sent is stored as self-assessed (no user) until staff
    confirm it.
    """
    registration = registering.registration_from_token(token)
    if registration is None:
        return render(request, "titles/staff/self_invalid.html", status=404)
    return self_assessment_page(
        request, registration, form_url=reverse("self_assessment", args=[token])
    )


def self_assessment_page(
    request: HttpRequest, registration: Registration, *, form_url: str
) -> HttpResponse:
    """The household's form of `registration`, opened by its link or its slip's short code
    (`form_url`, where the form posts and comes back to)."""
    criteria_set = criteria_for(registration)
    rules = parsed(criteria_set) if criteria_set is not None else None
    context = {"registration": registration, "criteria_set": criteria_set, "form_url": form_url}
    if registration.state not in EVIDENCE_EDITABLE:
        return render(request, "titles/staff/self_decided.html", context)
    if rules is None:
        return render(request, "titles/staff/self_assessment.html", {**context, "form": None})
    form = _evidence_form(request, registration, rules)
    if _evidence_saved(request, form, registration, user=None, self_assessed=True):
        return redirect(f"{form_url}?sent=1")
    sent = request.method == "GET" and request.GET.get("sent") == "1"
    return render(
        request,
        "titles/staff/self_assessment.html",
        {
            **context,
            "form": form,
            "sent": sent,
            "values": evidence_display(rules, registration.evidence) if sent else [],
        },
    )


# --- import -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def registrations_import(request: HttpRequest) -> HttpResponse:
    """Upload → dry run and report → confirm → the real import, all-or-nothing; both steps run
    as background jobs (`titles.jobs.registrations_import`, as the registry's import) and the
    page answers with the job's page at once."""
    require_register(request.user)
    if uploads.posted_step(request) == uploads.CONFIRM:
        job = uploads.start_confirmed(request, job_kind=REGISTRATIONS_IMPORT)
        return redirect("job_status", job.pk) if job else redirect("registrations_import")
    form = RegistrationsImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial={"year": _year(request)},
    )
    if not form.is_valid():
        return render(request, "titles/staff/import.html", {"form": form})
    job = uploads.start_check(request, uploads.upload_of(form), job_kind=REGISTRATIONS_IMPORT)
    return redirect("job_status", job.pk)


@login_required
@require_GET
def registrations_import_template(request: HttpRequest) -> HttpResponse:
    """The registrations file's template workbook."""
    require_register(request.user)
    return uploads.template_download(request, imports.REGISTRATIONS, title="đăng ký")


urlpatterns = [
    path("registrations/", registration_list, name="registration_list"),
    path("registrations/new/", registration_create, name="registration_create"),
    path(
        "registrations/register-area/",
        registration_register_area,
        name="registration_register_area",
    ),
    path("registrations/import/", registrations_import, name="registrations_import"),
    path(
        "registrations/import/template/",
        registrations_import_template,
        name="registrations_import_template",
    ),
    path("registrations/<int:pk>/evidence/", registration_evidence, name="registration_evidence"),
    path("registrations/<int:pk>/submit/", registration_submit, name="registration_submit"),
    path("registrations/<int:pk>/confirm/", registration_confirm, name="registration_confirm"),
    path(
        "registrations/<int:pk>/self-link/",
        registration_self_link,
        name="registration_self_link",
    ),
    path("self/<str:token>/", self_assessment, name="self_assessment"),
]
