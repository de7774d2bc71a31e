"""The registry's read API: one list and one detail per kind, scoped exactly like the pages.

Rows come from `registry.selectors`, so who sees what is decided in the same place as for the
pages: rows outside the user's scope are absent from lists and 404 on detail. A `?ward=` code
outside the scope gives an empty list (the pages answer 404; an API list only ever omits), and a
malformed parameter gives 400 with a message per parameter. Lists run the same number of
queries whatever their length (the selectors `select_related` what the rows show).
"""

from __future__ import annotations

import re
from functools import partial

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connection
from django.db.models import BooleanField, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from registry import paging, selectors
from registry.access import ward_units
from registry.models import KIND_MODELS, Community, EntityKindModel, Unit
from registry.text import SORT_KEY_LENGTH


class CountedPaginator(DjangoPaginator):
    """A paginator told its total (from the summaries) instead of counting the rows."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count  # what the `count` cached property would have computed


class Pagination(PageNumberPagination):
    """Pages of PAGE_SIZE rows (100); a client may ask for up to 1000 with `?page_size=`.

    Every API view names it (it cannot be DRF's DEFAULT_PAGINATION_CLASS: see the settings).
    A view whose list size the summaries know (`list_total()`, None when they do not) is not
    counted: COUNT over a province reads every row it counts.
    """

    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request: Request, view=None):
        total = view.list_total() if hasattr(view, "list_total") else None
        self.django_paginator_class = (
            DjangoPaginator if total is None else partial(CountedPaginator, count=total)
        )
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        """`?page_size=` if given: a whole number, at most 1000 (more counts as 1000, less than 1
        as the default). Anything else is a 400, like any other malformed parameter (DRF would
        silently use the default)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        digits = raw.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()):
            raise serializers.ValidationError(
                {self.page_size_query_param: [_("A whole number, at most 1000.")]}
            )
        number = digits.lstrip("0")
        if raw.startswith("-") or not number:
            return self.page_size
        return self.max_page_size if len(number) > 4 else min(int(number), self.max_page_size)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        """`page` is a whole number from 1: anything else is a 400 naming it (checked for pages
        and the API alike by ops.middleware.PageParameterMiddleware)."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


class PageOrCursorPagination(Pagination):
    """`?page=` exactly as Pagination (a count and numbered pages), or `?cursor=` for keyset
    pages that cost the same however deep: no COUNT and no OFFSET.

    On the cursor path rows come in descending order of the view's `cursor_fields` (a unique,
    unchanging key whose last field is the primary key, matched by an index after the scope's
    ward or province), and each page ends where the last one stopped: `(f1, f2, …) < (v1, v2, …)`,
    a row comparison the database answers from that index. `?cursor=` (empty) starts at the
    first row; the answer is `{"next": link or null, "results": […]}`, `next` carrying the
    cursor of the following page: the last row's key, its values joined by dots
    (`2025.family.1234`). The schema gives its exact pattern, so any value the pattern allows
    is a position (a fuzzer's too); anything else is a 400 naming the parameter.
    """

    cursor_query_param = "cursor"
    cursor = False

    def paginate_queryset(self, queryset: QuerySet, request: Request, view=None):
        self.cursor = self.cursor_query_param in request.query_params
        if not self.cursor:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        size = self.get_page_size(request)
        raw = request.query_params[self.cursor_query_param]
        if re.fullmatch(self.cursor_pattern(view), raw) is None:
            raise self._bad_cursor()
        rows, self.next_position = self.cursor_page(queryset, view, raw, size)
        return rows

    def cursor_pattern(self, view) -> str:
        """The pattern every cursor of `view`'s list matches (the schema gives it)."""
        return cursor_pattern(view.get_queryset().model, view.cursor_fields)

    def cursor_page(
        self, queryset: QuerySet, view, raw: str, size: int
    ) -> tuple[list, list | None]:
        """The page from the position `raw` names (a cursor matching `cursor_pattern`): its rows
        and the next page's position (None after the last page)."""
        fields: tuple[str, ...] = view.cursor_fields
        model = queryset.model
        position = self._decode(raw, model, fields)
        queryset = queryset.order_by(*(f"-{name}" for name in fields))
        if position is not None:
            queryset = queryset.filter(_row_before(model, fields, position))
        rows = list(queryset[: size + 1])
        if len(rows) <= size:
            return rows, None
        rows = rows[:size]
        last = rows[-1]
        return rows, [getattr(last, model._meta.get_field(name).attname) for name in fields]

    def _bad_cursor(self) -> serializers.ValidationError:
        return serializers.ValidationError(
            {self.cursor_query_param: [_("Not a cursor this list gave: start again.")]}
        )

    def get_paginated_response(self, data) -> Response:
        if not self.cursor:
            return super().get_paginated_response(data)
        return Response({"next": self._next_link(), "results": data})

    def _next_link(self) -> str | None:
        if self.next_position is None:
            return None
        cursor = ".".join(str(value) for value in self.next_position)
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def _decode(self, raw: str, model: type[Model], fields: tuple[str, ...]) -> list | None:
        """The position a cursor names (None for an empty one: the first page)."""
        if raw == "":
            return None
        values = raw.split(".")
        try:
            return [
                model._meta.get_field(name).to_python(value)
                for name, value in zip(fields, values, strict=True)
            ]
        except ValidationError:  # the pattern lets through only what converts
            raise self._bad_cursor() from None

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(
                    _(
                        "Keyset pages instead of numbered ones: empty for the first page, then "
                        "the cursor in `next`. No count; the same cost however deep."
                    )
                ),
                "schema": {"type": "string", "pattern": self.cursor_pattern(view)},
            },
        ]

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """Either shape: numbered pages carry `count` and `previous`, cursor pages do not."""
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["next", "results"]
        return paginated


