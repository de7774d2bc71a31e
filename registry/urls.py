"""The registry pages. `<kind:kind>` is one of the five list slugs (families, clans, …)."""

from django.urls import path, register_converter

from registry import views
from registry.selectors import KIND_SLUGS


class KindConverter:
    regex = "|".join(KIND_SLUGS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        if value not in KIND_SLUGS:
            raise ValueError(value)
        return value


register_converter(KindConverter, "kind")

urlpatterns = [
    path("", views.home, name="home"),
    path("wards/<str:code>/", views.ward_overview, name="ward_overview"),
    path("wards/before-2025/<str:code>/", views.ward_before_2025, name="ward_before_2025"),
    path("registry/import/", views.registry_import, name="registry_import"),
    path(
        "registry/import/template/<slug:kind>/",
        views.registry_import_template,
        name="registry_import_template",
    ),
    path("registry/<kind:kind>/", views.entity_list, name="entity_list"),
    path("registry/<kind:kind>/new/", views.entity_create, name="entity_create"),
    path("registry/<kind:kind>/search/", views.entity_search, name="entity_search"),
    path("registry/<kind:kind>/<int:pk>/", views.entity_detail, name="entity_detail"),
    path("registry/<kind:kind>/<int:pk>/edit/", views.entity_edit, name="entity_edit"),
]
