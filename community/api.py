"""The groups' read API: `/api/v1/groups/` and `/api/v1/activities/` (list and detail), scoped
like the pages (what a user may not see is absent from lists and 404 on detail; a ward outside
the scope gives an empty list; a malformed parameter is a 400 naming it).

Personal data: a group's leader, its members (names, codes, roles, dates), the citizens an
activity helped and its note are given to staff, officials and administrators
(`community.selectors.can_see_people`); to viewers they are null, and every count is given.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from community import selectors
from community.models import Activity, ActivityType, Group, GroupType, Member, Service
from registry.api import (
    ID_PARAMETER,
    ID_PATTERN,
    ErrorsDocumentedSchema,
    Pagination,
    in_ward,
    path_id,
    validated_params,
    ward_code_field,
)
from registry.models import Entity
from titles.api import OptionalYearField, optional_choice

YEAR_MIN, YEAR_MAX = 1900, 2100


class _PeopleField(serializers.Field):
    """A field given only to users who may see people's data; null for the others."""

    def __init__(self, inner: serializers.Field, **kwargs):
        self.inner = inner
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def bind(self, field_name: str, parent) -> None:
        super().bind(field_name, parent)
        self.inner.bind(field_name, parent)

    def get_attribute(self, instance):
        if not self.context.get("see_people"):
            return None
        return self.inner.get_attribute(instance)

    def to_representation(self, value):
        return None if value is None else self.inner.to_representation(value)


class _PeopleFieldSchema(OpenApiSerializerFieldExtension):
    """In the schema a `_PeopleField` is its inner field, which may be null."""

    target_class = _PeopleField

    def map_serializer_field(self, auto_schema, direction):
        inner = self.target.inner
        if isinstance(inner, serializers.ManyRelatedField):  # codes read from a prefetched list
            schema = build_array_type(build_basic_type(OpenApiTypes.STR))
        else:
            schema = auto_schema._map_serializer_field(inner, direction)
        return {**schema, "nullable": True}


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = ["code", "full_name", "role", "joined", "left"]
        read_only_fields = fields


class _ScopedViewSet(viewsets.ReadOnlyModelViewSet):
    """A read-only list and detail of rows in the user's scope: one queryset (`scoped`, with
    what the serializer reads) serves both, the detail being its row of the path's id (404 if
    absent); whether the user sees people's data is decided once per request."""

    lookup_value_regex = ID_PATTERN
    pagination_class = Pagination
    schema = ErrorsDocumentedSchema()

    def see_people(self) -> bool:
        if not hasattr(self, "_see_people"):
            user = getattr(self.request, "user", None)
            self._see_people = user is not None and selectors.can_see_people(user)
        return self._see_people

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "see_people": self.see_people()}

    def scoped(self, rows: QuerySet) -> QuerySet:
        """`rows` (in the user's scope) with what the serializer reads."""
        raise NotImplementedError

    def get_object(self):
        found = list(self.scoped(self.base_rows()).filter(pk=path_id(self.kwargs["pk"]))[:1])
        if not found:
            raise Http404
        return found[0]

    def base_rows(self) -> QuerySet:
        """Every row in the user's scope."""
        raise NotImplementedError


class GroupListParams(serializers.Serializer):
    ward = ward_code_field()
    group_type = optional_choice(GroupType.choices)
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text=_("Name, code or leader.")
    )


class GroupSerializer(serializers.ModelSerializer):
    ward = serializers.CharField(source="ward.code", read_only=True)
    community = serializers.CharField(
        source="community.code", read_only=True, allow_null=True, default=None
    )
    member_count = serializers.IntegerField(read_only=True, help_text=_("Member rows, any year."))
    leader_name = _PeopleField(serializers.CharField())
    members = _PeopleField(
        MemberSerializer(source="ordered_members", many=True),
        help_text=_("Staff, officials and administrators only; null for viewers."),
    )

    class Meta:
        model = Group
        fields = [
            "id",
            "ward",
            "code",
            "name",
            "group_type",
            "community",
            "founded",
            "leader_name",
            "member_count",
            "members",
        ]
        read_only_fields = fields


