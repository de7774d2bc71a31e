"""A login starts the session's clock (see middleware.SessionTimeoutMiddleware)."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts.middleware import LAST_SEEN, LOGGED_IN_AT


@receiver(user_logged_in, dispatch_uid="accounts_session_clock")
def start_session_clock(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[LOGGED_IN_AT] = now
        request.session[LAST_SEEN] = now
