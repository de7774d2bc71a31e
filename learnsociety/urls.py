"""Top-level URLs: the apps' pages, Django's login, admin and the language switch."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Learning society administration")
admin.site.site_title = _("Learning society")
admin.site.index_title = _("Registry and roles")

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("titles/", include("titles.urls")),
    path("", include("registry.urls")),
]