class GroupViewSet(_ScopedViewSet):
    """Groups, clubs, learning centres and digital teams in your scope, in Vietnamese order."""

    serializer_class = GroupSerializer

    @extend_schema(parameters=[GroupListParams])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[ID_PARAMETER])
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def base_rows(self) -> QuerySet[Group]:
        return selectors.group_list(user=self.request.user)

    def scoped(self, rows: QuerySet[Group]) -> QuerySet[Group]:
        rows = rows.annotate(member_count=Count("members"))
        if self.see_people():
            rows = rows.prefetch_related(
                Prefetch(
                    "members",
                    queryset=Member.objects.order_by("sort_key", "code"),
                    to_attr="ordered_members",
                )
            )
        return rows

    def get_queryset(self) -> QuerySet[Group]:
        if getattr(self, "swagger_fake_view", False):
            return Group.objects.none()
        params = validated_params(GroupListParams, self.request)
        rows = selectors.group_list(
            user=self.request.user,
            q=params.get("q") or None,
            group_type=params.get("group_type") or None,
        )
        if params.get("ward"):
            rows = in_ward(rows, user=self.request.user, code=params["ward"], field="ward")
        return self.scoped(rows)


class ActivityListParams(serializers.Serializer):
    ward = ward_code_field()
    year = OptionalYearField(required=False, min_value=YEAR_MIN, max_value=YEAR_MAX)
    group = serializers.IntegerField(
        required=False, min_value=1, help_text=_("A group's id: only its activities.")
    )
    activity_type = optional_choice(ActivityType.choices)


class ActivitySerializer(serializers.ModelSerializer):
    ward = serializers.CharField(source="ward.code", read_only=True)
    group_code = serializers.CharField(source="group.code", read_only=True)
    group_type = serializers.ChoiceField(
        source="group.group_type", choices=GroupType.choices, read_only=True
    )
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=Service.choices), read_only=True
    )
    citizens_helped = serializers.IntegerField(
        read_only=True, help_text=_("Citizens of the ward helped (each once).")
    )
    citizens = _PeopleField(
        serializers.SlugRelatedField(
            many=True, slug_field="code", read_only=True, source="helped_list"
        ),
        help_text=_("Codes of the citizens helped; staff, officials and administrators only."),
    )
    note = _PeopleField(serializers.CharField())

    class Meta:
        model = Activity
        fields = [
            "id",
            "group",
            "group_code",
            "group_type",
            "ward",
            "ref",
            "date",
            "year",
            "activity_type",
            "participants",
            "people_helped",
            "services",
            "dossiers",
            "citizens_helped",
            "citizens",
            "note",
        ]
        read_only_fields = fields


class ActivityViewSet(_ScopedViewSet):
    """Activities of the groups in your scope, newest first."""

    serializer_class = ActivitySerializer

    @extend_schema(parameters=[ActivityListParams])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[ID_PARAMETER])
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def base_rows(self) -> QuerySet[Activity]:
        return selectors.activity_list(user=self.request.user)

    def scoped(self, rows: QuerySet[Activity]) -> QuerySet[Activity]:
        rows = rows.select_related("group", "ward").annotate(citizens_helped=Count("helped"))
        if self.see_people():
            rows = rows.prefetch_related(
                Prefetch(
                    "citizens", queryset=Entity.objects.order_by("code"), to_attr="helped_list"
                )
            )
        return rows

    def get_queryset(self) -> QuerySet[Activity]:
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        params = validated_params(ActivityListParams, self.request)
        rows = selectors.activity_list(user=self.request.user, year=params.get("year"))
        if params.get("ward"):
            rows = in_ward(rows, user=self.request.user, code=params["ward"], field="ward")
        if params.get("group"):
            rows = rows.filter(group_id=params["group"])
        if params.get("activity_type"):
            rows = rows.filter(activity_type=params["activity_type"])
        return self.scoped(rows)


ROUTES = [
    ("groups", GroupViewSet, "api-groups"),
    ("activities", ActivityViewSet, "api-activities"),
]