class ListOrderPagination(PageOrCursorPagination):
    """PageOrCursorPagination for the registry's lists, whose cursor pages come in the lists'
    own order (`registry.selectors.LIST_ORDER_COLUMNS`: ward, place in a Vietnamese list, id,
    ascending, as the numbered pages): the pages `registry.paging` gives the registry's list
    pages, on the indexes that serve them. The cursor is the last row's ward id, sort key
    (digits, possibly none) and id joined by dots (`12.1403002.987`).
    """

    def cursor_pattern(self, view) -> str:
        return rf"^(?:[0-9]{{1,18}}\.[0-9]{{0,{SORT_KEY_LENGTH}}}\.[0-9]{{1,18}})?$"

    def cursor_page(
        self, queryset: QuerySet, view, raw: str, size: int
    ) -> tuple[list, list | None]:
        after = None
        if raw:
            ward_id, key, entity_id = raw.split(".")
            after = paging.encode(paging.AFTER, [int(ward_id), key, int(entity_id)])
        page = paging.keyset_page(
            queryset,
            columns=selectors.LIST_ORDER_COLUMNS,
            key=selectors.list_order_key,
            cursor=after,
            size=size,
        )
        if page.next_cursor is None:
            return page.rows, None
        return page.rows, paging.decode(page.next_cursor, width=3)[1]


def cursor_pattern(model: type[Model], fields: tuple[str, ...]) -> str:
    """The pattern of a cursor of `fields` (empty, or their values joined by dots): a whole
    number for an integer field, one of the choices for a field with choices."""
    parts = []
    for name in fields:
        field = model._meta.get_field(name)
        if field.choices:
            parts.append(
                "(?:" + "|".join(re.escape(str(value)) for value, _l in field.choices) + ")"
            )
        elif field.get_internal_type().endswith("IntegerField") or field.primary_key:
            parts.append("[0-9]{1,18}")
        else:
            raise ImproperlyConfigured(f"no cursor pattern for {model.__name__}.{name}")
    return "^(?:" + r"\.".join(parts) + ")?$"


