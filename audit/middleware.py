from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.context import Actor, acting


class AuditActorMiddleware:
    """The request's user is the actor of every change the request makes (see `context`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting(Actor(request=request)):
            return self.get_response(request)
