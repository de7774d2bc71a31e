"""The officials' titles pages: the registration page, the review queue and its actions,
decisions, the printable public list and certificates.

Every view reads the same way: decorators → access (a selector that raises Http404 outside the
user's scope; `require_review` for officials' pages and actions, 403 for the other roles) →
form → one service call → redirect after POST with a message. Actions on one registration carry
the version the page showed: acting on a page someone else changed meanwhile is refused with
`ConcurrentChange`'s message and changes nothing. The mass actions (evaluate now, approve what
passed, issue a decision) first show their confirmation (`titles.views.confirming`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import services as jobs
from registry import selectors as registry_selectors
from registry.access import can_register, can_review, grant_of, require_review
from registry.models import AdministrativeUnit, Kind
from registry.paging import keyset_page
from titles import certificates as certificate_sheets
from titles import jobs as titles_jobs
from titles import paper, selectors, workflow
from titles.models import CriteriaSet, Override, Registration, State
from titles.review_forms import (
    ApproveForm,
    ApprovePassedForm,
    DecisionForm,
    DecisionRowsForm,
    OverrideForm,
    PublicListForm,
    QueueFilterForm,
    RejectForm,
    VersionedForm,
    WardPickForm,
    WardYearForm,
    approved_by_codes,
    current_year,
)
from titles.rules import evaluation
from titles.selectors_signoff import ward_year_signoff
from titles.services import review
from titles.services.counts import decision_counts, ward_counts
from titles.services.criteria import criteria_for, parsed
from titles.services.evaluate import evaluation_preview
from titles.services.registrations import EVIDENCE_EDITABLE
from titles.templatetags.titles_tags import in_language
from titles.views import confirming

QUEUE_PAGE_SIZE = 50
DECISIONS_SHOWN = 20
DECISION_PAGE_SIZE = 100
# A ward's public list longer than this is shown a page at a time (an area's list is whole).
PUBLIC_PAGE_SIZE = 200
# The parallel "Cultural Family" procedure posts its list for 10 days before the decision.
POSTING_DAYS = 10
PUBLIC_STATES = Q(state=State.APPROVED) | Q(state=State.EVALUATED, passed=True)


# --- the registration page -------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionRow:
    """One criterion of the set in force, as the registration page shows it."""

    criterion: evaluation.Criterion
    required: bool
    evidence: str | None  # the value as entered now
    entry: dict[str, Any] | None  # the latest evaluation's result for it
    override: Override | None  # the override in force, if any

    @property
    def code(self) -> str:
        return self.criterion.code


def _criterion_rows(
    registration: Registration, criteria_set: CriteriaSet | None, overrides: list[Override]
) -> list[CriterionRow]:
    entries = {entry["code"]: entry for entry in registration.result.get("criteria", [])}
    in_force: dict[str, Override] = {}
    for override in overrides:  # newest first
        if not override.superseded:
            in_force.setdefault(override.criterion, override)
    if criteria_set is None:
        return []
    rules = parsed(criteria_set)
    return [
        CriterionRow(
            criterion=criterion,
            required=criterion.code in rules.pass_required,
            evidence=registration.evidence.get(criterion.code),
            entry=entries.get(criterion.code),
            override=in_force.get(criterion.code),
        )
        for criterion in rules.criteria
    ]


def _override_choices(rows: list[CriterionRow]) -> list[tuple[str, str]]:
    return [
        (row.code, f"{row.code} — {in_language(row.criterion, 'text')}")
        for row in rows
        if row.entry is not None
    ]


def _render_detail(
    request: HttpRequest,
    registration: Registration,
    *,
    reject_form: RejectForm | None = None,
    override_form: OverrideForm | None = None,
) -> HttpResponse:
    user = request.user
    criteria_set = criteria_for(registration)
    overrides = list(selectors.registration_overrides(registration=registration))
    rows = _criterion_rows(registration, criteria_set, overrides)
    signoff = ward_year_signoff(ward_id=registration.ward_id, year=registration.year)
    # A signed-off year offers no action: each would be refused.
    reviewer = can_review(user) and signoff is None
    state = registration.state
    evaluated = bool(registration.result)
    initial = {"version": registration.version}
    context = {
        "registration": registration,
        "entity_kind_slug": registry_selectors.SLUG_OF_KIND[registration.kind],
        "criteria_set": criteria_set,
        "rules": parsed(criteria_set) if criteria_set else None,
        "rows": rows,
        "overrides": overrides,
        "history": selectors.registration_history(registration=registration),
        "result_stale": evaluated
        and (
            state in (State.REGISTERED, State.SUBMITTED)
            or criteria_set is None
            or registration.evaluation.criteria_digest != criteria_set.digest
        ),
        "can_review": can_review(user),
        "can_register": can_register(user) and signoff is None,
        "signoff": signoff,
        "evidence_editable": state in EVIDENCE_EDITABLE,
        "can_submit": state in workflow.SUBMIT.sources,
        "can_approve": reviewer and state in workflow.APPROVE.sources and bool(registration.passed),
        "can_reject": reviewer and state in workflow.REJECT.sources,
        "can_override": reviewer and state in workflow.NOTE_OVERRIDE.sources and evaluated,
        "version_form": VersionedForm(initial=initial, auto_id=False),
        "approve_form": ApproveForm(initial=initial, auto_id="approve_%s"),
        "reject_form": reject_form or RejectForm(initial=initial, auto_id="reject_%s"),
        "override_form": override_form
        or OverrideForm(initial=initial, criteria=_override_choices(rows), auto_id="override_%s"),
    }
    return render(request, "titles/review/registration_detail.html", context)


@login_required
@require_GET
def registration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The registration page for everyone in scope; officials' actions are on it too."""
    registration = selectors.registration_get(user=request.user, pk=pk)
    return _render_detail(request, registration)


