"""The city dashboard: province → commune/ward → residential area → its households.

Every figure comes from the roll-up summaries through `titles.selectors.rollup_rows` (and the
targets through `targets_for`), so a page runs the same few indexed queries for a province of
3 wards or of 126: nothing here counts registrations. Only the last step, a residential area's
households, reads detail rows, one page of 50 at a time.

Who sees what: a province user (dashboard viewer, province admin) opens the province page; a
global admin picks a province first; a ward user (staff, official) is sent to their ward's page.
A ward or area outside the user's scope is a 404, like every page of the product, and so is the
dashboard for a user without a role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import F, FilteredRelation, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import RFC3986_SUBDELIMS, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from registry import selectors as registry_selectors
from registry.access import grant_of
from registry.models import AdministrativeUnit, Kind, RollupLevel
from registry.paging import keyset_page
from titles import dashboard as figures
from titles import selectors
from titles.forms import current_year, year_field
from titles.models import Rollup, State
from titles.selectors_signoff import signed_off_wards

# What `reverse` leaves unquoted in an argument (django.urls.resolvers).
_SAFE = RFC3986_SUBDELIMS + "/~:@"
HOUSEHOLDS_PAGE_SIZE = 50
# The trend shows at most this many of the latest years with figures: each is one roll-up read.
TREND_YEARS = 10
# Titles a residential area's figures cover (its households, their citizens, the area itself).
AREA_KINDS = (Kind.FAMILY, Kind.CITIZEN, Kind.COMMUNITY)


class DashboardFilterForm(forms.Form):
    """The year and the title a dashboard page shows; bad values are shown and ignored."""

    year = year_field(required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Title"), choices=Kind.choices, required=False)


def _filters(request: HttpRequest) -> tuple[DashboardFilterForm, int, str]:
    """The form as submitted, with the defaults (this year, Learning Family) filled in so that
    it shows what the page shows; an invalid value is reported and its default used."""
    data = request.GET.copy()
    for name, default in (("year", current_year()), ("kind", Kind.FAMILY)):
        if not data.get(name):
            data[name] = default
    form = DashboardFilterForm(data)
    form.is_valid()
    cleaned = form.cleaned_data
    return form, cleaned.get("year") or current_year(), cleaned.get("kind") or Kind.FAMILY


def _url(name: str, *args: Any, **params: Any) -> str:
    query = urlencode({key: value for key, value in params.items() if value})
    return reverse(name, args=args) + (f"?{query}" if query else "")


# Stands for a row's unit in the one address `_row_urls` reverses: digits, so that it fits both
# a ward code's and an area id's part of the path.
_PLACEHOLDER = "9081726354"


def _row_urls(name: str, **params: Any) -> Callable[[Any], str]:
    """`_url(name, arg, **params)` for each row of a table, reversed once for the table: a ward's
    hundreds of residential areas each cost a string join, not a URL resolver walk."""
    head, tail = _url(name, _PLACEHOLDER, **params).split(_PLACEHOLDER)
    return lambda arg: f"{head}{quote(str(arg), safe=_SAFE)}{tail}"


def _ward_scoped(grant) -> bool:
    return grant.unit is not None and grant.unit.level == AdministrativeUnit.Level.WARD


def _unit(unit: AdministrativeUnit) -> dict[str, Any]:
    """A unit as `rollup_units` describes it, for `targets_for`."""
    province = unit.level == AdministrativeUnit.Level.PROVINCE
    return {
        "id": unit.pk,
        "code": unit.code,
        "name": unit.name,
        "ward_id": None if province else unit.pk,
        "province_id": unit.pk if province else unit.parent_id,
    }


def _targets_2030(unit: dict[str, Any], level: str) -> dict[str, tuple]:
    """The unit's targets for the plan year, by title (its own, else its ward's or province's)."""
    targets = selectors.targets_for(units=[unit], level=level, year=figures.PLAN_YEAR)
    return {str(kind): band for (_unit_id, kind), band in targets.items()}


def _province_url(request: HttpRequest, ward: AdministrativeUnit, *, year: int, kind: str) -> str:
    """The way back up to the ward's province page; none for a ward user (they have no other)."""
    grant = grant_of(request.user)
    if _ward_scoped(grant):
        return ""
    province = ward.parent.code if grant.unit is None else ""
    return _url("dashboard", year=year, kind=kind, province=province)


def _sorted(request: HttpRequest, rows: list[dict]) -> tuple[list[dict], list[dict]]:
    key, descending = figures.parse_sort(request.GET.get("sort"))
    return figures.sort_rows(rows, key, descending), figures.sort_headers(key, descending)


