"""The audit log in Django admin: read-only, scoped like the log page."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEntry
from audit.selectors import audit_scope_q, can_read_audit
from registry.admin import NotFoundAdminMixin


@admin.register(AuditEntry)
class AuditEntryAdmin(NotFoundAdminMixin, admin.ModelAdmin):
    list_display = ("at", "action", "username", "command", "content_type", "object_repr", "ip")
    list_filter = ("action", "content_type")
    search_fields = ("username", "object_repr", "object_id")
    date_hierarchy = "at"
    list_select_related = ("content_type",)
    show_full_result_count = False
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(audit_scope_q(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or (request.user.is_staff and can_read_audit(request.user))

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
