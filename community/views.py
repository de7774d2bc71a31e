"""The groups' pages: list, a group's page, the forms, and the "Groups and digital literacy"
dashboard tab (province → commune/ward → group).

Every view reads the same way: decorators → access (a selector that raises Http404 outside the
user's scope; `require_registry_edit` for writes, 403 for read-only roles) → form → one service
call → redirect after POST with a message. Files are uploaded on the registry's upload page,
which offers groups, members and activities (`community.sections`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from community import selectors
from community.forms import ActivityForm, DashboardForm, GroupFilterForm, GroupForm, MemberForm
from community.models import ALL_TYPES, GroupType
from community.services import groups as services
from registry import selectors as registry_selectors
from registry.access import can_edit_registry, grant_of, require_registry_edit
from registry.forms import WardPickForm
from registry.models import AdministrativeUnit, RollupLevel
from registry.views import entry_ward
from titles.dashboard import STATUS_LABELS, percent_text, target_text
from titles.forms import current_year
from titles.models import DIGITAL_REACH
from titles.selectors import target_status, targets_for

LIST_PAGE_SIZE = 50
ACTIVITIES_SHOWN = 50
CITIZENS_SHOWN = 20


def _add_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# --- list, detail ---------------------------------------------------------------------------


@login_required
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = GroupFilterForm(request.GET, wards=registry_selectors.wards_for_filter(user=user))
    form.is_valid()  # invalid values are shown as errors and left out of the query
    data = form.cleaned_data
    rows = selectors.group_list(
        user=user,
        q=data.get("q"),
        group_type=data.get("group_type") or None,
        ward_code=data.get("ward") or None,
    )
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "community/group_list.html",
        {
            "form": form,
            "page": page,
            "show_ward": form.many_wards,
            "ward_code": data.get("ward") or "",
            "can_edit": can_edit_registry(user),
        },
    )


@login_required
@require_GET
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    group = selectors.group_get(user=user, pk=pk)
    activities = list(selectors.group_activities(group=group)[:ACTIVITIES_SHOWN])
    return render(
        request,
        "community/group_detail.html",
        {
            "group": group,
            "members": selectors.group_members(user=user, group=group),
            "activities": activities,
            "see_people": selectors.can_see_people(user),
            "can_edit": can_edit_registry(user),
            "year": current_year(),
        },
    )


# --- forms ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    """New group. A user covering several wards first picks the ward (`?ward=` in the URL)."""
    require_registry_edit(request.user)
    ward = entry_ward(request)
    if ward is None:
        wards = selectors.wards_for_entry(user=request.user)
        return render(request, "community/ward_pick.html", {"form": WardPickForm(wards=wards)})
    form = GroupForm(request.POST if request.method == "POST" else None, ward=ward)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(ward=ward, **form.service_kwargs())
        except ValidationError as exc:
            if "__all__" in getattr(exc, "error_dict", {}):
                form.add_error(
                    "code",
                    _("%(ward)s already has a group with code %(code)s.")
                    % {"ward": ward.name, "code": form.cleaned_data["code"]},
                )
            else:
                _add_errors(form, exc)
        else:
            messages.success(request, _("Saved %(group)s.") % {"group": group})
            return redirect("group_detail", pk=group.pk)
    return render(request, "community/group_form.html", {"form": form, "ward": ward, "group": None})


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = selectors.group_get(user=request.user, pk=pk)
    require_registry_edit(request.user)
    form = GroupForm(
        request.POST if request.method == "POST" else None, ward=group.ward, instance=group
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(group=group, **form.service_kwargs())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Saved %(group)s.") % {"group": group})
            return redirect("group_detail", pk=group.pk)
    return render(
        request, "community/group_form.html", {"form": form, "ward": group.ward, "group": group}
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_create(request: HttpRequest, pk: int) -> HttpResponse:
    group = selectors.group_get(user=request.user, pk=pk)
    require_registry_edit(request.user)
    form = MemberForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_create(group=group, **form.cleaned_data)
        except ValidationError as exc:
            if "__all__" in getattr(exc, "error_dict", {}):
                form.add_error("code", _("The group already has a member with this code."))
            else:
                _add_errors(form, exc)
        else:
            messages.success(request, _("Saved %(member)s.") % {"member": member})
            return redirect("group_detail", pk=group.pk)
    return render(request, "community/member_form.html", {"form": form, "group": group})


@login_required
@require_http_methods(["GET", "POST"])
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an activity (a mobile team's session at a household, a class…). `?q=` searches
    the ward's citizens to tick those who were helped."""
    user = request.user
    group = selectors.group_get(user=user, pk=pk)
    require_registry_edit(user)
    q = (request.GET.get("q") or "").strip()[:200]
    found = selectors.citizens_search(user=user, ward=group.ward, q=q, limit=CITIZENS_SHOWN)
    form = ActivityForm(
        request.POST if request.method == "POST" else None,
        ward=group.ward,
        shown=[c.pk for c in found],
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            activity = services.activity_create(
                group=group,
                ref=data["ref"],
                date=data["date"],
                activity_type=data["activity_type"],
                participants=data["participants"],
                people_helped=data["people_helped"],
                services=data["services"],
                dossiers=data["dossiers"] or 0,
                citizens=list(data["citizens"]),
                note=data["note"],
            )
        except ValidationError as exc:
            if "__all__" in getattr(exc, "error_dict", {}):
                form.add_error("ref", _("The group already has an activity with this reference."))
            else:
                _add_errors(form, exc)
        else:
            messages.success(request, _("Recorded %(activity)s.") % {"activity": activity})
            return redirect("group_detail", pk=group.pk)
    return render(
        request,
        "community/activity_form.html",
        {"form": form, "group": group, "q": q, "found": found},
    )


# --- dashboard --------------------------------------------------------------------------------


def _year(request: HttpRequest) -> tuple[DashboardForm, int]:
    data = request.GET.copy()
    if not data.get("year"):
        data["year"] = current_year()
    form = DashboardForm(data)
    form.is_valid()
    return form, form.cleaned_data.get("year") or current_year()


def _with_target(rows: list[dict], units: list[AdministrativeUnit], level: str, year: int):
    """Each `all` row with the `digital_reach` target in force and its status."""
    described = [
        {
            "id": u.pk,
            "ward_id": u.pk if level == RollupLevel.WARD else None,
            "province_id": u.parent_id if level == RollupLevel.WARD else u.pk,
        }
        for u in units
    ]
    targets = targets_for(units=described, level=level, year=year, kinds=[DIGITAL_REACH])
    ids = {u.code: u.pk for u in units}
    out = []
    for row in rows:
        target = targets.get((ids.get(row["unit_code"]), DIGITAL_REACH))
        status = target_status(row["reach_rate"], target)
        out.append(
            {
                **row,
                "type_label": dict(GroupType.choices).get(row["group_type"], _("All groups")),
                "reach_text": percent_text(row["reach_rate"]),
                "target_text": target_text(
                    {"target_min": target[0], "target_max": target[1]} if target else {}
                ),
                "status": status,
                "status_label": STATUS_LABELS[status],
            }
        )
    return out


def _url(name: str, *args: Any, **params: Any) -> str:
    query = urlencode({key: value for key, value in params.items() if value})
    return reverse(name, args=args) + (f"?{query}" if query else "")


@login_required
@require_GET
def groups_dashboard(request: HttpRequest) -> HttpResponse:
    """The province's groups and digital-literacy reach against its target, and its wards."""
    user = request.user
    grant = grant_of(user)
    if grant is None:
        raise Http404
    form, year = _year(request)
    if grant.unit is not None and grant.unit.level == AdministrativeUnit.Level.WARD:
        return redirect(
            _url("groups_dashboard_ward", grant.unit.code, year=request.GET.get("year"))
        )
    if grant.unit is not None:
        province = grant.unit
        province_param = ""
    else:
        code = (request.GET.get("province") or "").strip()
        if not code:
            provinces = selectors.rollup_units(user=user, level=RollupLevel.PROVINCE)
            return render(
                request, "community/dashboard_pick.html", {"provinces": provinces, "year": year}
            )
        units = selectors.rollup_units(user=user, level=RollupLevel.PROVINCE, unit_code=code)
        if not units:
            raise Http404
        province = units[0]
        province_param = province.code
    headline = selectors.rollup_rows(
        user=user, year=year, level=RollupLevel.PROVINCE, unit_code=province.code
    )
    headline = _with_target(headline, [province], RollupLevel.PROVINCE, year)
    ward_units = selectors.rollup_units(user=user, level=RollupLevel.WARD, unit_code=province.code)
    ward_rows = [
        row
        for row in selectors.rollup_rows(
            user=user, year=year, level=RollupLevel.WARD, unit_code=province.code
        )
        if row["group_type"] == ALL_TYPES
    ]
    ward_rows = _with_target(ward_rows, ward_units, RollupLevel.WARD, year)
    for row in ward_rows:
        row["href"] = _url("groups_dashboard_ward", row["unit_code"], year=year)
    # Wards with groups first, then by name.
    ward_rows.sort(key=lambda r: (-r["groups"], -r["citizens_reached"], r["unit_name"]))
    return render(
        request,
        "community/dashboard_province.html",
        {
            "province": province,
            "province_param": province_param,
            "form": form,
            "year": year,
            "types": [r for r in headline if r["group_type"] != ALL_TYPES],
            "total": next(r for r in headline if r["group_type"] == ALL_TYPES),
            "rows": ward_rows,
        },
    )


@login_required
@require_GET
def groups_dashboard_ward(request: HttpRequest, code: str) -> HttpResponse:
    """A commune/ward's figures per group type against the target, and each of its groups."""
    user = request.user
    ward = registry_selectors.ward_get(user=user, code=code)
    form, year = _year(request)
    rows = selectors.rollup_rows(user=user, year=year, level=RollupLevel.WARD, unit_code=ward.code)
    rows = _with_target(
        [r for r in rows if r["unit_code"] == ward.code], [ward], RollupLevel.WARD, year
    )
    grant = grant_of(user)
    return render(
        request,
        "community/dashboard_ward.html",
        {
            "ward": ward,
            "form": form,
            "year": year,
            "types": [r for r in rows if r["group_type"] != ALL_TYPES],
            "total": next(r for r in rows if r["group_type"] == ALL_TYPES),
            "groups": selectors.group_figures(ward=ward, year=year),
            "province_link": grant is not None
            and not (grant.unit is not None and grant.unit.level == AdministrativeUnit.Level.WARD),
        },
    )
