"""Reports for download: the workbook and the roll-up CSV of a province or commune/ward and year.

Every role reads reports within its scope (a viewer: the province and its wards; staff and
officials: their own ward). A user without a role, or a unit outside the scope, gets 404;
missing or malformed parameters get 400 with the form and its messages.

The choosing page's form POSTs: that starts a background job (`titles.jobs.report`) and sends
the user to its progress page, which offers the file when it is ready, so a province's report
never holds a request. A GET with the same parameters answers the file at once (for scripts and
bookmarked links of a commune/ward).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from jobs import services as jobs
from registry.access import grant_of
from registry.forms import WARD_SELECT_MAX
from registry.models import RollupLevel
from titles import reports
from titles.jobs import REPORT, XLSX_TYPE, report_filename
from titles.review_forms import YEAR_MAX, YEAR_MIN, current_year

FORMATS = [("xlsx", gettext_lazy("Excel workbook (.xlsx)")), ("csv", gettext_lazy("CSV (.csv)"))]
LEVELS = [
    (RollupLevel.WARD.value, gettext_lazy("One row per commune/ward")),
    (RollupLevel.COMMUNITY.value, gettext_lazy("One row per residential area")),
    (RollupLevel.PROVINCE.value, gettext_lazy("One row per province")),
]


class ReportForm(forms.Form):
    """Which report: a unit (by code), a year, a format, and for CSV the level of its rows.

    Whether the unit is in the user's scope is not a form question: the view answers 404.
    """

    unit = forms.CharField(
        label=gettext_lazy("Province or commune/ward"),
        max_length=10,
        error_messages={"required": gettext_lazy("Choose a province or commune/ward.")},
    )
    year = forms.IntegerField(
        label=gettext_lazy("Year"),
        min_value=YEAR_MIN,
        max_value=YEAR_MAX,
        error_messages={"required": gettext_lazy("Enter the year of the report.")},
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Format"), choices=FORMATS, required=False, initial="xlsx"
    )
    level = forms.ChoiceField(
        label=gettext_lazy("CSV rows"),
        choices=LEVELS,
        required=False,
        initial=RollupLevel.WARD.value,
        help_text=gettext_lazy("For CSV only; the workbook always has the form's layout."),
    )

    def __init__(self, *args: Any, units: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if units is None:
            return
        if len(units) > WARD_SELECT_MAX:
            self.fields["unit"].widget = forms.TextInput(
                attrs={"placeholder": _("Province or commune/ward code"), "inputmode": "numeric"}
            )
        else:
            self.fields["unit"].widget = forms.Select(choices=units)


def _choose(request: HttpRequest, form: ReportForm, *, status: int = 200) -> HttpResponse:
    return render(request, "titles/reports/choose.html", {"form": form}, status=status)


def _units(request: HttpRequest) -> list[tuple[str, str]]:
    return reports.report_unit_choices(user=request.user, limit=WARD_SELECT_MAX)


def _bad_request(request: HttpRequest, errors: dict[str, str] | None = None) -> HttpResponse:
    """The choosing page again, with the request's values and what is wrong with them."""
    form = ReportForm(request.POST or request.GET, units=_units(request))
    form.is_valid()
    for field, message in (errors or {}).items():
        form.add_error(field, message)
    return _choose(request, form, status=400)


@login_required
@require_GET
def reports_choose(request: HttpRequest) -> HttpResponse:
    """The page to choose a report: unit, year and format; its form submits to the download."""
    grant = grant_of(request.user)
    if grant is None:
        return render(request, "registry/no_role.html")
    units = _units(request)
    initial = {"year": current_year(), "format": "xlsx", "level": RollupLevel.WARD.value}
    if grant.unit is not None:
        initial["unit"] = grant.unit.code
    return _choose(request, ReportForm(initial=initial, units=units))


@login_required
@require_http_methods(["GET", "POST"])
def report_download(request: HttpRequest) -> HttpResponse:
    """POST: start the report as a job and show its page. GET ?unit=<code>&year=<year>
    &format=xlsx|csv[&level=ward|community|province]: the file itself."""
    if grant_of(request.user) is None:
        raise Http404
    form = ReportForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return _bad_request(request)
    data = form.cleaned_data
    unit = reports.report_unit(user=request.user, unit_code=data["unit"])
    year = data["year"]
    file_format = data["format"] or "xlsx"
    level = data["level"] or RollupLevel.WARD.value
    if file_format == "csv" and level not in reports.levels_under(unit):
        return _bad_request(request, {"level": _("A commune/ward report cannot list provinces.")})
    if request.method == "POST":
        job = jobs.start(
            kind=REPORT,
            user=request.user,
            args={"unit_code": unit.code, "year": year, "file_format": file_format, "level": level},
            scope_id=unit.id,
        )
        return redirect("job_status", pk=job.pk)
    if file_format == "csv":
        chunks = reports.report_csv_chunks(
            user=request.user, unit_code=unit.code, year=year, level=level
        )
        response = StreamingHttpResponse(
            (chunk.encode("utf-8") for chunk in chunks), content_type="text/csv; charset=utf-8"
        )
    else:
        content = reports.report_workbook(user=request.user, unit_code=unit.code, year=year)
        response = HttpResponse(content, content_type=XLSX_TYPE)
    filename = report_filename(unit_code=unit.code, year=year, file_format=file_format, level=level)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


urlpatterns = [
    path("reports/", report_download, name="report_download"),
    path("reports/choose/", reports_choose, name="reports"),
]
