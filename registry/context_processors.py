"""Template context: the acting user's role grant, for the header and navigation, and the
dashboard's tabs."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from registry.access import grant_of
from registry.sections import dashboard_tabs


def role(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"grant": grant_of(user) if user is not None and user.is_authenticated else None}


def sections(request: HttpRequest) -> dict:
    """The dashboard's tabs (see `registry.sections`), worked out only when a page shows them."""
    return {"dashboard_tabs": SimpleLazyObject(lambda: dashboard_tabs(request))}