def _row_before(model: type[Model], fields: tuple[str, ...], position: list) -> RawSQL:
    """Rows whose key `fields` come before `position` in descending order, as one row
    comparison (which an index on the fields serves as a range, unlike the OR of its parts)."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(
        f"{table}.{connection.ops.quote_name(model._meta.get_field(name).column)}"
        for name in fields
    )
    placeholders = ", ".join(["%s"] * len(fields))
    # Column names come from the model, values are parameters.
    sql = f"({columns}) < ({placeholders})"
    return RawSQL(sql, position, output_field=BooleanField())  # noqa: S611


DETAIL_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
PARAMETER_ERRORS_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
    },
    "description": "Messages per malformed parameter, or `detail` for an unreadable body.",
}


class ErrorsDocumentedSchema(AutoSchema):
    """The schema of an API view with the errors it answers besides its 200: 401 without valid
    credentials, 404 for a row outside the scope (or a page past the last), and for a list 400
    with the messages per malformed parameter. Clients (and schema checks) rely on them."""

    def get_response_serializers(self):
        responses = {
            200: super().get_response_serializers(),
            401: OpenApiResponse(DETAIL_SCHEMA, description=_("Not authenticated.")),
            404: OpenApiResponse(DETAIL_SCHEMA, description=_("Not found, or not in your scope.")),
        }
        if getattr(self.view, "action", None) == "list":
            responses[400] = OpenApiResponse(
                PARAMETER_ERRORS_SCHEMA, description=_("A malformed parameter.")
            )
        return responses


# Path ids are entity primary keys. The route takes any path segment so that a malformed id
# gets the API's JSON 404 (from `path_id`), not the HTML page of an unknown URL.
ID_PATTERN = r"[^/]+"


# What the schema says of the id (the route itself takes any segment, see ID_PATTERN).
ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("The row's id.")
)


def path_id(value: str) -> int:
    """The primary key a detail path names; Http404 for anything but a plain number."""
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise Http404
    return int(value)


def validated_params(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    """The request's query parameters checked by `serializer_class`; 400 with messages if bad."""
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data


def in_ward(rows: QuerySet, *, user, code: str, field: str) -> QuerySet:
    """`rows` whose `field` is a ward with `code` that the user may see; none if there is none.

    Abolished wards keep their codes, so every unit in scope with the code matches.
    """
    return rows.filter(**{f"{field}__in": ward_units(user).filter(code=code)})


def ward_code_field() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=10,
        help_text=_(
            "Commune/ward code, e.g. 00070. A ward outside your scope gives an empty list."
        ),
    )


class EntityListParams(serializers.Serializer):
    ward = ward_code_field()


class EntitySerializer(serializers.Serializer):
    """What every kind shows: its id (the path of its detail), ward, code and name."""

    id = serializers.IntegerField(source="pk", read_only=True)
    ward = serializers.CharField(
        source="entity.ward.code", read_only=True, help_text=_("Commune/ward code.")
    )
    code = serializers.CharField(source="entity.code", read_only=True)


class CommunitySerializer(EntitySerializer):
    name = serializers.CharField(source="entity.name", read_only=True)
    area_type = serializers.ChoiceField(choices=Community.AreaType.choices, read_only=True)


class FamilySerializer(EntitySerializer):
    head_name = serializers.CharField(source="entity.name", read_only=True)
    members = serializers.IntegerField(read_only=True)
    community = serializers.CharField(
        source="community.entity.code",
        read_only=True,
        help_text=_("Code of the residential area the household lives in."),
    )
    clan = serializers.CharField(
        source="clan.entity.code",
        read_only=True,
        allow_null=True,
        help_text=_("Code of the household's clan, if any."),
    )


class ClanSerializer(EntitySerializer):
    name = serializers.CharField(source="entity.name", read_only=True)
    head_name = serializers.CharField(read_only=True)


