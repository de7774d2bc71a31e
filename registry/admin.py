"""Django admin for the registry, scoped like every page.

Who gets in: Django's admin needs `is_staff`. Superusers see and may change everything.
A staff user with the administrator role (the `grant` command gives admins `is_staff`) sees the
registry within their grant — a province admin their province, a global admin everything —
without further Django permissions. Any other staff user gets only what Django's model
permissions give them, and still only the rows of their own scope.

What may be changed here: associations and their yearly membership, and (for superusers and
global administrators) role grants. Administrative units come from the official list
(`load_divisions`) and registry entities are written through the app's pages and imports, which
keep the shared entity row, its search text and the kind's row together; here they are read-only.
Big tables never render a select of their rows (autocomplete or a raw id instead) and skip
the full count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

from registry.access import grant_of, scope_q
from registry.models import (
    AdministrativeUnit,
    Association,
    AssociationMembership,
    Citizen,
    Clan,
    Community,
    Entity,
    Family,
    Grant,
    Role,
    Unit,
)
from registry.services.grants import ALLOWED_LEVELS, grant_role
from registry.text import fold

READ_ONLY_NOTE = _(
    "Read-only here: entries are changed on the registry pages and by spreadsheet import."
)


def acts_as_admin(user) -> bool:
    """A superuser, or an active staff user whose grant has the administrator role."""
    if not (user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    grant = grant_of(user)
    return grant is not None and grant.role == Role.ADMIN


def is_global_admin(user) -> bool:
    if user.is_superuser:
        return True
    grant = grant_of(user)
    return acts_as_admin(user) and grant is not None and grant.unit is None


def unit_scope_q(user, field: str = "") -> Q:
    """Rows whose unit (`field`; the row itself if empty) is the user's unit or in their province.

    A superuser and a global grant see every unit; no grant sees none.
    """
    grant = grant_of(user)
    if user.is_superuser or (grant is not None and grant.unit is None):
        return Q()
    if grant is None:
        return Q(pk__in=[])
    own = field or "pk"
    if grant.unit.level == AdministrativeUnit.Level.PROVINCE:
        parent = f"{field}__parent" if field else "parent"
        return Q(**{own: grant.unit_id}) | Q(**{parent: grant.unit_id})
    return Q(**{own: grant.unit_id})


def entity_scope_q(user, prefix: str = "") -> Q:
    """`scope_q` for rows reached through `prefix` (e.g. "entity__"); a superuser sees all."""
    if user.is_superuser:
        return Q()
    return scope_q(user, ward=f"{prefix}ward", province=f"{prefix}province")


class NotFoundAdminMixin:
    """An object outside the user's scope (or no object at all) is a 404, as on the pages; not
    Django's redirect to the admin index with a message that names the id it looked for."""

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts, object_id: str):
        raise Http404


