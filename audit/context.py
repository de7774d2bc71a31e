"""Who is acting now: the request's user, or the management command that is running.

Set by `middleware.AuditActorMiddleware` for each request and around every management
command's `execute` (see `apps.AuditConfig.ready`); read when an audit entry is written.
Nothing is set while code runs outside both (a test calling a service directly): the entry
then names no actor.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Actor:
    request: HttpRequest | None = None
    command: str = ""

    @property
    def user(self):
        """The request's user if logged in (read when needed: a login changes it mid-request)."""
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


_current: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def current_actor() -> Actor | None:
    return _current.get()


@contextlib.contextmanager
def acting(actor: Actor) -> Iterator[None]:
    """`actor` acts within the block, unless someone already does (a command run by a request
    keeps the request's user)."""
    if _current.get() is not None:
        yield
        return
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)
