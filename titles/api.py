"""The titles' read API: registrations (list and detail) and roll-up rows, scoped like the pages.

Registrations come from `titles.selectors.registration_list`/`registration_get` and roll-up rows
from `titles.selectors.rollup_rows`, so scoping is decided where the pages decide it: what a
user may not see is absent from lists and 404 on detail; a ward or unit code outside the scope
gives an empty list; a malformed parameter gives 400 with a message per parameter.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from registry.access import ward_units
from registry.api import (
    ID_PARAMETER,
    ID_PATTERN,
    ErrorsDocumentedSchema,
    PageOrCursorPagination,
    Pagination,
    path_id,
    validated_params,
    ward_code_field,
)
from registry.models import Kind, RollupLevel
from titles import selectors
from titles.models import Registration, State
from titles.rules.rounding import ROUNDING

YEAR_MIN, YEAR_MAX = 1900, 2100


@extend_schema_field(
    {
        "anyOf": [
            {"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX},
            {"type": "string", "maxLength": 0},
        ]
    }
)
class OptionalYearField(serializers.IntegerField):
    """A year filter; empty (`?year=`) is no filter, as for every optional filter."""


def optional_choice(choices, **kwargs) -> serializers.ChoiceField:
    """A filter by one of `choices`; empty (`?kind=`) is no filter, and the schema says so."""
    return serializers.ChoiceField(choices=choices, required=False, allow_blank=True, **kwargs)


class RegistrationListParams(serializers.Serializer):
    year = OptionalYearField(required=False, min_value=YEAR_MIN, max_value=YEAR_MAX)
    ward = ward_code_field()
    kind = optional_choice(Kind.choices)
    status = optional_choice(State.choices, help_text=_("The registration's state."))


class RegistrationSerializer(serializers.ModelSerializer):
    entity = serializers.IntegerField(
        source="entity_id",
        read_only=True,
        help_text=_("Id of the registered entity (the detail path of its registry list)."),
    )
    ward = serializers.CharField(
        source="ward.code", read_only=True, help_text=_("Commune/ward code.")
    )
    code = serializers.CharField(source="entity.code", read_only=True)
    name = serializers.CharField(source="entity.name", read_only=True)
    points = serializers.DecimalField(
        max_digits=7, decimal_places=2, coerce_to_string=False, read_only=True, allow_null=True
    )
    decision_number = serializers.CharField(
        source="decision.number", read_only=True, allow_null=True
    )
    decision_date = serializers.DateField(source="decision.date", read_only=True, allow_null=True)

    class Meta:
        model = Registration
        fields = [
            "id",
            "entity",
            "kind",
            "ward",
            "code",
            "name",
            "year",
            "state",
            "outstanding",
            "points",
            "passed",
            "decision_number",
            "decision_date",
        ]
        read_only_fields = fields


class RegistrationViewSet(viewsets.ReadOnlyModelViewSet):
    """Registrations in your scope. Numbered pages (`?page=`): newest year first, then by ward
    and name, each reading only the ward-years it spans. Cursor pages (`?cursor=`): newest
    year first, then by title and id, descending (the order of the keyset indexes
    `reg_*_keyset`)."""

    serializer_class = RegistrationSerializer
    lookup_value_regex = ID_PATTERN
    pagination_class = PageOrCursorPagination
    cursor_fields = ("year", "kind", "id")
    schema = ErrorsDocumentedSchema()

    @extend_schema(parameters=[RegistrationListParams])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[ID_PARAMETER])
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Registration]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, no rows
            return Registration.objects.none()
        params = self._params()
        rows = selectors.registration_list(
            user=self.request.user,
            year=params.get("year"),
            kind=params.get("kind") or None,
            state=params.get("status") or None,
        )
        wards = self._ward_ids()
        if wards is not None:
            # The ward's ids themselves (one query), so the planner walks the ward's keyset
            # index rather than guessing how many rows a subquery's ward holds.
            rows = rows.filter(ward_id__in=wards)
        return rows

    def paginate_queryset(self, queryset):
        """Numbered pages read the ward-years they cover (`selectors.RegistrationsByWard`)
        where the roll-ups tell how many rows each holds; otherwise the rows are counted."""
        if PageOrCursorPagination.cursor_query_param not in self.request.query_params:
            params = self._params()
            by_ward = selectors.registrations_by_ward(
                user=self.request.user,
                rows=queryset,
                year=params.get("year"),
                kind=params.get("kind") or None,
                state=params.get("status") or None,
                ward_ids=self._ward_ids(),
            )
            if by_ward is not None:
                queryset = by_ward
        return super().paginate_queryset(queryset)

    def _params(self) -> dict:
        if not hasattr(self, "_validated"):
            self._validated = validated_params(RegistrationListParams, self.request)
        return self._validated

    def _ward_ids(self) -> list[int] | None:
        """The ids of the wards in scope with the `?ward=` code (abolished wards keep their
        codes); None without the filter."""
        if not hasattr(self, "_wards"):
            code = self._params().get("ward")
            self._wards = (
                list(ward_units(self.request.user).filter(code=code).values_list("pk", flat=True))
                if code
                else None
            )
        return self._wards

    def get_object(self) -> Registration:
        return selectors.registration_get(user=self.request.user, pk=path_id(self.kwargs["pk"]))


class RollupParams(serializers.Serializer):
    year = serializers.IntegerField(min_value=YEAR_MIN, max_value=YEAR_MAX)
    unit = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=10,
        help_text=_(
            "Province or commune/ward code: only units under it (or it). "
            "A unit outside your scope gives an empty list."
        ),
    )
    level = serializers.ChoiceField(
        choices=RollupLevel.choices,
        default=RollupLevel.WARD,
        allow_blank=True,
        help_text=_("The units the rows are for."),
    )
    kind = optional_choice(Kind.choices)


class RollupRowSerializer(serializers.Serializer):
    """One roll-up row: the contract's columns, in order."""

    unit_code = serializers.CharField(
        help_text=_("Unit code; a residential area is written <ward code>/<area code>.")
    )
    unit_name = serializers.CharField()
    year = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    entities = serializers.IntegerField()
    registered = serializers.IntegerField()
    recognized = serializers.IntegerField(help_text=_("Recognised, outstanding ones included."))
    outstanding = serializers.IntegerField()
    rate = serializers.DecimalField(
        max_digits=None,
        decimal_places=1,
        rounding=ROUNDING,
        coerce_to_string=False,
        allow_null=True,
        help_text=_("Recognised ÷ entities, percent, one decimal; null without entities."),
    )
    registered_rate = serializers.DecimalField(
        max_digits=None,
        decimal_places=1,
        rounding=ROUNDING,
        coerce_to_string=False,
        allow_null=True,
        help_text=_("Recognised ÷ registered, percent, one decimal; null without registrations."),
    )
    target_min = serializers.DecimalField(
        max_digits=None, decimal_places=2, coerce_to_string=False, allow_null=True
    )
    target_max = serializers.DecimalField(
        max_digits=None, decimal_places=2, coerce_to_string=False, allow_null=True
    )
    status = serializers.ChoiceField(
        choices=[
            ("below", _("Below target")),
            ("on_track", _("On track")),
            ("above", _("Above target")),
            ("no_target", _("No target")),
        ]
    )


class RollupViewSet(viewsets.GenericViewSet):
    """Roll-up rows of a year for the units of a level in your scope (`year` is required)."""

    serializer_class = RollupRowSerializer
    pagination_class = Pagination
    schema = ErrorsDocumentedSchema()
    filter_backends = []

    def get_queryset(self):
        """The rows are computed (`selectors.rollup_rows`), not a queryset; the browsable API
        asks for one to build its filter form, and gets none."""
        return Registration.objects.none()

    @extend_schema(parameters=[RollupParams])
    def list(self, request: Request, *args, **kwargs) -> Response:
        params = validated_params(RollupParams, request)
        rows = selectors.rollup_rows_paged(
            user=request.user,
            year=params["year"],
            level=params["level"] or RollupLevel.WARD,
            unit_code=params.get("unit") or None,
            kind=params.get("kind") or None,
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# (URL prefix under /api/v1/, viewset, route basename) for the router in learnsociety.urls.
ROUTES = [
    ("rollups", RollupViewSet, "api-rollups"),
    ("registrations", RegistrationViewSet, "api-registrations"),
]
