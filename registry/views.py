"""The registry pages: overview, lists, detail, entry forms and the spreadsheet import.

Every view reads the same way: decorators → access (a selector that raises Http404 outside the
user's scope; `require_registry_edit` for writes, 403 for read-only roles) → form → one service
call → redirect after POST with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from registry import hooks, selectors, uploads
from registry.access import grant_of, require_registry_edit
from registry.forms import (
    ENTITY_FORMS,
    EntityForm,
    ImportForm,
    ListFilterForm,
    WardPickForm,
    import_kind_choices,
    kind_label,
    kind_name,
)
from registry.imports.kinds import registered_kind, registered_kinds
from registry.imports.templates import template_header
from registry.jobs import IMPORT
from registry.models import AdministrativeUnit
from registry.paging import keyset_page
from registry.services import entities as entity_services

LIST_PAGE_SIZE = 50
_COUNT_KEYS = (*selectors.KIND_SLUGS, "members")
WARDS_PAGE_SIZE = 150


def _kind_context(kind: str) -> dict:
    return {
        "kind": kind,
        "kind_label": kind_label(kind),
        "kind_name": kind_name(kind),
    }


# --- overview ---------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """A ward user's ward; a province viewer's or an administrator's table of wards."""
    grant = grant_of(request.user)
    if grant is None:
        return render(request, "registry/no_role.html")
    if grant.unit is not None and grant.unit.level == AdministrativeUnit.Level.WARD:
        return _render_ward(request, grant.unit)
    page = Paginator(selectors.wards_in_scope(user=request.user), WARDS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = selectors.wards_with_counts(user=request.user, wards=list(page))
    if page.paginator.num_pages == 1:
        totals = {key: sum(counts[key] for _ward, counts in rows) for key in _COUNT_KEYS}
    else:
        totals = selectors.scope_counts(user=request.user)
    return render(
        request,
        "registry/overview.html",
        {
            "scope_unit": grant.unit,
            "totals": totals,
            "kinds": _count_cards(totals),
            "page": page,
            "rows": rows,
        },
    )


@login_required
@require_GET
def ward_overview(request: HttpRequest, code: str) -> HttpResponse:
    return _render_ward(request, selectors.ward_get(user=request.user, code=code))


def _render_ward(request: HttpRequest, ward: AdministrativeUnit) -> HttpResponse:
    counts = selectors.ward_counts(user=request.user, ward=ward)
    return render(
        request,
        "registry/overview.html",
        {
            "ward": ward,
            "totals": counts,
            "kinds": _count_cards(counts),
            "formed_from": selectors.ward_formed_from(ward=ward),
        },
    )


@login_required
@require_GET
def ward_before_2025(request: HttpRequest, code: str) -> HttpResponse:
    """A commune before 1 July 2025: where it was and which current wards it went into."""
    unit, went_into = selectors.ward_before_2025_get(user=request.user, code=code)
    return render(request, "registry/ward_before_2025.html", {"unit": unit, "went_into": went_into})


def _count_cards(counts: dict) -> list[dict]:
    return [
        {
            "slug": slug,
            "label": kind_label(slug),
            "name": kind_name(slug),
            "count": counts[slug],
        }
        for slug in selectors.KIND_SLUGS
    ]


# --- lists and detail -------------------------------------------------------------------------


@login_required
@require_GET
def entity_list(request: HttpRequest, kind: str) -> HttpResponse:
    user = request.user
    form = ListFilterForm(request.GET, kind=kind, wards=selectors.wards_for_filter(user=user))
    form.is_valid()  # invalid values are shown as errors and left out of the query
    data = form.cleaned_data
    filters = {name: data.get(name) for name in selectors.LIST_FILTERS[kind]}
    ward_code = data.get("ward") or None
    try:
        rows = selectors.entity_list(
            user=user, kind=kind, q=data.get("q"), ward_code=ward_code, **filters
        )
    except selectors.SearchTooBroad:
        form.add_error("q", selectors.SEARCH_TOO_BROAD)
        rows = selectors.entity_list(user=user, kind=kind, ward_code=ward_code, **filters).none()
    # The entities a list is narrowed to ("families of clan X"), named on the page; one
    # outside the scope is a 404 like any other way of asking for it.
    narrowed_to = [
        selectors.entity_get(user=user, kind=related_kind, pk=filters[name])
        for name, related_kind in selectors.LIST_FILTERS[kind].items()
        if related_kind is not None and filters[name]
    ]
    page = keyset_page(
        rows,
        columns=selectors.LIST_ORDER_COLUMNS,
        key=selectors.list_order_key,
        cursor=request.GET.get("cursor"),
        size=LIST_PAGE_SIZE,
    )
    searched = bool(data.get("q")) or any(value not in (None, "") for value in filters.values())
    return render(
        request,
        "registry/entity_list.html",
        {
            **_kind_context(kind),
            "form": form,
            "page": page,
            # The whole list's size from the tallies (a search or filter has none: counting it
            # would read everything it matches).
            "total": None
            if searched
            else selectors.entity_total(user=user, kind=kind, ward_code=ward_code),
            "narrowed_to": narrowed_to,
            "show_ward": form.many_wards,
            "ward_code": data.get("ward") or "",
            "table_template": f"registry/kinds/{kind}_table.html",
        },
    )


@login_required
@require_GET
def entity_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    obj = selectors.entity_get(user=request.user, kind=kind, pk=pk)
    related = selectors.entity_related(user=request.user, kind=kind, obj=obj)
    return render(
        request,
        "registry/entity_detail.html",
        {
            **_kind_context(kind),
            "obj": obj,
            "related": related,
            "related_label": kind_label(related.kind) if related else "",
            "detail_template": f"registry/kinds/{kind}_detail.html",
            "related_template": f"registry/kinds/{related.kind}_table.html" if related else "",
            "panels": hooks.entity_detail_panels(request=request, kind=kind, obj=obj),
        },
    )


# --- entry ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def entity_create(request: HttpRequest, kind: str) -> HttpResponse:
    """New entity. A user covering several wards first picks the ward (`?ward=` in the URL);
    `?family=<household code>` fills in a new citizen's household."""
    require_registry_edit(request.user)
    ward = entry_ward(request)
    if ward is None:
        wards = selectors.wards_for_entry(user=request.user)
        return render(
            request,
            "registry/ward_pick.html",
            {**_kind_context(kind), "form": WardPickForm(wards=wards)},
        )
    # "Add a citizen" on a household's page opens the form with the household filled in.
    household = request.GET.get("family", "") if kind == "citizens" else ""
    form = ENTITY_FORMS[kind](
        request.POST if request.method == "POST" else None,
        user=request.user,
        ward=ward,
        initial={"family": household} if household else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            obj = entity_services.entity_create(
                kind=selectors.KIND_SLUGS[kind], ward=ward, **form.service_kwargs()
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved %(entity)s.") % {"entity": obj.entity})
            if household and obj.family is not None:  # back to the household it was added to
                return redirect("entity_detail", kind="families", pk=obj.family.pk)
            return redirect("entity_detail", kind=kind, pk=obj.pk)
    return render(
        request,
        "registry/entity_form.html",
        {**_kind_context(kind), "form": form, "ward": ward, "obj": None},
    )


def entry_ward(request: HttpRequest) -> AdministrativeUnit | None:
    """The ward a new entity (or a registration) goes in: the user's only one, or `?ward=` (404
    if not theirs); None when the user covers several and has to pick one."""
    wards = selectors.wards_for_entry(user=request.user)
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


@login_required
@require_http_methods(["GET", "POST"])
def entity_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    obj = selectors.entity_get(user=request.user, kind=kind, pk=pk)
    require_registry_edit(request.user)
    form = ENTITY_FORMS[kind](
        request.POST if request.method == "POST" else None,
        user=request.user,
        ward=obj.entity.ward,
        instance=obj,
    )
    if request.method == "POST" and form.is_valid():
        try:
            entity_services.entity_update(obj=obj, **form.service_kwargs())
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved %(entity)s.") % {"entity": obj.entity})
            return redirect("entity_detail", kind=kind, pk=obj.pk)
    return render(
        request,
        "registry/entity_form.html",
        {**_kind_context(kind), "form": form, "ward": obj.entity.ward, "obj": obj},
    )


# The kinds a form chooses by typing (a household's residential area and clan).
SEARCHABLE_KINDS = ("communities", "clans")
SEARCH_MAX_CHARS = 100


@login_required
@require_GET
def entity_search(request: HttpRequest, kind: str) -> JsonResponse:
    """GET ?ward=<code>&q=<text>: {"results": [{"code", "name"}, …]}, the ward's entities of
    `kind` that the text matches (at most ten). A ward outside the user's scope is a 404."""
    if kind not in SEARCHABLE_KINDS:
        raise Http404
    ward = selectors.ward_get(user=request.user, code=request.GET.get("ward", ""))
    results = selectors.entity_suggestions(
        user=request.user, kind=kind, ward=ward, q=request.GET.get("q", "")[:SEARCH_MAX_CHARS]
    )
    return JsonResponse({"results": results})


def _add_service_errors(form: EntityForm, exc: ValidationError) -> None:
    """Show what the service refused next to the field it concerns."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        duplicate = any(e.code in ("unique", "unique_together") for e in errors)
        if field == NON_FIELD_ERRORS and duplicate and "code" in form.fields:
            form.add_error(
                "code",
                _("%(ward)s already has a %(kind)s with code %(code)s.")
                % {
                    "ward": form.ward.name,
                    "kind": kind_name(form.kind),
                    "code": form.cleaned_data["code"],
                },
            )
            continue
        target = form.name_field if field == "name" else field
        form.add_error(target if target in form.fields else None, errors)


# --- import -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def registry_import(request: HttpRequest) -> HttpResponse:
    """Upload → dry run and report → confirm → the real import, all-or-nothing; both steps run
    as background jobs (`registry.jobs`) and the page answers with the job's page at once."""
    require_registry_edit(request.user)
    if uploads.posted_step(request) == uploads.CONFIRM:
        job = uploads.start_confirmed(request, job_kind=IMPORT)
        return redirect("job_status", job.pk) if job else redirect("registry_import")
    form = ImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if not form.is_valid():
        return render(
            request, "registry/import.html", {"form": form, **_templates(), **_other_kinds()}
        )
    job = uploads.start_check(request, uploads.upload_of(form), job_kind=IMPORT)
    return redirect("job_status", job.pk)


def _templates() -> dict:
    """The upload page's template links, (kind name, label) for each kind it takes in the
    select's order, and the help's columns of each kind: (header the template writes, contract
    name, required) for every column."""
    templates = []
    columns_help = []
    for slug, label in import_kind_choices():
        registered = registered_kind(slug)
        if registered is None or registered.spec is None:
            continue
        templates.append((slug, label))
        columns_help.append(
            {
                "label": label,
                "columns": [
                    (template_header(column), column.name, column.required)
                    for column in registered.spec.columns
                ],
            }
        )
    return {"templates": templates, "columns_help": columns_help}


@login_required
@require_GET
def registry_import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """The template workbook of one kind of file the upload page takes (404 for another)."""
    require_registry_edit(request.user)
    registered = registered_kind(kind)
    if registered is None or registered.spec is None:
        raise Http404
    with translation.override("vi"):
        title = str(kind_label(kind) if kind in selectors.KIND_SLUGS else registered.label)
    return uploads.template_download(request, registered.spec, title=title)


def _other_kinds() -> dict:
    """The kinds of file the apps above the registry added without column specs, for the
    page's list of columns (a kind with specs is listed from them, `_templates`)."""
    return {"other_kinds": [k for k in registered_kinds() if k.columns and k.spec is None]}