# --- the province page ------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The province's headline per title, its wards for one title, a chart and the trend."""
    user = request.user
    grant = grant_of(user)
    if grant is None:
        raise Http404
    form, year, kind = _filters(request)
    if _ward_scoped(grant):
        params = {key: request.GET.get(key) for key in ("year", "kind", "sort")}
        return redirect(_url("dashboard_ward", grant.unit.code, **params))
    province = _province(request, grant)
    if province is None:
        provinces = selectors.rollup_units(user=user, level=RollupLevel.PROVINCE)
        return render(request, "titles/dashboard/pick_province.html", {"provinces": provinces})

    code = province["code"]
    headline_rows = selectors.rollup_rows(
        user=user, year=year, level=RollupLevel.PROVINCE, unit_code=code
    )
    ward_rows = selectors.rollup_rows(
        user=user, year=year, level=RollupLevel.WARD, unit_code=code, kind=kind
    )
    ward_ids = {
        unit["code"]: unit["id"]
        for unit in selectors.rollup_units(user=user, level=RollupLevel.WARD, unit_code=code)
    }
    signoffs = signed_off_wards(province_id=province["id"], year=year)
    province_param = "" if grant.unit is not None else code
    ward_url = _row_urls("dashboard_ward", year=year, kind=kind)
    rows = [
        figures.display_row(
            row,
            href=ward_url(row["unit_code"]),
            signoff=signoffs.get(ward_ids.get(row["unit_code"])),
        )
        for row in ward_rows
    ]
    rows, headers = _sorted(request, rows)
    trend = _trend(request, province, year=year, rows_of_year=headline_rows)
    band = next(
        (
            (row["target_min"], row["target_max"])
            for row in headline_rows
            if row["kind"] == kind and row["target_min"] is not None
        ),
        None,
    )
    return render(
        request,
        "titles/dashboard/province.html",
        {
            "province": province,
            "province_param": province_param,
            "form": form,
            "year": year,
            "kind": kind,
            "kind_label": Kind(kind).label,
            "headlines": figures.headlines(
                headline_rows,
                year=year,
                targets_2030=_targets_2030(province, RollupLevel.PROVINCE),
            ),
            "plan_year": figures.PLAN_YEAR,
            "rows": rows,
            "headers": headers,
            "trend": trend,
            "band_text": figures.target_text({"target_min": band[0], "target_max": band[1]})
            if band
            else "",
            "chart_data": _chart_data(rows, band, trend),
        },
    )


def _province(request: HttpRequest, grant) -> dict[str, Any] | None:
    """The province the page shows: the user's own, or the one a global admin picked (`?province=`,
    404 outside the scope); None when a global admin has not picked one yet."""
    if grant.unit is not None:
        return _unit(grant.unit)
    code = (request.GET.get("province") or "").strip()
    if not code:
        return None
    units = selectors.rollup_units(user=request.user, level=RollupLevel.PROVINCE, unit_code=code)
    if not units:
        raise Http404
    return units[0]


def _years_with_figures(province_id: int) -> list[int]:
    """The latest TREND_YEARS years the province has roll-up rows for, oldest first (one query)."""
    years = (
        Rollup.objects.filter(level=RollupLevel.PROVINCE, unit_id=province_id)
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")[:TREND_YEARS]
    )
    return sorted(years)


def _trend(
    request: HttpRequest, province: dict[str, Any], *, year: int, rows_of_year: list[dict]
) -> dict[str, Any]:
    """The province's rate per title for each year with figures, read from the summaries."""
    years = _years_with_figures(province["id"])
    rates: dict[int, dict[str, Any]] = {}
    for each in years:
        rows = (
            rows_of_year
            if each == year
            else selectors.rollup_rows(
                user=request.user,
                year=each,
                level=RollupLevel.PROVINCE,
                unit_code=province["code"],
            )
        )
        rates[each] = {str(row["kind"]): row["rate"] for row in rows}
    series = [
        {"kind": kind, "label": label, "rates": [rates[each].get(kind) for each in years]}
        for kind, label in Kind.choices
        if any(rates[each].get(kind) is not None for each in years)
    ]
    # This year's figures still grow until its decisions are all issued.
    in_progress = current_year()
    table = [
        {
            "year": each,
            "in_progress": each == in_progress,
            "cells": [figures.percent_text(rates[each].get(s["kind"])) for s in series],
        }
        for each in years
    ]
    return {"years": years, "series": series, "table": table, "in_progress": in_progress}