class UnitSerializer(EntitySerializer):
    name = serializers.CharField(source="entity.name", read_only=True)
    unit_type = serializers.ChoiceField(choices=Unit.UnitType.choices, read_only=True)
    staff = serializers.IntegerField(read_only=True)


class CitizenSerializer(EntitySerializer):
    full_name = serializers.CharField(source="entity.name", read_only=True)
    birth_year = serializers.IntegerField(read_only=True)
    family = serializers.CharField(
        source="family.entity.code",
        read_only=True,
        allow_null=True,
        help_text=_("Code of the citizen's household, if any."),
    )
    unit = serializers.CharField(
        source="unit.entity.code",
        read_only=True,
        allow_null=True,
        help_text=_("Code of the unit the citizen works in, if any."),
    )


class EntityViewSet(viewsets.ReadOnlyModelViewSet):
    """List and detail of one kind (`kind` is its list slug in `registry.selectors.KIND_SLUGS`).

    Numbered pages (`?page=`) and cursor pages (`?cursor=`) alike come in the registry lists'
    order: by ward, then the Vietnamese order of names, then id. The numbered pages' `count` is
    the registry's tally of the list, not a COUNT of its rows.
    """

    kind: str
    lookup_value_regex = ID_PATTERN
    pagination_class = ListOrderPagination
    schema = ErrorsDocumentedSchema()

    @extend_schema(parameters=[EntityListParams])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[ID_PARAMETER])
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, no rows
            return KIND_MODELS[selectors.KIND_SLUGS[self.kind]].objects.none()
        rows = selectors.entity_list(user=self.request.user, kind=self.kind)
        wards = self._ward_ids()
        if wards is not None:
            # The ward's ids themselves (one query), so the planner walks the ward's index.
            rows = rows.filter(entity__ward_id__in=wards)
        return rows

    def list_total(self) -> int:
        """How many rows the list holds, from the registry's tallies."""
        wards = self._ward_ids()
        if wards is None:
            return selectors.entity_total(user=self.request.user, kind=self.kind)
        return selectors.entity_total_of_wards(kind=self.kind, ward_ids=wards)

    def _ward_ids(self) -> list[int] | None:
        """The ids of the wards in scope with the `?ward=` code (abolished wards keep their
        codes, so there may be several, or none); None without the filter."""
        if not hasattr(self, "_wards"):
            code = validated_params(EntityListParams, self.request).get("ward")
            self._wards = (
                list(ward_units(self.request.user).filter(code=code).values_list("pk", flat=True))
                if code
                else None
            )
        return self._wards

    def get_object(self) -> EntityKindModel:
        return selectors.entity_get(
            user=self.request.user, kind=self.kind, pk=path_id(self.kwargs["pk"])
        )


class FamilyViewSet(EntityViewSet):
    """Households (Learning Family candidates) in your scope; `id` is the detail's path."""

    kind = "families"
    serializer_class = FamilySerializer


class ClanViewSet(EntityViewSet):
    """Clans (family lines) in your scope; `id` is the detail's path."""

    kind = "clans"
    serializer_class = ClanSerializer


class CommunityViewSet(EntityViewSet):
    """Residential areas (villages, hamlets, residential groups) in your scope."""

    kind = "communities"
    serializer_class = CommunitySerializer


class UnitViewSet(EntityViewSet):
    """Agencies, schools, enterprises and other units in your scope."""

    kind = "units"
    serializer_class = UnitSerializer


class CitizenViewSet(EntityViewSet):
    """Citizens in your scope; `id` is the detail's path."""

    kind = "citizens"
    serializer_class = CitizenSerializer


# (URL prefix under /api/v1/, viewset, route basename) for the router in learnsociety.urls.
ROUTES = [
    ("families", FamilyViewSet, "api-families"),
    ("clans", ClanViewSet, "api-clans"),
    ("communities", CommunityViewSet, "api-communities"),
    ("units", UnitViewSet, "api-units"),
    ("citizens", CitizenViewSet, "api-citizens"),
]
