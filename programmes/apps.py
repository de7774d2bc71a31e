from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammesConfig(AppConfig):
    name = "programmes"
    verbose_name = _("Support programmes")

    def ready(self) -> None:
        from programmes.reports import write_sheet
        from registry.sections import (
            DashboardTab,
            register_dashboard_tab,
            register_report_sheets,
        )

        register_dashboard_tab(
            DashboardTab(
                key="programmes",
                label=_("Programmes"),
                url_name="programmes_dashboard",
                order=30,
            )
        )
        register_report_sheets(write_sheet, order=30)