def _check_version(registration: Registration, form: VersionedForm) -> None:
    """Refuse an action taken on a page that showed an older version of the registration."""
    if form.cleaned_data["version"] != registration.version:
        raise review.ConcurrentChange()


def _incomplete(request: HttpRequest, pk: int) -> HttpResponse:
    messages.error(request, _("The form was incomplete; nothing was saved. Please try again."))
    return redirect("registration_detail", pk=pk)


@login_required
@require_POST
def registration_approve(request: HttpRequest, pk: int) -> HttpResponse:
    registration = selectors.registration_get(user=request.user, pk=pk)
    require_review(request.user)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _incomplete(request, pk)
    try:
        _check_version(registration, form)
        review.registration_approve(registration=registration, user=request.user)
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Approved %(name)s.") % {"name": registration.entity.name})
    return redirect("registration_detail", pk=pk)


@login_required
@require_POST
def registration_reject(request: HttpRequest, pk: int) -> HttpResponse:
    registration = selectors.registration_get(user=request.user, pk=pk)
    require_review(request.user)
    form = RejectForm(request.POST, auto_id="reject_%s")
    if not form.is_valid():
        if "version" in form.errors:
            return _incomplete(request, pk)
        return _render_detail(request, registration, reject_form=form)
    try:
        _check_version(registration, form)
        review.registration_reject(
            registration=registration, user=request.user, reason=form.cleaned_data["reason"]
        )
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Rejected %(name)s.") % {"name": registration.entity.name})
    return redirect("registration_detail", pk=pk)


@login_required
@require_POST
def registration_override(request: HttpRequest, pk: int) -> HttpResponse:
    registration = selectors.registration_get(user=request.user, pk=pk)
    require_review(request.user)
    rows = _criterion_rows(
        registration,
        criteria_for(registration),
        list(selectors.registration_overrides(registration=registration)),
    )
    form = OverrideForm(request.POST, criteria=_override_choices(rows), auto_id="override_%s")
    if not form.is_valid():
        if "version" in form.errors:
            return _incomplete(request, pk)
        return _render_detail(request, registration, override_form=form)
    data = form.cleaned_data
    try:
        _check_version(registration, form)
        review.override_set(
            registration=registration,
            criterion=data["criterion"],
            met=data["met"],
            reason=data["reason"],
            user=request.user,
        )
    except review.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Criterion %(code)s overridden; the registration was evaluated again.")
            % {"code": data["criterion"]},
        )
    return redirect("registration_detail", pk=pk)


# --- choosing a ward --------------------------------------------------------------------------


def _chosen_ward(request: HttpRequest, data) -> AdministrativeUnit | None:
    """`ward=<code>` from `data` (404 outside the scope), else the user's own ward, else None."""
    code = (data.get("ward") or "").strip()
    if code:
        return registry_selectors.ward_get(user=request.user, code=code)
    grant = grant_of(request.user)
    unit = grant.unit if grant is not None else None
    return unit if unit is not None and unit.level == AdministrativeUnit.Level.WARD else None


def _ward_pick(request: HttpRequest, url_name: str, heading: str) -> HttpResponse:
    """Ask a user who covers several wards which one; a user who covers none gets a 404."""
    wards = registry_selectors.wards_for_filter(user=request.user)
    if not wards.exists():
        raise Http404
    return render(
        request,
        "titles/review/ward_pick.html",
        {
            "form": WardPickForm(wards=wards),
            "action": reverse(url_name),
            "heading": heading,
            "year": request.GET.get("year", ""),
        },
    )


def _queue_url(ward: AdministrativeUnit, year: int, **filters: Any) -> str:
    params = {"ward": ward.code, "year": year}
    params.update({key: value for key, value in filters.items() if value})
    return f"{reverse('review_queue')}?{urlencode(params)}"


