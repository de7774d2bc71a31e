"""The address a request came from, for login throttling and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The connection's address; behind the TLS proxy, the one the proxy appended.

    The proxy adds the address it saw to the end of X-Forwarded-For; whatever comes before it
    was sent by the client and proves nothing, so only the last entry is believed.
    """
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR") or None
