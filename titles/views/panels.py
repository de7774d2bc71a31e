"""What the titles add to an entity's page in the registry (registered at start-up through
`registry.hooks.on_entity_detail`): its registrations and titles by year, the way to this year's
registration, and on a residential area's page its households' self-assessment slips."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from registry.access import can_register
from titles import selectors
from titles.forms import current_year


def entity_titles_panel(*, request: HttpRequest, kind: str, obj) -> str:
    """The panel's HTML: the years' registrations (state, result, recognition), this year's
    registration or the button to make it, and for an area the link to its slip sheet."""
    registrations = list(selectors.entity_registrations(user=request.user, entity_id=obj.pk))
    year = current_year()
    return render_to_string(
        "titles/staff/_entity_titles.html",
        {
            "kind": kind,
            "obj": obj,
            "registrations": registrations,
            "year": year,
            "current": next((r for r in registrations if r.year == year), None),
            "can_register": can_register(request.user),
        },
        request=request,
    )
