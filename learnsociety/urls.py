"""Top-level URLs: the apps' pages, Django's login, admin, the language switch and the API.

The API: read endpoints under /api/v1/ (the root is DRF's browsable index of them), a token
for a username and password at /api/v1/token/, the OpenAPI 3 schema at /api/schema/ and
Swagger UI at /api/docs/ (served from our own static files).
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from registry.api import ROUTES as REGISTRY_API_ROUTES
from registry.api import TokenView
from titles.api import ROUTES as TITLES_API_ROUTES

admin.site.site_header = _("Learning society administration")
admin.site.site_title = _("Learning society")
admin.site.index_title = _("Registry and roles")

api_v1 = DefaultRouter()
for prefix, viewset, basename in [*TITLES_API_ROUTES, *REGISTRY_API_ROUTES]:
    api_v1.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("api/v1/token/", TokenView.as_view(), name="api-token"),
    path("api/v1/", include(api_v1.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("titles/", include("titles.urls")),
    path("", include("registry.urls")),
]
