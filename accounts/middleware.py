"""Session limits and the Permissions-Policy header."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

LOGGED_IN_AT = "_accounts_logged_in_at"
LAST_SEEN = "_accounts_last_seen"
# The idle clock is written to the session at most this often, not on every request. The time
# kept is then up to this much older than the last request, so a session ends between
# SESSION_IDLE_TIMEOUT and SESSION_IDLE_TIMEOUT + LAST_SEEN_RESOLUTION after it: never early.
LAST_SEEN_RESOLUTION = 5 * 60


class SessionTimeoutMiddleware:
    """Log a user out after SESSION_IDLE_TIMEOUT idle seconds or SESSION_COOKIE_AGE in all.

    Django's own expiry moves forward whenever the session is saved, so it alone cannot bound
    a login's length; the times kept here do. A timed-out user is sent to the login page with
    the page they asked for as `next`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            expired = self._expired(request)
            if expired:
                logout(request)
                messages.info(request, expired)
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)

    @staticmethod
    def _expired(request: HttpRequest) -> str | None:
        """Why the session has ended, or None after noting this request's time."""
        session = request.session
        now = int(time.time())
        logged_in_at = session.setdefault(LOGGED_IN_AT, now)
        last_seen = session.get(LAST_SEEN, now)
        idle_limit = settings.SESSION_IDLE_TIMEOUT
        if now - logged_in_at > settings.SESSION_COOKIE_AGE:
            return _("Your session has ended after %(hours)s hours; please log in again.") % {
                "hours": f"{settings.SESSION_COOKIE_AGE / 3600:g}"
            }
        if idle_limit and now - last_seen > idle_limit + LAST_SEEN_RESOLUTION:
            return _(
                "You were logged out after %(minutes)s minutes without activity; please log in "
                "again."
            ) % {"minutes": f"{idle_limit / 60:g}"}
        if LAST_SEEN not in session or now - last_seen >= LAST_SEEN_RESOLUTION:
            session[LAST_SEEN] = now
        return None


class PermissionsPolicyMiddleware:
    """Switch off the browser features named in PERMISSIONS_POLICY on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
