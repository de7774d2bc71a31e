"""Django admin for the titles, scoped like the pages (see registry/admin.py for who gets in).

What may be changed here: registration windows, by administrators, for the provinces in their
scope. Criteria sets are loaded from their files (`load_criteria`), which validates them as a
whole; registrations, their history, overrides and decisions are written by the pages, imports
and the evaluation, which keep versions and history together. Here they are read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from registry.access import grant_of
from registry.admin import (
    EditableAdmin,
    FoldedSearchMixin,
    ReadOnlyAdmin,
    acts_as_admin,
    entity_scope_q,
    unit_scope_q,
)
from registry.models import AdministrativeUnit
from titles.models import (
    CriteriaSet,
    Decision,
    Override,
    Registration,
    RegistrationEvent,
    RegistrationWindow,
    Target,
)

CRITERIA_NOTE = _("Read-only here: criteria sets are loaded from their files with load_criteria.")


def province_scope_q(user, field: str = "province_id") -> Q:
    """Rows of the user's province (`field` holds the row's province id); all for global admins."""
    grant = grant_of(user)
    if user.is_superuser or (grant is not None and grant.unit is None):
        return Q()
    if grant is None:
        return Q(pk__in=[])
    return Q(**{field: grant.unit.province_id_for_scope})


def _scoped_provinces(user) -> QuerySet:
    """Provinces in force a window may be opened for."""
    return AdministrativeUnit.objects.filter(
        province_scope_q(user, "pk"), level=AdministrativeUnit.Level.PROVINCE, valid_to__isnull=True
    ).order_by("code")


@admin.register(CriteriaSet)
class CriteriaSetAdmin(ReadOnlyAdmin):
    """The national sets and the province's own, as loaded; changed only by loading a file."""

    list_display = ("code", "title", "name", "valid_from", "valid_to", "province", "loaded_at")
    list_filter = ("title",)
    search_fields = ("code", "name")
    list_select_related = ("province",)
    exclude = ("digest",)

    def scope(self, user) -> Q:
        grant = grant_of(user)
        if user.is_superuser or (grant is not None and grant.unit is None):
            return Q()
        return Q(province__isnull=True) | province_scope_q(user)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, extra_context={"subtitle": CRITERIA_NOTE, **(extra_context or {})}
        )


@admin.register(RegistrationWindow)
class RegistrationWindowAdmin(EditableAdmin):
    """When staff may register for a year in a province; administrators set it."""

    list_display = ("province", "year", "opens_on", "closes_on")
    list_filter = ("year",)
    list_select_related = ("province",)
    ordering = ("-year", "province__code")
    related_scopes = {"province": _scoped_provinces}

    def scope(self, user) -> Q:
        return province_scope_q(user)


class RegistrationScopedAdmin(ReadOnlyAdmin):
    """Rows of registrations in the user's scope, reached through `prefix`."""

    prefix = ""
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    ordering = ("-pk",)

    def scope(self, user) -> Q:
        return entity_scope_q(user, self.prefix)


@admin.register(Registration)
class RegistrationAdmin(FoldedSearchMixin, RegistrationScopedAdmin):
    list_display = ("entity", "kind", "year", "state", "points", "passed", "ward")
    list_filter = ("year", "kind", "state")
    list_select_related = ("entity", "ward")
    raw_id_fields = ("entity", "decision", "evaluation")


@admin.register(RegistrationEvent)
class RegistrationEventAdmin(FoldedSearchMixin, RegistrationScopedAdmin):
    prefix = "registration__"
    search_text_path = "registration__entity__search_text"
    search_fields = ("registration__entity__search_text",)
    list_display = ("at", "registration", "action", "from_state", "to_state", "user", "reason")
    list_filter = ("action",)
    list_select_related = ("registration__entity", "user")


@admin.register(Override)
class OverrideAdmin(FoldedSearchMixin, RegistrationScopedAdmin):
    prefix = "registration__"
    search_text_path = "registration__entity__search_text"
    search_fields = ("registration__entity__search_text",)
    list_display = ("at", "registration", "criterion", "met", "reason", "user", "superseded")
    list_filter = ("met", "superseded")
    list_select_related = ("registration__entity", "user")


@admin.register(Decision)
class DecisionAdmin(RegistrationScopedAdmin):
    list_display = ("number", "date", "year", "ward", "issued_by")
    list_filter = ("year",)
    search_fields = ("number",)
    list_select_related = ("ward", "issued_by")


def _scoped_target_units(user) -> QuerySet:
    """Units in force a target may be set for: the admin's province and its communes/wards."""
    return AdministrativeUnit.objects.filter(unit_scope_q(user), valid_to__isnull=True)


@admin.register(Target)
class TargetAdmin(EditableAdmin):
    """Plan targets of the provinces and communes/wards in the administrator's scope.

    Administrators only (no model permission lets anyone else in): a target decides every
    unit's status on the dashboards. Files of targets are loaded with `load_targets`.
    """

    list_display = ("unit", "kind", "year", "min_rate", "max_rate", "source")
    list_filter = ("kind", "year")
    search_fields = ("unit__code", "unit__name", "source")
    list_select_related = ("unit",)
    ordering = ("-year", "unit__code", "kind")
    autocomplete_fields = ("unit",)
    related_scopes = {"unit": _scoped_target_units}

    def scope(self, user) -> Q:
        return unit_scope_q(user, "unit")

    def has_module_permission(self, request) -> bool:
        return acts_as_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return acts_as_admin(request.user)

    def has_add_permission(self, request) -> bool:
        return acts_as_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return acts_as_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return acts_as_admin(request.user)
