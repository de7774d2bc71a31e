"""Reads for the titles pages. Every function takes the acting user and sees only their scope.

Registrations carry their ward and province, so scoping is one indexed filter; anything outside
the user's scope is absent from lists and raises Http404 when asked for directly.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from registry.access import scope_q
from registry.text import fold
from titles.models import Decision, Registration, State

RESULT_FILTERS = ("passed", "failed", "not_evaluated")


def registration_list(
    *,
    user,
    year: int | None = None,
    kind: str | None = None,
    state: str | None = None,
    ward_id: int | None = None,
    community_id: int | None = None,
    result: str | None = None,
    q: str | None = None,
) -> QuerySet[Registration]:
    """Registrations in scope, newest year first, then by ward and name; all filters optional.

    `community_id` keeps families living in that residential area (and the area itself);
    `result` is one of RESULT_FILTERS.
    """
    qs = Registration.objects.filter(scope_q(user)).select_related("entity", "ward", "decision")
    if year:
        qs = qs.filter(year=year)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if ward_id:
        qs = qs.filter(ward_id=ward_id)
    if community_id:
        qs = qs.filter(entity__family__community_id=community_id) | qs.filter(
            entity_id=community_id
        )
    if result == "passed":
        qs = qs.filter(passed=True)
    elif result == "failed":
        qs = qs.filter(passed=False)
    elif result == "not_evaluated":
        qs = qs.filter(passed__isnull=True)
    for token in fold(q or "").split():
        qs = qs.filter(entity__search_text__contains=token)
    return qs.order_by("-year", "ward__code", "entity__name", "pk")


def registration_get(*, user, pk: int) -> Registration:
    """One registration in scope, with what its page shows; Http404 otherwise."""
    registration = (
        Registration.objects.filter(scope_q(user), pk=pk)
        .select_related("entity", "ward", "province", "decision", "criteria_set")
        .first()
    )
    if registration is None:
        raise Http404
    return registration


def registration_history(*, registration: Registration):
    return registration.events.select_related("user").order_by("at", "pk")


def registration_overrides(*, registration: Registration):
    return registration.overrides.select_related("user").order_by("-at", "-pk")


def decision_list(*, user, year: int | None = None) -> QuerySet[Decision]:
    qs = Decision.objects.filter(scope_q(user)).select_related("ward")
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-date", "-pk")


def decision_get(*, user, pk: int) -> Decision:
    decision = Decision.objects.filter(scope_q(user), pk=pk).select_related("ward").first()
    if decision is None:
        raise Http404
    return decision


def recognised_list(*, decision: Decision) -> QuerySet[Registration]:
    return (
        decision.registrations.filter(state=State.RECOGNIZED)
        .select_related("entity")
        .order_by("kind", "entity__name", "pk")
    )
