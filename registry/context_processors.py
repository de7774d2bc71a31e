"""Template context: the acting user's role grant, for the header and navigation."""

from django.http import HttpRequest

from registry.access import grant_of


def role(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"grant": grant_of(user) if user is not None and user.is_authenticated else None}
