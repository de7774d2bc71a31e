from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TitlesConfig(AppConfig):
    name = "titles"
    verbose_name = _("Titles")

    def ready(self) -> None:
        # The roll-ups count a ward's entities and its registrations by residential area: keep
        # them exact whenever the registry adds entities or moves them between areas.
        from registry.hooks import on_recorded_years, on_wards_changed
        from titles.services.rollups import recorded_years_before, rollups_refresh_wards

        on_wards_changed(rollups_refresh_wards)

        from registry.sections import DashboardTab, register_dashboard_tab

        register_dashboard_tab(
            DashboardTab(key="titles", label=_("Learning titles"), url_name="dashboard", order=10)
        )

        # An entity's page in the registry shows its registrations and titles by year.
        from registry.hooks import on_entity_detail
        from titles.views.panels import entity_titles_panel

        on_entity_detail(entity_titles_panel)
        # A new entity counts from the year after the latest its ward has registrations of.
        on_recorded_years(recorded_years_before)
        # Registrations repeat their entity's sort key (the lists' order): a rename re-sorts them.
        from registry.hooks import on_entities_renamed
        from titles.services.registrations import registrations_sort_key_refresh

        on_entities_renamed(registrations_sort_key_refresh)
        from titles import jobs  # noqa: F401  registers the titles' job kinds
