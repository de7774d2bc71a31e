"""The programmes' read API, scoped like the pages (`programmes.selectors`).

`/api/v1/programmes/` (list and detail by code), `/api/v1/programmes/{code}/statement/` (the
statement, its warnings without children's codes for those who may not read them) and
`/api/v1/beneficiaries/` — children's personal data, so only staff, officials and
administrators get rows, those of their scope; every other role an empty list.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from programmes import access, selectors
from programmes.models import Beneficiary, Programme, ProgrammeKind
from programmes.statement import programme_statement
from registry.access import grant_of
from registry.api import (
    PARAMETER_ERRORS_SCHEMA,
    ErrorsDocumentedSchema,
    Pagination,
    validated_params,
    ward_code_field,
)

CODE_PATTERN = r"[^/]+"
CODE_PARAMETER = OpenApiParameter(
    "code",
    {"type": "string", "minLength": 1, "maxLength": 40},
    OpenApiParameter.PATH,
    description=_("The programme's code."),
)


class ProgrammeSchema(ErrorsDocumentedSchema):
    """The statement answers 400 for a malformed date too."""

    def get_response_serializers(self):
        responses = super().get_response_serializers()
        if getattr(self.view, "action", None) == "statement":
            responses[400] = OpenApiResponse(
                PARAMETER_ERRORS_SCHEMA, description=_("A malformed parameter.")
            )
        return responses


class ProgrammeListParams(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ProgrammeKind.choices, required=False, allow_blank=True)
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)


class ProgrammeSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province.code", read_only=True)

    class Meta:
        model = Programme
        fields = [
            "code",
            "name",
            "organiser",
            "province",
            "kind",
            "starts",
            "ends",
            "daily_rate_vnd",
            "target_beneficiaries",
            "public_note",
        ]
        read_only_fields = fields


class StatementParams(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text=_("First day (yyyy-mm-dd)."))
    date_to = serializers.DateField(required=False, help_text=_("Last day (yyyy-mm-dd)."))


class WarningSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            ("outside_period", "outside_period"),
            ("two_programmes", "two_programmes"),
            ("above_daily_rate", "above_daily_rate"),
            ("undelivered", "undelivered"),
            ("code_reused", "code_reused"),
        ]
    )
    message = serializers.CharField()


class StatementSerializer(serializers.Serializer):
    programme = serializers.CharField()
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    raised_vnd = serializers.IntegerField()
    spent_vnd = serializers.IntegerField()
    balance_vnd = serializers.IntegerField()
    beneficiaries = serializers.IntegerField()
    schools = serializers.IntegerField()
    wards = serializers.IntegerField()
    meal_days = serializers.IntegerField()
    cost_per_meal_day_vnd = serializers.IntegerField(allow_null=True)
    items_received = serializers.DictField(child=serializers.IntegerField())
    items_delivered = serializers.DictField(child=serializers.IntegerField())
    warnings = WarningSerializer(many=True)


class ProgrammeViewSet(viewsets.ReadOnlyModelViewSet):
    """Programmes you may see (those of your province), newest first."""

    serializer_class = ProgrammeSerializer
    lookup_field = "code"
    lookup_value_regex = CODE_PATTERN
    pagination_class = Pagination
    schema = ProgrammeSchema()

    @extend_schema(parameters=[ProgrammeListParams])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[CODE_PARAMETER])
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Programme]:
        if getattr(self, "swagger_fake_view", False):
            return Programme.objects.none()
        params = validated_params(ProgrammeListParams, self.request)
        return selectors.programme_list(
            user=self.request.user, q=params.get("q") or None, kind=params.get("kind") or None
        )

    def get_object(self) -> Programme:
        return selectors.programme_get(user=self.request.user, code=self.kwargs["code"])

    @extend_schema(parameters=[CODE_PARAMETER, StatementParams])
    @action(
        detail=True,
        methods=["get"],
        pagination_class=None,
        serializer_class=StatementSerializer,
        filter_backends=[],
    )
    def statement(self, request: Request, code: str, format: str | None = None) -> Response:  # noqa: A002
        """The programme's statement for a period (either end open) and its warnings."""
        programme = self.get_object()
        params = validated_params(StatementParams, request)
        date_from: dt.date | None = params.get("date_from")
        date_to: dt.date | None = params.get("date_to")
        if date_from and date_to and date_to < date_from:
            raise serializers.ValidationError({"date_to": [_("Before date_from.")]})
        s = programme_statement(programme=programme, date_from=date_from, date_to=date_to)
        grant = grant_of(request.user)
        children = access.can_see_children(request.user)
        ward_only = grant is not None and grant.unit is not None and not grant.unit.is_province
        data = {
            "programme": programme.code,
            "date_from": date_from,
            "date_to": date_to,
            **{name: getattr(s, name) for name in s.FIGURES},
            "items_received": s.items_received,
            "items_delivered": s.items_delivered,
            "warnings": [
                {
                    "kind": w.kind,
                    "message": w.shown_to(
                        children=children and (not ward_only or w.ward == grant.unit.code)
                    ),
                }
                for w in s.warnings
            ],
        }
        return Response(StatementSerializer(data).data)


class BeneficiaryListParams(serializers.Serializer):
    programme = serializers.CharField(required=False, allow_blank=True, max_length=40)
    ward = ward_code_field()


class BeneficiarySerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="programme.code", read_only=True)
    ward = serializers.CharField(source="ward.code", read_only=True)
    school = serializers.CharField(source="school.entity.code", read_only=True)

    class Meta:
        model = Beneficiary
        fields = [
            "id",
            "programme",
            "ward",
            "code",
            "full_name",
            "birth_year",
            "school",
            "starts",
            "ends",
        ]
        read_only_fields = fields


class BeneficiaryViewSet(viewsets.GenericViewSet):
    """Beneficiaries of your scope: staff, officials and administrators only (children's
    personal data); any other role gets an empty list."""

    serializer_class = BeneficiarySerializer
    pagination_class = Pagination
    schema = ErrorsDocumentedSchema()

    def get_queryset(self) -> QuerySet[Beneficiary]:
        if getattr(self, "swagger_fake_view", False):
            return Beneficiary.objects.none()
        params = validated_params(BeneficiaryListParams, self.request)
        programme = None
        if params.get("programme"):
            try:
                programme = selectors.programme_get(
                    user=self.request.user, code=params["programme"]
                )
            except Http404:
                return Beneficiary.objects.none()
        return selectors.beneficiary_list(
            user=self.request.user, programme=programme, ward_code=params.get("ward") or None
        )

    @extend_schema(parameters=[BeneficiaryListParams])
    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# (URL prefix under /api/v1/, viewset, route basename) for the router in learnsociety.urls.
ROUTES = [
    ("programmes", ProgrammeViewSet, "api-programmes"),
    ("beneficiaries", BeneficiaryViewSet, "api-beneficiaries"),
]
