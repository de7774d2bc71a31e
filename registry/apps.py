from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Registry")

    def ready(self) -> None:
        # The registry's own kinds of file come first in `import_registry --kind` and the
        # upload page; the apps above add theirs in their own `ready`.
        from registry.services.imports import register_registry_kinds

        register_registry_kinds()
        from registry import jobs  # noqa: F401  registers the import job
