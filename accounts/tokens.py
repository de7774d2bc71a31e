"""API tokens: issued for a username and password, ended by expiry, logout or a new password.

Tokens are django-rest-knox's: the key is shown once, to whoever asked for it, and the database
keeps only its SHA-512 digest (and its first 15 characters, to find the row). A token lasts
`API_TOKEN_TTL` seconds from when it was issued; a user may hold several at once (one per
script or machine), each ended on its own by logging it out, all of them together by logging
out everywhere or by any change of the user's password.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> tuple[AuthToken, str]:
    """A new token for `user`, and its key (the only time the key exists outside the client).

    The user's expired tokens are deleted on the way, so they do not pile up.
    """
    user.auth_token_set.filter(expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user)


@transaction.atomic
def api_tokens_revoke(*, user: AbstractBaseUser) -> int:
    """End every token of `user`; how many there were."""
    deleted, _by_model = user.auth_token_set.all().delete()
    return deleted


class PasswordChangeEndsApiTokens:
    """A new password ends every API token of the user.

    Listed in AUTH_PASSWORD_VALIDATORS for its `password_changed` hook, which Django calls
    once a password set with `set_password()` is saved, whichever path set it (the user's own
    form, Django admin, `grant --password`, `changepassword`); it refuses no password, and
    its help text tells the user so beside the other rules.
    """

    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        return None

    def password_changed(self, password: str, user: AbstractBaseUser | None = None) -> None:
        if user is not None and user.pk is not None:
            api_tokens_revoke(user=user)

    def get_help_text(self) -> str:
        return _("A new password ends every API token of the account.")