def _ward_areas(request: HttpRequest, ward: AdministrativeUnit) -> list[tuple[int, str]]:
    """The ward's residential areas as (id, name), for an area filter."""
    return registry_selectors.ward_entity_choices(user=request.user, kind="communities", ward=ward)


# --- the review queue -------------------------------------------------------------------------


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """A ward's registrations of a year to review, with counts per state and bulk actions."""
    require_review(request.user)
    ward = _chosen_ward(request, request.GET)
    if ward is None:
        return _ward_pick(request, "review_queue", _("Review queue"))
    user = request.user
    areas = _ward_areas(request, ward)
    form = QueueFilterForm(request.GET, areas=areas)
    filters = form.filters()
    year = filters["year"]
    scope = {
        "user": user,
        "year": year,
        "kind": filters["kind"],
        "ward_id": ward.pk,
        "community_id": filters["area"],
        "q": filters["q"],
    }
    rows = selectors.registration_list(**scope, state=filters["state"], result=filters["result"])
    page = keyset_page(
        rows,
        columns=selectors.LIST_ORDER_COLUMNS,
        key=selectors.list_order_key,
        cursor=request.GET.get("cursor"),
        size=QUEUE_PAGE_SIZE,
    )
    # A search narrows the list, not these counts (it would read every name of the ward).
    counts = _state_counts(scope)
    # The list's own size, when the counts above already hold it (a result filter or a search
    # has none).
    if filters["result"] or filters["q"]:
        total = None
    else:
        total = counts[filters["state"]] if filters["state"] else counts["total"]
    decisions = (
        selectors.decision_list(user=user, year=year)
        .filter(ward=ward)
        .annotate(recognised=Count("registrations"))[:DECISIONS_SHOWN]
    )
    return render(
        request,
        "titles/review/queue.html",
        {
            "ward": ward,
            "year": year,
            "filters": filters,
            "form": form,
            "page": page,
            "total": total,
            "counts": counts,
            "state_counts": [(state, counts[state.value]) for state in State],
            "decisions": decisions,
            "signoff": ward_year_signoff(ward_id=ward.pk, year=year),
            "here": request.get_full_path(),
            "evaluable_states": (State.REGISTERED, State.SUBMITTED, State.EVALUATED),
            "ward_year_form": WardYearForm(initial={"ward": ward.code, "year": year}),
        },
    )


def _state_counts(scope: dict) -> dict[str, int]:
    """The queue's counts: `total`, `approvable` and one per state, for the ward, year, title
    and residential area of `scope`. The ward's are summed from its counts (`ward_counts`, a
    few hundred rows however busy the ward); an area's are counted from its registrations,
    found through its households (a few thousand)."""
    counts = {"total": 0, "approvable": 0, **{state.value: 0 for state in State}}
    if scope["community_id"]:
        rows = selectors.registration_list(**{**scope, "q": None})
        grouped = (
            rows.order_by()
            .values("state")
            .annotate(total=Count("*"), approvable=Count("state", filter=review.APPROVABLE))
        )
    else:
        rows = ward_counts(ward_id=scope["ward_id"], year=scope["year"])
        if scope["kind"]:
            rows = rows.filter(kind=scope["kind"])
        grouped = (
            rows.order_by()
            .values("state")
            .annotate(total=Sum("n"), approvable=Sum("n", filter=review.APPROVABLE))
        )
    for group in grouped:
        counts["total"] += group["total"]
        counts["approvable"] += group["approvable"] or 0
        counts[group["state"]] += group["total"]
    return counts


def _ward_subtitle(ward: AdministrativeUnit, year: int) -> str:
    return f"{ward.name} ({ward.code}) · {year}"


def _refuse_frozen(
    request: HttpRequest, ward: AdministrativeUnit, year: int, heading: str, back: str
) -> HttpResponse | None:
    """In a signed-off ward-year: the confirmation (GET, or a POST not confirmed) is the page
    that says so, the confirmed action a message on the list. None while the year is open."""
    signoff = ward_year_signoff(ward_id=ward.pk, year=year)
    if signoff is None:
        return None
    if confirming.is_confirmed(request):
        messages.error(request, workflow.frozen_message(year))
        return redirect(back)
    return confirming.refuse_frozen(
        request,
        heading=heading,
        subtitle=_ward_subtitle(ward, year),
        signoff=signoff,
        back=back,
    )