class ScopedAdmin(NotFoundAdminMixin, admin.ModelAdmin):
    """Rows limited to the user's scope; administrators may view without model permissions."""

    def scope(self, user) -> Q:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(self.scope(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return acts_as_admin(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return acts_as_admin(request.user) or super().has_view_permission(request, obj)


class ReadOnlyAdmin(ScopedAdmin):
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        return super().changelist_view(
            request, extra_context={"subtitle": READ_ONLY_NOTE, **(extra_context or {})}
        )


class EditableAdmin(ScopedAdmin):
    """Administrators may change rows of their scope; choices of related rows are scoped too."""

    related_scopes: dict[str, Callable[[Any], QuerySet]] = {}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return acts_as_admin(request.user) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return acts_as_admin(request.user) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return acts_as_admin(request.user) or super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        scoped = self.related_scopes.get(db_field.name)
        if scoped is not None:
            kwargs["queryset"] = scoped(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ProvinceFilter(admin.SimpleListFilter):
    """Filter by province, listing only the provinces in the user's scope (34 at most)."""

    title = _("province")
    parameter_name = "province"
    field = "entity__province_id"

    def lookups(self, request, model_admin):
        provinces = AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.PROVINCE)
        grant = grant_of(request.user)
        if not request.user.is_superuser and grant is None:
            return []
        if not request.user.is_superuser and grant.unit is not None:
            provinces = provinces.filter(pk=grant.unit.province_id_for_scope)
        return [(str(p.pk), p.name) for p in provinces.order_by("code")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field: self.value()})
        return queryset


class EntityProvinceFilter(ProvinceFilter):
    field = "province_id"


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "level", "division_type", "parent", "valid_from", "valid_to")
    list_filter = ("level",)
    search_fields = ("code", "name", "codename")
    list_select_related = ("parent",)

    def scope(self, user) -> Q:
        return unit_scope_q(user)


class FoldedSearchMixin:
    """Admin search like the app's: diacritics-insensitive, every word must match."""

    search_fields = ("entity__search_text",)  # enables the search box and autocomplete
    search_text_path = "entity__search_text"

    def get_search_results(self, request, queryset, search_term):
        for token in fold(search_term).split():
            queryset = queryset.filter(**{f"{self.search_text_path}__contains": token})
        return queryset, False


class KindAdmin(FoldedSearchMixin, ReadOnlyAdmin):
    """A kind's rows (communities, families, …), read-only and scoped through their entity."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per filter value would scan millions of rows
    list_filter: tuple = (ProvinceFilter,)
    list_per_page = 50
    # Newest first: cheap on millions of rows, and deterministic for autocomplete's pages.
    ordering = ("-pk",)

    def scope(self, user) -> Q:
        return entity_scope_q(user, "entity__")

    @admin.display(description=_("code"), ordering="entity__code")
    def code(self, obj) -> str:
        return obj.entity.code

    @admin.display(description=_("name"), ordering="entity__name")
    def name(self, obj) -> str:
        return obj.entity.name

    @admin.display(description=_("commune/ward"), ordering="entity__ward__code")
    def ward(self, obj) -> str:
        return obj.entity.ward.name


@admin.register(Entity)
class EntityAdmin(FoldedSearchMixin, ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "ward", "updated_at")
    list_filter = ("kind", EntityProvinceFilter)
    list_select_related = ("ward",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-pk",)
    search_text_path = "search_text"
    search_fields = ("search_text",)

    def scope(self, user) -> Q:
        return entity_scope_q(user)


@admin.register(Community)
class CommunityAdmin(KindAdmin):
    list_display = ("code", "name", "area_type", "ward")
    list_filter = ("area_type", ProvinceFilter)
    list_select_related = ("entity__ward",)


@admin.register(Clan)
class ClanAdmin(KindAdmin):
    list_display = ("code", "name", "head_name", "ward")
    list_select_related = ("entity__ward",)


@admin.register(Family)
class FamilyAdmin(KindAdmin):
    list_display = ("code", "name", "members", "community", "clan", "ward")
    list_select_related = ("entity__ward", "community__entity", "clan__entity")


@admin.register(Unit)
class UnitAdmin(KindAdmin):
    list_display = ("code", "name", "unit_type", "staff", "ward")
    list_filter = ("unit_type", ProvinceFilter)
    list_select_related = ("entity__ward",)


@admin.register(Citizen)
class CitizenAdmin(KindAdmin):
    list_display = ("code", "name", "birth_year", "family", "unit", "ward")
    list_select_related = ("entity__ward", "family__entity", "unit__entity")


def _scoped_units(user) -> QuerySet:
    """Units in force in the user's scope: what an association or a grant may be attached to."""
    return AdministrativeUnit.objects.filter(unit_scope_q(user), valid_to__isnull=True)


def _scoped_associations(user) -> QuerySet:
    return Association.objects.filter(unit_scope_q(user, "admin_unit"))


def _scoped_kind(model):
    def queryset(user) -> QuerySet:
        return model.objects.select_related("entity").filter(entity_scope_q(user, "entity__"))

    return queryset


class AssociationMembershipInline(admin.TabularInline):
    """Yearly membership under its association: administrators may edit it like the parent."""

    model = AssociationMembership
    extra = 0

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return acts_as_admin(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return acts_as_admin(request.user) or super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return acts_as_admin(request.user) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return acts_as_admin(request.user) or super().has_delete_permission(request, obj)


@admin.register(Association)
class AssociationAdmin(EditableAdmin):
    list_display = ("name", "level", "admin_unit", "parent")
    list_filter = ("level",)
    search_fields = ("name", "admin_unit__name", "admin_unit__code")
    list_select_related = ("admin_unit", "parent")
    # A stable order: the autocomplete of parent associations pages through these rows.
    ordering = ("name", "pk")
    autocomplete_fields = ("admin_unit", "parent", "community", "unit")
    inlines = (AssociationMembershipInline,)
    related_scopes = {
        "admin_unit": _scoped_units,
        "parent": _scoped_associations,
        "community": _scoped_kind(Community),
        "unit": _scoped_kind(Unit),
    }

    def scope(self, user) -> Q:
        return unit_scope_q(user, "admin_unit")


@admin.register(AssociationMembership)
class AssociationMembershipAdmin(EditableAdmin):
    list_display = ("association", "year", "members")
    list_filter = ("year",)
    search_fields = ("association__name",)
    list_select_related = ("association",)
    autocomplete_fields = ("association",)
    related_scopes = {"association": _scoped_associations}

    def scope(self, user) -> Q:
        return unit_scope_q(user, "association__admin_unit")


class GrantForm(forms.ModelForm):
    """Checks what the `grant` service would refuse, so it shows next to the field."""

    class Meta:
        model = Grant
        fields = ("user", "role", "unit")

    def clean(self):
        data = super().clean()
        role, unit = data.get("role"), data.get("unit")
        if role and unit is None and role != Role.ADMIN:
            self.add_error("unit", _("This role needs a unit."))
        elif role and unit is not None and unit.level not in ALLOWED_LEVELS[role]:
            self.add_error("unit", _("This role cannot cover a unit of this level."))
        return data


@admin.register(Grant)
class GrantAdmin(EditableAdmin):
    """Role grants; saved through the `grant` service, which also keeps `is_staff` in step.

    Only superusers and global administrators change grants: a province administrator could
    otherwise widen their own.
    """

    form = GrantForm
    list_display = ("user", "role", "unit")
    list_filter = ("role",)
    search_fields = ("user__username", "unit__name", "unit__code")
    list_select_related = ("user", "unit")
    raw_id_fields = ("user",)
    autocomplete_fields = ("unit",)
    related_scopes = {"unit": _scoped_units}

    def scope(self, user) -> Q:
        return unit_scope_q(user, "unit")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_global_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_global_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_global_admin(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # A grant belongs to its user; giving someone else a role is a new grant.
        return ("user",) if obj is not None else ()

    def save_model(self, request, obj: Grant, form, change) -> None:
        result = grant_role(
            username=obj.user.get_username(),
            role=obj.role,
            unit_code=obj.unit.code if obj.unit else None,
        )
        obj.pk = result.grant.pk
