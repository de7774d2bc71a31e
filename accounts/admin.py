"""Lifting a lockout: administrators see the locked-out logins of their scope and delete them.

Axes registers its own admin for superusers; here a province administrator (a staff user with
the administrator role) may also view and delete the access attempts of usernames that belong
to their province's users, and a global administrator all of them.
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import HttpRequest

from registry.access import grant_of
from registry.admin import NotFoundAdminMixin, acts_as_admin, is_global_admin


class ScopedAccessAttemptAdmin(NotFoundAdminMixin, AccessAttemptAdmin):
    # Not axes' "clean up expired attempts": it deletes the expired attempts of every username,
    # whoever asks, and fails outside a login request (it reads the login's attempt time). Axes
    # cleans them up at each login anyway; deleting the selected ones stays.
    actions = ()

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if is_global_admin(request.user):
            return queryset
        grant = grant_of(request.user)
        if grant is None or grant.unit is None:
            return queryset.none()
        province_id = grant.unit.province_id_for_scope
        users = get_user_model().objects.filter(
            Q(grant__unit_id=province_id) | Q(grant__unit__parent_id=province_id)
        )
        return queryset.filter(username__in=users.values("username"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return acts_as_admin(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return acts_as_admin(request.user) or super().has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return acts_as_admin(request.user) or super().has_delete_permission(request, obj)


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, ScopedAccessAttemptAdmin)
