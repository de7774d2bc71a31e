"""The lockout page, the API's throttled token endpoint (and its logouts), Swagger UI under our
CSP."""

from __future__ import annotations

import base64
import hashlib
import re

from csp.decorators import csp_update
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularSwaggerSplitView
from knox.views import LogoutAllView, LogoutView
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import ApiTokenAuthentication
from accounts.forms import TokenRequestSerializer
from accounts.tokens import api_token_create
from audit.services import record_login
from registry.api import DETAIL_SCHEMA, PARAMETER_ERRORS_SCHEMA

LOCKED_OUT_STATUS = 429


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """What a locked-out login gets instead of the form (axes' AXES_LOCKOUT_CALLABLE)."""
    return render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": lockout_minutes()},
        status=LOCKED_OUT_STATUS,
    )


@extend_schema(
    request=TokenRequestSerializer,
    responses={
        200: inline_serializer(
            "Token",
            {
                "token": serializers.CharField(help_text=gettext_lazy("The key, shown only once.")),
                "expiry": serializers.DateTimeField(
                    help_text=gettext_lazy("When the token stops working.")
                ),
            },
        ),
        400: OpenApiResponse(
            PARAMETER_ERRORS_SCHEMA,
            description=gettext_lazy("A missing, wrong or inactive username or password."),
        ),
        415: OpenApiResponse(
            DETAIL_SCHEMA, description=gettext_lazy("A body that is not JSON or a form.")
        ),
        429: OpenApiResponse(
            DETAIL_SCHEMA,
            description=gettext_lazy("Too many failed logins for this username and address."),
        ),
    },
    auth=[],
)
class ThrottledObtainAuthToken(APIView):
    """A new API token for a username and password, answering 429 while the pair is locked out.

    DRF wraps the request, so axes flags the lockout on DRF's request, which its middleware
    never sees; this view reads the flag itself. Each call issues another token (see
    accounts.tokens); the answer is `{"token": key, "expiry": when}`.
    """

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()
    renderer_classes = [JSONRenderer]
    serializer_class = TokenRequestSerializer
    # JSON only: a form on another site can post form fields here (no preflight), and could
    # spend a user's failed logins to lock them out; it cannot post JSON.
    parser_classes = [JSONParser]

    def get_serializer(self, *args, **kwargs) -> TokenRequestSerializer:
        return self.serializer_class(*args, context={"request": self.request}, **kwargs)

    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        if getattr(request, "axes_locked_out", False):
            return Response(
                {
                    "detail": _(
                        "Too many failed logins: this account is locked for %(minutes)d minutes "
                        "from your address."
                    )
                    % {"minutes": lockout_minutes()}
                },
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if not valid:
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        user = serializer.validated_data["user"]
        instance, key = api_token_create(user=user)
        record_login(user=user, request=request, via="api-token")
        return Response(
            {"token": key, "expiry": serializers.DateTimeField().to_representation(instance.expiry)}
        )


_LOGOUT_SCHEMA = {
    "request": None,
    "responses": {
        204: OpenApiResponse(description=gettext_lazy("Done; nothing in the body.")),
        401: OpenApiResponse(
            DETAIL_SCHEMA, description=gettext_lazy("No token, or one no longer valid.")
        ),
    },
}


@extend_schema(
    summary=gettext_lazy("Log out the token sent"),
    description=gettext_lazy("Ends the token in the Authorization header; others keep working."),
    **_LOGOUT_SCHEMA,
)
class ApiTokenLogout(LogoutView):
    authentication_classes = (ApiTokenAuthentication,)


@extend_schema(
    summary=gettext_lazy("Log out every token of the user"),
    description=gettext_lazy("Ends every API token of the user who sends this one."),
    **_LOGOUT_SCHEMA,
)
class ApiTokenLogoutAll(LogoutAllView):
    authentication_classes = (ApiTokenAuthentication,)


def _inline_style_hashes(template_name: str) -> list[str]:
    """CSP hashes ('sha256-…') of the fixed <style> blocks of a template we do not own."""
    source = get_template(template_name).template.source
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    ]


def swagger_ui_view():
    """Swagger UI with its start-up script served from a URL (the split view) and the few
    lines of page style drf-spectacular's template writes inline allowed by their hash."""
    view = SpectacularSwaggerSplitView.as_view(url_name="api-schema")
    hashes = _inline_style_hashes(SpectacularSwaggerSplitView.template_name)
    return csp_update({"style-src": hashes})(view)
