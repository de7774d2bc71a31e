from django.contrib import admin

from jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Read-only: jobs are written by their workers alone. Administrators see all jobs; a job's
    arguments and errors never hold more than its owner could see."""

    list_display = ["pk", "kind", "owner", "state", "done", "total", "created_at", "finished_at"]
    list_filter = ["state", "kind"]
    readonly_fields = [field.name for field in Job._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser
