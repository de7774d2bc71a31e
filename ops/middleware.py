"""Request-wide operations: a request id, a log line for every slow request, no caching of
what a logged-in user sees, and malformed addresses (a NUL character, `?page=abc`) refused
before any view meets them."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from ops.logs import request_id
from registry.paging import InvalidCursor

logger = logging.getLogger("learnsociety.requests")

# An id a client or proxy may pass on: letters, digits and - _ . : only, at most 64 of them.
_GOOD_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class RequestMiddleware:
    """First in the chain. Gives each request an id (the client's `X-Request-ID` when it is a
    sane one, else a new one), echoes it in the answer, tags every log line with it, and logs a
    line for each request slower than SLOW_REQUEST_MS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        rid = given if _GOOD_ID.fullmatch(given) else uuid.uuid4().hex
        request.id = rid
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            elapsed_ms = round((time.perf_counter() - started) * 1000)
            response["X-Request-ID"] = rid
            if elapsed_ms > settings.SLOW_REQUEST_MS:
                logger.warning(
                    "slow request: %s %s %d in %d ms",
                    request.method,
                    request.path,
                    response.status_code,
                    elapsed_ms,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": elapsed_ms,
                        "user_id": getattr(getattr(request, "user", None), "pk", None),
                    },
                )
            return response
        finally:
            request_id.reset(token)


class RefuseNulMiddleware:
    """A NUL character in the path or a query parameter is a 400: no database stores one and
    no URL of the app holds one, so no view should ever meet it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            message = "Bad request: the address holds a NUL character."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class PrivateCacheMiddleware:
    """What a logged-in user (or a token's holder) is shown is theirs alone: the answer says
    `Cache-Control: private, no-store`, so no proxy and no shared browser keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        authenticated = bool(user is not None and user.is_authenticated)
        if authenticated or "HTTP_AUTHORIZATION" in request.META:
            patch_cache_control(response, private=True, no_store=True)
        return response


class PageParameterMiddleware:
    """`?page=` must be a whole number of 1 or more (or `last`) on every list, page or API: any
    other value is a 400 naming the parameter, never a silent first page or a 404. So is a
    `?cursor=` a page's list did not make."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for value in request.GET.getlist("page"):
            if not (value == "last" or (value.isascii() and value.isdigit() and int(value) > 0)):
                return _bad_page(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """`?cursor=` that no list made (`registry.paging.InvalidCursor`, raised by any page that
        pages by cursor): a 400 naming the parameter, written here once for every page."""
        if not isinstance(exception, InvalidCursor):
            return None
        message = _("The parameter “cursor” is not a page of this list.")
        return render(request, "400.html", {"message": message}, status=400)


def _bad_page(request: HttpRequest) -> HttpResponse:
    message = _("The parameter “page” must be a whole number, 1 or more.")
    if request.path.startswith("/api/"):
        return JsonResponse({"page": [str(message)]}, status=400)
    return render(request, "400.html", {"message": message}, status=400)
