"""The programmes' pages: decorators → access (404 outside the scope, 403 for a role that may
only read) → form → one service call → redirect after POST.

The public page of a programme needs no login and shows no personal data: totals, items,
deliveries by school and month, and the donors who agreed to be named.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from programmes import access, selectors
from programmes.forms import (
    KIND_LABELS,
    BeneficiaryForm,
    ContributionForm,
    DashboardForm,
    DeliveryFilterForm,
    DeliveryForm,
    OrganiserForm,
    PeriodForm,
    ProgrammeFilterForm,
    ProgrammeForm,
    ProgrammeImportForm,
    RecordFilterForm,
)
from programmes.models import Programme
from programmes.services import imports, records
from programmes.statement import programme_statement
from registry import uploads
from registry.access import grant_of
from registry.models import AdministrativeUnit
from titles.forms import current_year

PAGE_SIZE = 50
SESSION_IMPORT_KEY = "programmes_import_pending"


def _service_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(
            field if field in form.fields and field != NON_FIELD_ERRORS else None, errors
        )


def _warnings_for(user, warnings) -> list[str]:
    """Each warning as the user may read it: with a child's code only for those who may see
    children's data of that ward."""
    grant = grant_of(user)
    children = access.can_see_children(user)
    ward_only = grant is not None and grant.unit is not None and not grant.unit.is_province
    return [
        w.shown_to(children=children and (not ward_only or w.ward == grant.unit.code))
        for w in warnings
    ]


def _record_form(
    request: HttpRequest,
    *,
    form,
    programme: Programme,
    obj,
    save: Callable[[dict], None],
    saved: str,
    list_url: str,
    title: str,
    ward: AdministrativeUnit | None = None,
) -> HttpResponse:
    """The one flow of a record's form (contribution, beneficiary, delivery): on a valid POST,
    `save(cleaned data)` calls the service (its ValidationError goes back onto the form), then
    the message `saved` and the programme's list `list_url`; otherwise the form (again)."""
    if request.method == "POST" and form.is_valid():
        try:
            save(dict(form.cleaned_data))
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, saved)
            return redirect(reverse(list_url) + f"?programme={programme.code}")
    return render(
        request,
        "programmes/record_form.html",
        {"form": form, "programme": programme, "obj": obj, "ward": ward, "title": title},
    )


# --- programmes ---------------------------------------------------------------------------------


