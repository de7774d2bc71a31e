from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = _("Groups and digital literacy")

    def ready(self) -> None:
        # Groups, members and activities are kinds of file of `import_registry` and the
        # registry's upload page; the dashboard has a tab and the Excel report a sheet.
        from community.sections import register_sections

        register_sections()
