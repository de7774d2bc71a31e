"""Top-level URLs: the apps' pages, Django's login, admin, the language switch and the API.

The API: read endpoints under /api/v1/ (the root is DRF's browsable index of them), a token
for a username and password at /api/v1/token/ (throttled like the login page; logged out at
…/token/logout/ and …/token/logout-all/), the OpenAPI 3
schema at /api/schema/ and Swagger UI at /api/docs/ (served from our own static files).
Accounts: log in and out, change one's password; administrators read the audit log at /audit/.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from accounts.forms import AdminLoginForm, LoginForm
from accounts.views import (
    ApiTokenLogout,
    ApiTokenLogoutAll,
    ThrottledObtainAuthToken,
    swagger_ui_view,
)
from community.api import ROUTES as COMMUNITY_API_ROUTES
from ops.views import healthz
from programmes.api import ROUTES as PROGRAMMES_API_ROUTES
from registry.api import ROUTES as REGISTRY_API_ROUTES
from titles.api import ROUTES as TITLES_API_ROUTES

admin.site.login_form = AdminLoginForm
admin.site.site_header = _("Learning society administration")
admin.site.site_title = _("Learning society")
admin.site.index_title = _("Registry and roles")

api_v1 = DefaultRouter()
for prefix, viewset, basename in [
    *TITLES_API_ROUTES,
    *REGISTRY_API_ROUTES,
    *COMMUNITY_API_ROUTES,
    *PROGRAMMES_API_ROUTES,
]:
    api_v1.register(prefix, viewset, basename=basename)

handler500 = "ops.views.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/token/", ThrottledObtainAuthToken.as_view(), name="api-token"),
    path("api/v1/token/logout/", ApiTokenLogout.as_view(), name="api-token-logout"),
    path("api/v1/token/logout-all/", ApiTokenLogoutAll.as_view(), name="api-token-logout-all"),
    path("api/v1/", include(api_v1.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", swagger_ui_view(), name="api-docs"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("audit/", include("audit.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("titles/", include("titles.urls")),
    path("groups/", include("community.urls")),
    path("programmes/", include("programmes.urls")),
    path("jobs/", include("jobs.views")),
    path("", include("registry.urls")),
]
