"""What the community app adds to the pages it shares with the registry and the titles: its
kinds of file (`import_registry --kind groups|members|activities` and the upload page), the
dashboard's "Groups and digital literacy" tab and the Excel report's sheet. Called from
`CommunityConfig.ready`."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from registry.imports.kinds import RegisteredKind, register_kind
from registry.sections import DashboardTab, register_dashboard_tab, register_report_sheets

LABELS = {
    "groups": _("groups and clubs"),
    "members": _("group members"),
    "activities": _("group activities"),
}


def register_sections() -> None:
    from community.services.imports import COLUMNS_HELP, IMPORT_KINDS, KINDS, community_import

    for kind in KINDS:
        register_kind(
            RegisteredKind(
                name=kind,
                label=LABELS[kind],
                run=lambda *, _kind=kind, **kwargs: community_import(kind=_kind, **kwargs),
                done_url=lambda: reverse("group_list"),
                columns=COLUMNS_HELP[kind],
                spec=IMPORT_KINDS[kind],
            )
        )
    register_dashboard_tab(
        DashboardTab(
            key="groups",
            label=_("Groups and digital literacy"),
            url_name="groups_dashboard",
            order=20,
        )
    )
    from community.reports import write_groups_sheet

    register_report_sheets(write_groups_sheet, order=20)
