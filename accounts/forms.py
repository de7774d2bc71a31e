"""Login forms whose username is refused past the user model's length before any lookup.

Django's AuthenticationForm only puts the username's maximum length on the widget, so a longer
value reaches `authenticate()`; the lockout records of failed logins keep the username in a
255-character column, which PostgreSQL refuses with an error. A username no account can have
is a form error instead, and changes nothing.
"""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer


def username_max_length() -> int:
    return get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD).max_length or 150


class _BoundedUsername:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = username_max_length()
        self.fields["username"].max_length = limit
        self.fields["username"].validators.append(MaxLengthValidator(limit))


class LoginForm(_BoundedUsername, AuthenticationForm):
    pass


class AdminLoginForm(_BoundedUsername, AdminAuthenticationForm):
    pass


class TokenRequestSerializer(AuthTokenSerializer):
    username = serializers.CharField(
        label=_("Username"), write_only=True, max_length=username_max_length()
    )
