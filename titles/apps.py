from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TitlesConfig(AppConfig):
    name = "titles"
    verbose_name = _("Titles")

    def ready(self) -> None:
        from titles import jobs  # noqa: F401  registers the titles' job kinds