def _chart_data(rows: list[dict], band: tuple | None, trend: dict[str, Any]) -> dict[str, Any]:
    """What static/js/dashboard.js draws, written into the page with `json_script`."""
    ranked = sorted((row for row in rows if row["rate"] is not None), key=lambda row: -row["rate"])
    return {
        "percent": figures.percent_pattern(),
        "wards": {
            "labels": [row["unit_name"] for row in ranked],
            "rates": [figures.as_float(row["rate"]) for row in ranked],
            "statuses": [row["status"] for row in ranked],
            "band": {"min": figures.as_float(band[0]), "max": figures.as_float(band[1])}
            if band
            else None,
            "rateLabel": _("Rate"),
        },
        "trend": {
            "years": [
                _("%(year)s (in progress)") % {"year": each}
                if each == trend["in_progress"]
                else str(each)
                for each in trend["years"]
            ],
            "inProgress": trend["years"].index(trend["in_progress"])
            if trend["in_progress"] in trend["years"]
            else None,
            "series": [
                {"label": str(s["label"]), "rates": [figures.as_float(r) for r in s["rates"]]}
                for s in trend["series"]
            ],
        },
    }


# --- a ward -----------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard_ward(request: HttpRequest, code: str) -> HttpResponse:
    """A commune/ward's headline per title and its residential areas for one title."""
    user = request.user
    ward = registry_selectors.ward_get(user=user, code=code)
    form, year, kind = _filters(request)
    headline_rows = selectors.rollup_rows(
        user=user, year=year, level=RollupLevel.WARD, unit_code=ward.code
    )
    area_rows = selectors.rollup_rows(
        user=user, year=year, level=RollupLevel.COMMUNITY, unit_code=ward.code, kind=kind
    )
    area_ids = {
        unit["code"]: unit["id"]
        for unit in selectors.rollup_units(
            user=user, level=RollupLevel.COMMUNITY, unit_code=ward.code
        )
    }
    area_url = _row_urls("dashboard_area", year=year, kind=kind)
    rows = [
        figures.display_row(row, href=area_url(area_ids[row["unit_code"]]))
        for row in area_rows
        if row["unit_code"] in area_ids
    ]
    rows, headers = _sorted(request, rows)
    return render(
        request,
        "titles/dashboard/ward.html",
        {
            "ward": ward,
            "form": form,
            "year": year,
            "kind": kind,
            "kind_label": Kind(kind).label,
            "area_kinds": AREA_KINDS,
            "headlines": figures.headlines(
                headline_rows,
                year=year,
                targets_2030=_targets_2030(_unit(ward), RollupLevel.WARD),
            ),
            "plan_year": figures.PLAN_YEAR,
            "signoff": signed_off_wards(province_id=ward.parent_id, year=year).get(ward.pk),
            "rows": rows,
            "headers": headers,
            "province_url": _province_url(request, ward, year=year, kind=kind),
        },
    )


# --- a residential area and its households ----------------------------------------------------


@login_required
@require_GET
def dashboard_area(request: HttpRequest, pk: int) -> HttpResponse:
    """A residential area's figures and its households with this year's registration."""
    user = request.user
    area = registry_selectors.entity_get(user=user, kind="communities", pk=pk)
    ward = area.entity.ward
    form, year, kind = _filters(request)
    del form.fields["kind"]  # the page shows every title; `kind` only travels back up
    area_code = f"{ward.code}/{area.entity.code}"
    area_rows = selectors.area_rollup_rows(
        user=user, year=year, ward_code=ward.code, area_code=area_code
    )
    unit = {
        "id": area.pk,
        "code": area_code,
        "name": area.entity.name,
        "ward_id": ward.pk,
        "province_id": ward.parent_id,
    }
    of_area = registry_selectors.entity_list(user=user, kind="families", community=area.pk)
    households = of_area.annotate(
        this_year=FilteredRelation(
            "entity__registrations", condition=Q(entity__registrations__year=year)
        ),
        registration_id=F("this_year__id"),
        registration_state=F("this_year__state"),
        registration_outstanding=F("this_year__outstanding"),
    )
    page = keyset_page(
        households,
        columns=registry_selectors.LIST_ORDER_COLUMNS,
        key=registry_selectors.list_order_key,
        cursor=request.GET.get("cursor"),
        size=HOUSEHOLDS_PAGE_SIZE,
    )
    for household in page.rows:
        state = household.registration_state
        household.state_label = State(state).label if state else ""
    return render(
        request,
        "titles/dashboard/area.html",
        {
            "area": area,
            "ward": ward,
            "form": form,
            "year": year,
            "kind": kind,
            "headlines": figures.headlines(
                area_rows,
                year=year,
                targets_2030=_targets_2030(unit, RollupLevel.COMMUNITY),
                kinds=AREA_KINDS,
            ),
            "plan_year": figures.PLAN_YEAR,
            "page": page,
            # One residential area's households: a count on the area's index stays small.
            "total": of_area.count(),
            "ward_url": _url("dashboard_ward", ward.code, year=year, kind=kind),
            "province_url": _province_url(request, ward, year=year, kind=kind),
        },
    )


urlpatterns = [
    path("dashboard/", dashboard, name="dashboard"),
    path("dashboard/ward/<str:code>/", dashboard_ward, name="dashboard_ward"),
    path("dashboard/area/<int:pk>/", dashboard_area, name="dashboard_area"),
]