@login_required
@require_GET
def programme_list(request: HttpRequest) -> HttpResponse:
    form = ProgrammeFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    rows = selectors.programme_list(user=request.user, q=data.get("q"), kind=data.get("kind"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    figures = selectors.programme_figures(programme_ids=[p.pk for p in page])
    return render(
        request,
        "programmes/programme_list.html",
        {
            "form": form,
            "page": page,
            "rows": [(p, figures[p.pk]) for p in page],
            "can_create": access.can_create_programme(request.user),
            "can_upload": any(imports.may_upload(request.user, k) for k in imports.KINDS),
        },
    )


def _provinces_for(user):
    grant = grant_of(user)
    provinces = AdministrativeUnit.objects.filter(
        level=AdministrativeUnit.Level.PROVINCE, valid_to__isnull=True
    ).order_by("code")
    if grant is not None and grant.unit is not None:
        provinces = provinces.filter(pk=grant.unit_id)
    return provinces


@login_required
@require_http_methods(["GET", "POST"])
def programme_create(request: HttpRequest) -> HttpResponse:
    access.require(access.can_create_programme(request.user))
    form = ProgrammeForm(
        request.POST if request.method == "POST" else None,
        provinces=_provinces_for(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        province = data.pop("province")
        try:
            programme = records.programme_save(province=province, **data)
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("Saved %(programme)s.") % {"programme": programme})
            return redirect("programme_detail", code=programme.code)
    return render(request, "programmes/programme_form.html", {"form": form, "obj": None})


@login_required
@require_http_methods(["GET", "POST"])
def programme_edit(request: HttpRequest, code: str) -> HttpResponse:
    programme = selectors.programme_get(user=request.user, code=code)
    access.require_manage(request.user, programme)
    form = ProgrammeForm(
        request.POST if request.method == "POST" else None,
        instance=programme,
        provinces=_provinces_for(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "code"}
        try:
            records.programme_save(province=programme.province, obj=programme, **data)
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("Saved %(programme)s.") % {"programme": programme})
            return redirect("programme_detail", code=programme.code)
    return render(request, "programmes/programme_form.html", {"form": form, "obj": programme})


@login_required
@require_GET
def programme_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    programme = selectors.programme_get(user=user, code=code)
    period = PeriodForm(request.GET)
    period.is_valid()
    data = period.cleaned_data if not period.errors else {}
    statement = programme_statement(
        programme=programme, date_from=data.get("date_from"), date_to=data.get("date_to")
    )
    months, schools = selectors.deliveries_by_school_month(programme=programme)
    is_admin = access.is_programme_admin(user, programme.province_id)
    return render(
        request,
        "programmes/programme_detail.html",
        {
            "programme": programme,
            "period": period,
            "statement": statement,
            "warnings": _warnings_for(user, statement.warnings),
            "months": months,
            "schools": schools,
            "wards": selectors.ward_rows(user=user, programme=programme),
            "can_manage": access.can_manage(user, programme),
            "can_record": access.can_record_any(user) or access.is_organiser(user, programme),
            "can_record_children": access.can_record_any(user),
            "is_admin": is_admin,
            "organisers": selectors.organisers(programme=programme) if is_admin else [],
            "organiser_form": OrganiserForm() if is_admin else None,
        },
    )


@login_required
@require_POST
def programme_organisers(request: HttpRequest, code: str) -> HttpResponse:
    """Add (`username`) or remove (`remove` = link id) an organiser account: province admins."""
    programme = selectors.programme_get(user=request.user, code=code)
    access.require(access.is_programme_admin(request.user, programme.province_id))
    if request.POST.get("remove"):
        try:
            pk = int(request.POST["remove"])
        except ValueError as exc:
            raise Http404 from exc
        records.organiser_remove(programme=programme, pk=pk)
        messages.success(request, _("The organiser was removed."))
        return redirect("programme_detail", code=programme.code)
    form = OrganiserForm(request.POST)
    if form.is_valid():
        try:
            records.organiser_add(programme=programme, username=form.cleaned_data["username"])
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                for error in errors:
                    messages.error(request, error)
        else:
            messages.success(request, _("The organiser was added."))
    else:
        messages.error(request, _("Give the account's username."))
    return redirect("programme_detail", code=programme.code)


@require_GET
def programme_public(request: HttpRequest, code: str) -> HttpResponse:
    """The public page: no login, printable, no personal data."""
    programme = selectors.programme_public(code=code)
    statement = programme_statement(programme=programme, warnings=False)
    months, schools = selectors.deliveries_by_school_month(programme=programme)
    return render(
        request,
        "programmes/programme_public.html",
        {
            "programme": programme,
            "statement": statement,
            "months": months,
            "schools": schools,
            "donors": selectors.public_donors(programme=programme),
            "page_url": request.build_absolute_uri(),
        },
    )


# --- contributions ------------------------------------------------------------------------------


@login_required
@require_GET
def contribution_list(request: HttpRequest) -> HttpResponse:
    form = RecordFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    programme = _filter_programme(request, data.get("programme"))
    rows = selectors.contribution_list(user=request.user, programme=programme, q=data.get("q"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "programmes/contribution_list.html",
        {"form": form, "page": page, "programme": programme},
    )


def _filter_programme(request: HttpRequest, code: str | None) -> Programme | None:
    return selectors.programme_get(user=request.user, code=code) if code else None


@login_required
@require_http_methods(["GET", "POST"])
def contribution_create(request: HttpRequest, code: str) -> HttpResponse:
    programme = selectors.programme_get(user=request.user, code=code)
    access.require_manage(request.user, programme)
    return _contribution_form(request, programme, None)


@login_required
@require_http_methods(["GET", "POST"])
def contribution_edit(request: HttpRequest, pk: int) -> HttpResponse:
    obj = selectors.contribution_get(user=request.user, pk=pk)
    access.require_manage(request.user, obj.programme)
    return _contribution_form(request, obj.programme, obj)


def _contribution_form(request, programme, obj) -> HttpResponse:
    form = ContributionForm(request.POST if request.method == "POST" else None, instance=obj)

    def save(data: dict) -> None:
        records.contribution_save(programme=programme, obj=obj, **data)

    return _record_form(
        request,
        form=form,
        programme=programme,
        obj=obj,
        save=save,
        saved=_("The contribution was saved."),
        list_url="contribution_list",
        title=_("Contribution") if obj else _("New contribution"),
    )


# --- beneficiaries ------------------------------------------------------------------------------


@login_required
@require_GET
def beneficiary_list(request: HttpRequest) -> HttpResponse:
    access.require(access.can_see_children(request.user))
    form = RecordFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    programme = _filter_programme(request, data.get("programme"))
    rows = selectors.beneficiary_list(
        user=request.user, programme=programme, ward_code=data.get("ward"), q=data.get("q")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "programmes/beneficiary_list.html",
        {"form": form, "page": page, "programme": programme},
    )


@login_required
@require_http_methods(["GET", "POST"])
def beneficiary_create(request: HttpRequest, code: str) -> HttpResponse:
    """A new child: `?ward=` names the commune/ward (asked for when the user has several)."""
    access.require(access.can_record_any(request.user))
    programme = selectors.programme_get(user=request.user, code=code)
    wards = selectors.wards_for_entry(user=request.user, programme=programme, organisers=False)
    ward = _entry_ward(request, wards)
    if ward is None:
        return _ward_pick(request, programme, wards, _("New beneficiary"))
    return _beneficiary_form(request, programme, None, ward)


@login_required
@require_http_methods(["GET", "POST"])
def beneficiary_edit(request: HttpRequest, pk: int) -> HttpResponse:
    access.require(access.can_see_children(request.user))
    obj = selectors.beneficiary_get(user=request.user, pk=pk)
    access.require(access.can_record_in_ward(request.user, obj.ward))
    return _beneficiary_form(request, obj.programme, obj, obj.ward)


def _entry_ward(request: HttpRequest, wards) -> AdministrativeUnit | None:
    """The ward a new record goes in: `?ward=` (404 if not one of `wards`), or the only one;
    None when the user has several to choose from."""
    code = request.GET.get("ward")
    if code:
        ward = wards.filter(code=code).first()
        if ward is None:
            raise Http404
        return ward
    first_two = list(wards[:2])
    if not first_two:
        raise Http404
    return first_two[0] if len(first_two) == 1 else None


def _ward_pick(request, programme, wards, title) -> HttpResponse:
    return render(
        request,
        "programmes/ward_pick.html",
        {"programme": programme, "wards": wards, "title": title},
    )


def _beneficiary_form(request, programme, obj, ward) -> HttpResponse:
    form = BeneficiaryForm(
        request.POST if request.method == "POST" else None,
        instance=obj,
        wards=AdministrativeUnit.objects.filter(pk=ward.pk),
    )

    def save(data: dict) -> None:
        school = data.pop("school")
        if obj is not None:
            data.pop("code", None)
        records.beneficiary_save(programme=programme, school=school, obj=obj, **data)

    return _record_form(
        request,
        form=form,
        programme=programme,
        obj=obj,
        ward=ward,
        save=save,
        saved=_("The beneficiary was saved."),
        list_url="beneficiary_list",
        title=_("Beneficiary") if obj else _("New beneficiary"),
    )


# --- deliveries ---------------------------------------------------------------------------------


@login_required
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    form = DeliveryFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    programme = _filter_programme(request, data.get("programme"))
    rows = selectors.delivery_list(
        user=request.user,
        programme=programme,
        ward_code=data.get("ward"),
        kind=data.get("kind"),
        q=data.get("q"),
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "programmes/delivery_list.html",
        {
            "form": form,
            "page": page,
            "programme": programme,
            "show_children": access.can_see_children(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def delivery_create(request: HttpRequest, code: str) -> HttpResponse:
    """A new delivery: `?ward=` names the commune/ward (asked for when the user has several)."""
    access.require(access.can_record_any(request.user) or access.organises_any(request.user))
    programme = selectors.programme_get(user=request.user, code=code)
    wards = selectors.wards_for_entry(user=request.user, programme=programme)
    if not wards.exists():
        raise PermissionDenied
    ward = _entry_ward(request, wards)
    if ward is None:
        return _ward_pick(request, programme, wards, _("New delivery"))
    return _delivery_form(request, programme, None, ward)


@login_required
@require_http_methods(["GET", "POST"])
def delivery_edit(request: HttpRequest, pk: int) -> HttpResponse:
    obj = selectors.delivery_get(user=request.user, pk=pk)
    access.require(access.can_record_delivery(request.user, obj.programme, obj.ward))
    return _delivery_form(request, obj.programme, obj, obj.ward)


def _delivery_form(request, programme, obj, ward) -> HttpResponse:
    form = DeliveryForm(
        request.POST if request.method == "POST" else None,
        instance=obj,
        wards=AdministrativeUnit.objects.filter(pk=ward.pk),
        programme=programme,
    )

    def save(data: dict) -> None:
        school, beneficiary = data.pop("school"), data.pop("beneficiary")
        data.pop("beneficiary_code", None)
        records.delivery_save(
            programme=programme, school=school, beneficiary=beneficiary, obj=obj, **data
        )

    return _record_form(
        request,
        form=form,
        programme=programme,
        obj=obj,
        ward=ward,
        save=save,
        saved=_("The delivery was saved."),
        list_url="delivery_list",
        title=_("Delivery") if obj else _("New delivery"),
    )


# --- import -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def programmes_import(request: HttpRequest) -> HttpResponse:
    """Upload → dry run and report → confirm → the real import, all-or-nothing (`uploads`)."""
    access.require(any(imports.may_upload(request.user, k) for k in imports.KINDS))
    step = uploads.posted_step(request)
    if step == uploads.CONFIRM:
        upload = uploads.take_confirmed(request, session_key=SESSION_IMPORT_KEY)
        if upload is None:
            return redirect("programmes_import")
        return _import(request, upload, dry_run=False)
    form = ProgrammeImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if not form.is_valid():
        return render(request, "programmes/import.html", {"form": form})
    return _import(request, uploads.upload_of(form), dry_run=step != uploads.IMPORT)


def _import(request: HttpRequest, upload: uploads.Upload, *, dry_run: bool) -> HttpResponse:
    kind = upload.params["kind"]
    if not imports.may_upload(request.user, kind):
        raise PermissionDenied
    report = imports.programmes_import(
        file=io.BytesIO(upload.data),
        filename=upload.filename,
        kind=kind,
        dry_run=dry_run,
        user=request.user,
    )
    if report.ok and not dry_run:
        uploads.message_imported(request, report)
        return redirect("programme_list")
    form = ProgrammeImportForm(initial={"kind": kind})
    return render(
        request,
        "programmes/import.html",
        {
            "form": form,
            "report": report,
            "filename": upload.filename,
            "kind_label": KIND_LABELS[kind],
            **uploads.offer_confirmation(
                request,
                upload,
                report=report,
                session_key=SESSION_IMPORT_KEY,
                max_bytes=uploads.SESSION_MAX_BYTES,
                reupload_form=form,
            ),
        },
    )


# --- dashboard ----------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The Programmes tab: the province's programmes (`?province=` for a global administrator);
    a ward user sees their ward's figures. Drill down to a programme's wards and schools."""
    grant = grant_of(request.user)
    if grant is None:
        raise Http404
    data = request.GET.copy()
    if not data.get("year"):
        data["year"] = str(current_year())
    form = DashboardForm(data)
    year = (form.cleaned_data.get("year") if form.is_valid() else None) or current_year()
    ward = None
    if grant.unit is None:
        code = request.GET.get("province")
        province = None
        if code:
            province = AdministrativeUnit.objects.filter(
                level=AdministrativeUnit.Level.PROVINCE, code=code, valid_to__isnull=True
            ).first()
            if province is None:
                raise Http404
        if province is None:
            provinces = AdministrativeUnit.objects.filter(
                level=AdministrativeUnit.Level.PROVINCE, valid_to__isnull=True
            ).order_by("code")
            return render(
                request,
                "programmes/dashboard.html",
                {"provinces": provinces, "form": form, "year": year},
            )
    elif grant.unit.is_province:
        province = grant.unit
    else:
        ward, province = grant.unit, grant.unit.parent
    rows = selectors.dashboard_rows(user=request.user, province=province, ward=ward, year=year)
    totals = {
        key: sum(row[key] for row in rows)
        for key in ("raised_vnd", "spent_vnd", "balance_vnd", "meal_days", "beneficiaries")
    }
    return render(
        request,
        "programmes/dashboard.html",
        {
            "province": province,
            "ward": ward,
            "rows": rows,
            "totals": totals,
            "form": form,
            "year": year,
            "province_param": request.GET.get("province", ""),
        },
    )


@login_required
@require_GET
def dashboard_ward(request: HttpRequest, code: str, ward: str) -> HttpResponse:
    """A programme's figures at the schools of one ward."""
    programme = selectors.programme_get(user=request.user, code=code)
    unit = (
        AdministrativeUnit.objects.filter(
            level=AdministrativeUnit.Level.WARD, code=ward, parent_id=programme.province_id
        )
        .filter(_ward_scope(request.user, programme))
        .first()
    )
    if unit is None:
        raise Http404
    return render(
        request,
        "programmes/dashboard_ward.html",
        {
            "programme": programme,
            "ward": unit,
            "schools": selectors.school_rows(programme=programme, ward=unit),
            "months_schools": selectors.deliveries_by_school_month(
                programme=programme, ward_ids={unit.pk}
            ),
        },
    )


def _ward_scope(user, programme):
    from django.db.models import Q

    grant = grant_of(user)
    if grant.unit is None or grant.unit.is_province or access.can_manage(user, programme):
        return Q()
    return Q(pk=grant.unit_id)