@login_required
@require_http_methods(["GET", "POST"])
def ward_evaluate(request: HttpRequest) -> HttpResponse:
    """ "Evaluate now": score every registration of the ward and year that is ready for it.

    GET (or a POST not confirmed) shows how many it will evaluate, by title; the confirmed POST
    starts the evaluation as a job and shows its page, which leads back to the queue (`next`).
    """
    require_review(request.user)
    form = WardYearForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        messages.error(request, _("Choose a commune/ward and a year first."))
        return redirect("review_queue")
    ward = registry_selectors.ward_get(user=request.user, code=form.cleaned_data["ward"])
    year = form.cleaned_data["year"]
    back = confirming.next_url(request, _queue_url(ward, year))
    heading = _("Evaluate now")
    if (refused := _refuse_frozen(request, ward, year, heading, back)) is not None:
        return refused
    if not confirming.is_confirmed(request):
        return _evaluate_confirmation(request, ward, year, heading, back)
    job = jobs.start(
        kind=titles_jobs.EVALUATE,
        user=request.user,
        args={"ward": ward.code, "year": year, "back": back},
        scope_id=ward.pk,
    )
    return redirect("job_status", pk=job.pk)


def _evaluate_confirmation(
    request: HttpRequest, ward: AdministrativeUnit, year: int, heading: str, back: str
) -> HttpResponse:
    preview = evaluation_preview(year=year, ward=ward)
    total = sum(preview.ready.values())
    notes = []
    if preview.not_submitted:
        notes.append(
            ngettext(
                "%(count)s registration is not yet submitted (no evidence) and will stay "
                "registered.",
                "%(count)s registrations are not yet submitted (no evidence) and will stay "
                "registered.",
                preview.not_submitted,
            )
            % {"count": preview.not_submitted}
        )
    for kind in preview.no_criteria:
        notes.append(
            _(
                "No criteria set is in force for %(title)s in %(year)s: those registrations "
                "will not be evaluated."
            )
            % {"title": Kind(kind).label, "year": year}
        )
    return confirming.confirm(
        request,
        confirming.Confirmation(
            heading=heading,
            subtitle=_ward_subtitle(ward, year),
            lead=ngettext(
                "%(count)s registration is ready and will be evaluated with the criteria in "
                "force; a result that does not change is left as it is.",
                "%(count)s registrations are ready and will be evaluated with the criteria in "
                "force; a result that does not change is left as it is.",
                total,
            )
            % {"count": total},
            counts=confirming.Counts(
                columns=[_("To evaluate")],
                rows=confirming.by_kind(
                    ({"kind": kind, "n": n} for kind, n in preview.ready.items()), "n"
                ),
            ),
            notes=notes,
            nothing=_("No registration of this commune/ward and year is ready to be evaluated.")
            if not total
            else "",
            action=reverse("ward_evaluate"),
            fields=[("ward", ward.code), ("year", year)],
            button=_("Evaluate"),
            cancel=back,
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def review_approve_passed(request: HttpRequest) -> HttpResponse:
    """Approve the ticked registrations that passed, or all that passed under the filters.

    GET (or a POST not confirmed) shows how many it will approve, by title; the confirmed POST
    starts the approval as a job and shows its page, which leads back to the queue as it was
    filtered (`next`).
    """
    require_review(request.user)
    form = ApprovePassedForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        errors = form.non_field_errors() or [_("Choose a commune/ward and a year first.")]
        messages.error(request, errors[0])
        # The fields that were valid ("2025.0" is a valid year, not an int() literal).
        ward_code = form.cleaned_data.get("ward")
        year = form.cleaned_data.get("year")
        if ward_code and year:
            ward = registry_selectors.ward_get(user=request.user, code=ward_code)
            return redirect(confirming.next_url(request, _queue_url(ward, year)))
        return redirect("review_queue")
    data = form.cleaned_data
    user = request.user
    ward = registry_selectors.ward_get(user=user, code=data["ward"])
    year = data["year"]
    back = confirming.next_url(
        request, _queue_url(ward, year, kind=data["kind"], area=data["area"], q=data["q"])
    )
    heading = _("Approve what passed")
    if (refused := _refuse_frozen(request, ward, year, heading, back)) is not None:
        return refused
    kind = data["kind"] or None
    if confirming.is_confirmed(request):
        args = {"ward": ward.code, "year": year, "back": back}
        if data["scope"] == "selected":
            args["ids"] = list(data["ids"])
        else:
            args.update(kind=data["kind"] or "", area=data["area"], q=data["q"] or "")
        job = jobs.start(kind=titles_jobs.APPROVE_PASSED, user=user, args=args, scope_id=ward.pk)
        return redirect("job_status", pk=job.pk)
    ids: list[int] | None
    if data["scope"] == "selected":
        ids, kind = data["ids"], None
    else:
        # "All that passed" means all the queue shows: narrowed by area or search, pass the ids.
        ids = titles_jobs.approvable_ids(
            user=user, ward=ward, year=year, kind=kind, area=data["area"], q=data["q"]
        )
    if ids is None:
        # The whole ward (or one title of it): summed from the ward's counts.
        approvable = ward_counts(ward_id=ward.pk, year=year).filter(review.APPROVABLE)
        if kind:
            approvable = approvable.filter(kind=kind)
        grouped = approvable.values("kind").annotate(total=Sum("n"))
    else:
        approvable = review.registrations_approvable(ward=ward, year=year, kind=kind, ids=ids)
        grouped = approvable.values("kind").annotate(total=Count("*"))
    rows = confirming.by_kind(grouped, "total")
    total = sum(figures[0] for _label, figures in rows)
    fields = [(name, data[name] or "") for name in ("ward", "year", "kind", "area", "q")]
    fields += [("scope", data["scope"]), *(("ids", pk) for pk in data["ids"])]
    confirmation = confirming.Confirmation(
        heading=heading,
        subtitle=_ward_subtitle(ward, year),
        lead=ngettext(
            "%(count)s registration that passed its evaluation will be approved.",
            "%(count)s registrations that passed their evaluation will be approved.",
            total,
        )
        % {"count": total},
        counts=confirming.Counts(columns=[_("To approve")], rows=rows),
        nothing=_("No registration among these has passed and waits for approval.")
        if not total
        else "",
        action=reverse("review_approve_passed"),
        fields=fields,
        button=_("Approve"),
        cancel=back,
    )
    return confirming.confirm(request, confirmation)


# --- decisions --------------------------------------------------------------------------------


def _year_param(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return current_year()
    return year if 2000 <= year <= 2100 else current_year()


def _kind_param(request: HttpRequest) -> str | None:
    kind = request.GET.get("kind") or None
    return kind if kind in Kind.values else None


@login_required
@require_http_methods(["GET", "POST"])
def decision_create(request: HttpRequest) -> HttpResponse:
    """Issue a recognition decision for approved registrations of a ward and year.

    Up to `DECISION_LISTED_UP_TO` approved registrations (under the title chosen), the form lists
    them, all ticked, to untick those the decision does not cover; beyond, it shows them counted
    by title and the decision recognises all of them (a ward's can number tens of thousands: a
    page of checkboxes no one could read, and slow to send). The form's POST shows the decision
    and what it will recognise; the confirmed POST issues it in a job and shows the job's page,
    which links to the decision and back to the queue it came from (`next`). In a signed-off
    year the page says so and offers no form.
    """
    require_review(request.user)
    ward = _chosen_ward(request, request.GET)
    if ward is None:
        return _ward_pick(request, "decision_create", _("New decision"))
    user = request.user
    year, kind = _year_param(request), _kind_param(request)
    queue = confirming.next_url(request, _queue_url(ward, year))
    signoff = ward_year_signoff(ward_id=ward.pk, year=year)
    if signoff is not None:
        return confirming.refuse_frozen(
            request,
            heading=_("New decision"),
            subtitle=_ward_subtitle(ward, year),
            signoff=signoff,
            back=queue,
        )
    approved = selectors.registration_list(
        user=user, year=year, kind=kind, state=State.APPROVED, ward_id=ward.pk
    )
    counted = selectors.approved_by_title(approved)
    total = sum(row["n"] for row in counted)
    fingerprint = selectors.approved_fingerprint(counted)
    listed = total <= DECISION_LISTED_UP_TO
    posted, crossed = request.POST, False
    if request.method == "POST" and ("expected" in posted) == listed:
        # The form was sent as the other kind (the approvals crossed the limit meanwhile):
        # carried over, what the user left out stays out, and they are told.
        posted, crossed = _carried_over(posted, approved, to_listed=listed), True
    form = DecisionForm(
        posted if request.method == "POST" else None,
        approved=approved,
        year=year,
        listed=listed,
    )
    if request.method == "POST" and (form.is_valid() or crossed):
        data = form.cleaned_data
        number = data.get("number")
        if crossed:
            form.add_error(None, _changed_meanwhile(total))
        elif selectors.decision_list(user=user).filter(ward=ward, number=number).exists():
            form.add_error(
                "number",
                _("Decision number %(number)s already exists in this ward.") % {"number": number},
            )
        elif not listed and data["expected"] != fingerprint:
            form.add_error(None, _changed_meanwhile(total))
        elif not listed and len(data["leave_out"]) == total:
            form.add_error(
                "leave_out",
                _("Every approved registration is left out: the decision would recognise none."),
            )
        elif not confirming.is_confirmed(request):
            return _decision_confirmation(
                request, ward, year, kind, data, counted=None if listed else counted
            )
        else:
            job = jobs.start(
                kind=titles_jobs.DECISION,
                user=user,
                args={
                    "ward": ward.code,
                    "year": year,
                    "number": number,
                    "date": data["date"].isoformat(),
                    **(
                        {"registrations": [r.pk for r in data["registrations"]]}
                        if listed
                        else {
                            "kind": kind or "",
                            "expected": fingerprint,
                            "leave_out": [r.pk for r in data["leave_out"]],
                        }
                    ),
                    "back": confirming.next_param(request),
                },
                scope_id=ward.pk,
            )
            return redirect("job_status", pk=job.pk)
    rows = list(approved) if listed else []
    if form.is_bound and listed:
        chosen = {str(value) for value in form.data.getlist("registrations")}
        selected = {row.pk for row in rows if str(row.pk) in chosen}
    else:
        selected = {row.pk for row in rows}
    return render(
        request,
        "titles/review/decision_form.html",
        {
            "form": form,
            "ward": ward,
            "year": year,
            "kind": kind or "",
            "kinds": Kind.choices,
            "listed": listed,
            "total": total,
            "fingerprint": fingerprint,
            "counts": confirming.Counts(
                columns=[_("To recognise"), _("Outstanding")],
                rows=confirming.by_kind(counted, "n", "outstanding"),
            ),
            "approved_queue": _queue_url(ward, year, kind=kind, state=State.APPROVED.value),
            "rows": rows,
            "selected": selected,
            "next": confirming.next_param(request),
            "queue": queue,
        },
    )


DECISION_LISTED_UP_TO = 200
"""Approved registrations up to which the decision form lists them one by one to tick."""


def _carried_over(posted, approved, *, to_listed: bool):
    """A decision form's POST made for the other kind of form, as the current one reads it:
    the registrations ticked become, past the limit, the codes of those not ticked to leave
    out (what was approved since is left out too: the user has not seen it); the codes left
    out become, under it, every other registration ticked."""
    carried = posted.copy()
    if to_listed:
        left_out = {row.pk for row in approved_by_codes(approved, posted.get("leave_out", ""))[0]}
        ticked = [str(pk) for pk in approved.values_list("pk", flat=True) if pk not in left_out]
        carried.setlist("registrations", ticked)
    else:
        ticked = set(posted.getlist("registrations"))
        codes = approved.order_by("entity__code").values_list("pk", "entity__code")
        carried["leave_out"] = "\n".join(code for pk, code in codes if str(pk) not in ticked)
    return carried


def _changed_meanwhile(total: int) -> str:
    return ngettext(
        "The approved registrations changed meanwhile: %(count)s now waits for a decision. "
        "Check the figures and review the decision again.",
        "The approved registrations changed meanwhile: %(count)s now wait for a decision. "
        "Check the figures and review the decision again.",
        total,
    ) % {"count": number_format(total, force_grouping=True)}


def _decision_url(ward: AdministrativeUnit, year: int, kind: str | None, next_: str) -> str:
    params = {"ward": ward.code, "year": year, "kind": kind or "", confirming.NEXT: next_}
    return f"{reverse('decision_create')}?{urlencode({k: v for k, v in params.items() if v})}"


def _decision_confirmation(
    request: HttpRequest,
    ward: AdministrativeUnit,
    year: int,
    kind: str | None,
    data: dict,
    *,
    counted: list[dict] | None,
) -> HttpResponse:
    """The decision about to be issued: its number and date, what it will recognise counted by
    title (outstanding ones too), and the registrations one by one when they were ticked
    (`counted` None); a decision for all that are approved (`counted`) lists none."""
    if counted is None:
        chosen = sorted(
            data["registrations"],
            key=lambda r: (selectors.KIND_ORDER.index(r.kind), r.entity.sort_key, r.pk),
        )
        by_title: dict[str, dict] = {}
        for registration in chosen:
            row = by_title.setdefault(
                registration.kind, {"kind": registration.kind, "n": 0, "outstanding": 0}
            )
            row["n"] += 1
            row["outstanding"] += bool(registration.eval_outstanding)
        counted = list(by_title.values())
        chosen_fields = [("registrations", r.pk) for r in chosen]
        notes = []
    else:
        left_out = data["leave_out"]
        chosen = []
        chosen_fields = [
            ("expected", data["expected"]),
            ("leave_out", "\n".join(r.entity.code for r in left_out)),
        ]
        for registration in left_out:
            row = next((row for row in counted if row["kind"] == registration.kind), None)
            if row is not None:  # else approved since it was counted: the job will refuse
                row["n"] -= 1
                row["outstanding"] -= bool(registration.eval_outstanding)
        if kind:
            note = _(
                "It recognises every registration of the ward approved for %(year)s under the "
                "title %(title)s but those left out; the review queue lists them (state "
                "Approved)."
            ) % {"year": year, "title": Kind(kind).label}
        else:
            note = _(
                "It recognises every registration of the ward approved for %(year)s but those "
                "left out; the review queue lists them (state Approved)."
            ) % {"year": year}
        notes = [note]
        if left_out:
            notes.append(
                _("Left out, they stay approved: %(names)s.")
                % {"names": "; ".join(f"{r.entity.name} ({r.entity.code})" for r in left_out)}
            )
    count = sum(row["n"] for row in counted)
    next_ = confirming.next_param(request)
    return confirming.confirm(
        request,
        confirming.Confirmation(
            heading=_("Issue decision %(number)s") % {"number": data["number"]},
            subtitle=_ward_subtitle(ward, year),
            lead=ngettext(
                "Decision %(number)s of %(date)s will recognise %(count)s registration. Once "
                "issued, a decision cannot be withdrawn here.",
                "Decision %(number)s of %(date)s will recognise %(count)s registrations. Once "
                "issued, a decision cannot be withdrawn here.",
                count,
            )
            % {
                "number": data["number"],
                "date": data["date"].strftime("%d/%m/%Y"),
                "count": number_format(count, force_grouping=True),
            },
            counts=confirming.Counts(
                columns=[_("To recognise"), _("Outstanding")],
                rows=confirming.by_kind(counted, "n", "outstanding"),
            ),
            rows=chosen,
            notes=notes,
            action=_decision_url(ward, year, kind, ""),
            fields=[
                ("number", data["number"]),
                ("date", data["date"].isoformat()),
                *chosen_fields,
            ],
            button=_("Issue the decision"),
            cancel=_decision_url(ward, year, kind, next_),
            next=next_,
        ),
    )


# --- a decision's page and the public list: printed lists read a page at a time --------------
# A ward's decision can recognise tens of thousands of registrations: the pages read their
# counts by aggregate queries and their rows a keyset page at a time, in the printed order
# (`selectors.PRINTED_ORDER`), never counting the rows before a page.


def _first_number(request: HttpRequest) -> int:
    """The number ("No.") of the page's first row, which the page links carry (`n`)."""
    try:
        number = int(request.GET.get("n", ""))
    except ValueError:
        return 1
    return number if number >= 1 else 1


def _printed_page(request: HttpRequest, rows, size: int, load):
    """One keyset page of `rows` in the printed order, its rows as `load(queryset)` reads them
    (the relations the page shows)."""
    page = keyset_page(
        selectors.printed_keys(rows),
        columns=selectors.PRINTED_ORDER_COLUMNS,
        key=tuple,
        cursor=request.GET.get("cursor"),
        size=size,
    )
    loaded = {row.pk: row for row in load(rows.filter(pk__in=[pk for *_, pk in page.rows]))}
    return replace(page, rows=[loaded[pk] for *_, pk in page.rows])


def _number_rows(rows: list, start: int, *, by_kind: bool, start_kind: str = "") -> None:
    """Write each row's printed number (`number`): one sequence from `start`, or (`by_kind`)
    one per title, the page's first title going on from `start` when it is `start_kind`."""
    number, kind = start - 1, None
    for row in rows:
        if by_kind and row.kind != kind:
            number = start - 1 if kind is None and row.kind == start_kind else 0
            kind = row.kind
        number += 1
        row.number = number


@login_required
@require_GET
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A decision and the registrations it recognised, printable, with their certificates: its
    counts by title, then its rows a page at a time (`?cursor=`), of one title or residential
    area if asked."""
    decision = selectors.decision_get(user=request.user, pk=pk)
    recognised = selectors.recognised_list(decision=decision)
    form = DecisionRowsForm(request.GET, areas=_ward_areas(request, decision.ward))
    filters = form.filters()
    rows = selectors.in_area(recognised, filters["area"])
    if filters["kind"]:
        rows = rows.filter(kind=filters["kind"])
    page = _printed_page(
        request,
        rows,
        DECISION_PAGE_SIZE,
        lambda qs: qs.select_related(*paper.AREA_RELATED).annotate(
            certificate_number=F("certificate__number")
        ),
    )
    start = _first_number(request)
    _number_rows(page.rows, start, by_kind=False)
    counts = decision_counts(decision=decision)
    filtered = filters["kind"] or filters["area"]
    return render(
        request,
        "titles/review/decision_detail.html",
        {
            "decision": decision,
            "form": form,
            "filtered": filtered,
            "page": page,
            "total": sum(n for n, _outstanding in counts.values()),
            "by_kind": [
                (Kind(kind).label, counts[kind][0])
                for kind in selectors.KIND_ORDER
                if kind in counts
            ],
            "outstanding": sum(outstanding for _n, outstanding in counts.values()),
            "next_number": start + len(page.rows),
            "previous_number": max(1, start - DECISION_PAGE_SIZE),
            "can_review": can_review(request.user),
        },
    )


@login_required
@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    """The list posted publicly before the decision: approved registrations and evaluated ones
    that passed, by title, for one ward (optionally one residential area) and year.

    It is posted per residential area: one area's list shows (and prints) whole; a ward's list
    longer than a page is read a page at a time (`?cursor=`), each printed with its letterhead
    and signatures, the numbers going on from the page before (`n`, `nk`)."""
    ward = _chosen_ward(request, request.GET)
    if ward is None:
        return _ward_pick(request, "public_list", _("Public list"))
    areas = _ward_areas(request, ward)
    form = PublicListForm(request.GET, areas=areas)
    filters = form.filters()
    listed = selectors.registration_list(
        user=request.user,
        year=filters["year"],
        kind=filters["kind"],
        ward_id=ward.pk,
        community_id=filters["area"],
    ).filter(PUBLIC_STATES)
    counts = {
        row["kind"]: row["n"]
        for row in selectors.counts_by_kind(listed, outstanding="eval_outstanding")
    }
    if filters["area"]:
        # An area's list is the paper posted in the area: whole, however long.
        page = None
        rows = list(selectors.printed_order(listed.select_related(*paper.AREA_RELATED)))
    else:
        page = _printed_page(
            request,
            listed,
            PUBLIC_PAGE_SIZE,
            lambda qs: qs.select_related(*paper.AREA_RELATED),
        )
        rows = page.rows
    start = _first_number(request) if page is not None and not page.first else 1
    start_kind = request.GET.get("nk", "") if page is not None and not page.first else ""
    _number_rows(rows, start, by_kind=True, start_kind=start_kind)
    for row in rows:
        row.kind_total = counts.get(row.kind, 0)
    posted_from = filters["posted_from"]
    area = next((name for pk, name in areas if pk == filters["area"]), None)
    return render(
        request,
        "titles/review/public_list.html",
        {
            "ward": ward,
            "year": filters["year"],
            "form": form,
            "rows": rows,
            "page": page if page is not None and page.has_other_pages else None,
            "next_number": rows[-1].number + 1 if rows else 1,
            "next_kind": rows[-1].kind if rows else "",
            "previous_number": max(1, rows[0].number - PUBLIC_PAGE_SIZE) if rows else 1,
            "previous_kind": rows[0].kind if rows else "",
            "area": area,
            "kind_label": Kind(filters["kind"]).label if filters["kind"] else "",
            "posting_days": POSTING_DAYS,
            "posted_from": posted_from,
            "posted_to": posted_from + datetime.timedelta(days=POSTING_DAYS - 1)
            if posted_from
            else None,
        },
    )


@login_required
@require_GET
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """A print-ready certificate (A4 landscape) for a recognised registration; 404 otherwise."""
    registration = selectors.registration_get(user=request.user, pk=pk)
    if registration.state != State.RECOGNIZED:
        raise Http404
    decision = selectors.decision_get(user=request.user, pk=registration.decision_id)
    sheets = certificate_sheets.sheets_of(
        certificate_sheets.recognised(decision).filter(pk=registration.pk)
    )
    if not sheets:
        raise Http404
    return render(
        request, "titles/review/certificate.html", {"sheet": sheets[0], "decision": decision}
    )


@login_required
@require_http_methods(["GET", "POST"])
def decision_certificates(request: HttpRequest, pk: int) -> HttpResponse:
    """Every certificate of a decision, one A4 landscape sheet each, to print at once.

    GET: the sheets on one page, up to `CERTIFICATES_PAGE_MAX` of them; a larger decision's page
    offers the file instead. POST: the file (every sheet, self-contained) as a background job,
    then its page, which offers the download when it is done. Only reads: the numbers were
    given when the decision was made.
    """
    decision = selectors.decision_get(user=request.user, pk=pk)
    if request.method == "POST":
        job = jobs.start(
            kind=titles_jobs.CERTIFICATES,
            user=request.user,
            args={"decision": decision.pk},
            scope_id=decision.ward_id,
        )
        return redirect("job_status", pk=job.pk)
    recognised = certificate_sheets.recognised(decision)
    count = recognised.count()
    too_many = count > settings.CERTIFICATES_PAGE_MAX
    return render(
        request,
        "titles/review/decision_certificates.html",
        {
            "decision": decision,
            "count": count,
            "too_many": too_many,
            "page_max": settings.CERTIFICATES_PAGE_MAX,
            "sheets": [] if too_many else certificate_sheets.sheets_of(recognised),
        },
    )


urlpatterns = [
    path("registrations/<int:pk>/", registration_detail, name="registration_detail"),
    path("registrations/<int:pk>/approve/", registration_approve, name="registration_approve"),
    path("registrations/<int:pk>/reject/", registration_reject, name="registration_reject"),
    path("registrations/<int:pk>/override/", registration_override, name="registration_override"),
    path("registrations/<int:pk>/certificate/", certificate, name="certificate"),
    path("review/", review_queue, name="review_queue"),
    path("review/evaluate/", ward_evaluate, name="ward_evaluate"),
    path("review/approve-passed/", review_approve_passed, name="review_approve_passed"),
    path("decisions/new/", decision_create, name="decision_create"),
    path("decisions/<int:pk>/", decision_detail, name="decision_detail"),
    path("decisions/<int:pk>/certificates/", decision_certificates, name="decision_certificates"),
    path("public-list/", public_list, name="public_list"),
]
