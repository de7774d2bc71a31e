"""Django admin for the groups and their activities, scoped like the pages (see registry/admin.py
for who gets in): an administrator sees the rows of their province, a global administrator
every row; a row outside the scope is a 404.

Read-only here: groups, members and activities are written through the pages and the imports,
which keep a group's search text, its activities' references and the ward's summaries (figures,
reach) exact in the same transaction.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from community.models import Activity, Group, Member
from registry.admin import FoldedSearchMixin, ReadOnlyAdmin, entity_scope_q

READ_ONLY_NOTE = _(
    "Read-only here: groups, members and activities are changed on the groups' pages and by "
    "spreadsheet import."
)


class CommunityAdmin(ReadOnlyAdmin):
    """Rows of the wards in the user's scope (each row carries its ward and province)."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    ordering = ("-pk",)

    def scope(self, user) -> Q:
        return entity_scope_q(user)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, extra_context={"subtitle": READ_ONLY_NOTE, **(extra_context or {})}
        )


@admin.register(Group)
class GroupAdmin(FoldedSearchMixin, CommunityAdmin):
    search_fields = ("search_text",)
    search_text_path = "search_text"
    list_display = ("code", "name", "group_type", "ward", "founded")
    list_filter = ("group_type",)
    list_select_related = ("ward",)
    exclude = ("search_text", "sort_key")


@admin.register(Member)
class MemberAdmin(CommunityAdmin):
    search_fields = ("code", "full_name")
    list_display = ("code", "full_name", "group", "role", "joined", "left", "ward")
    list_select_related = ("group", "ward")
    exclude = ("sort_key",)


@admin.register(Activity)
class ActivityAdmin(CommunityAdmin):
    search_fields = ("ref",)
    list_display = ("ref", "date", "group", "activity_type", "participants", "people_helped")
    list_filter = ("year", "activity_type")
    list_select_related = ("group",)
    exclude = ("citizens",)  # the citizens helped are shown on the activity's page, to staff
