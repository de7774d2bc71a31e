"""Upkeep that the apps built on the registry run when the registry changes, and what they add
to the registry's pages.

`registry` is the ground layer and imports nothing from the apps above it. When a write here
moves figures that an upper app keeps (the titles' roll-ups count a ward's households and their
registrations by residential area), the upper app subscribes at start-up, in its
`AppConfig.ready`, and the registry calls every subscriber in the writing transaction.

Likewise an entity's page shows what the apps above know of it (a household's registrations
and titles by year): an app registers a panel at start-up, and the page renders every panel
under the entity's own facts.

Likewise a new entity's first counted year depends on which years its ward kept in the upper
app (`on_recorded_years`, `entities_counted_from`), and an upper app that keeps a copy of an
entity's place in a Vietnamese list (the titles' registrations) re-sorts it when the entity is
renamed (`on_entities_renamed`, `entities_renamed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest

from registry.services.tallies import tallies_refresh

WardsChanged = Callable[[set[int]], None]
# panel(request=, kind=, obj=) → the panel's HTML for the entity `obj` of list slug `kind`, or ""
# when it has nothing to show there. It reads through its app's selectors (the request's user).
EntityPanel = Callable[..., str]

_wards_changed: list[WardsChanged] = []
_entity_panels: list[EntityPanel] = []
# (ward ids, year) -> {ward id: the latest year before `year` the ward kept in the system}
RecordedYears = Callable[[set[int], int], dict[int, int]]
_recorded_years: list[RecordedYears] = []
EntitiesRenamed = Callable[[set[int]], object]
_entities_renamed: list[EntitiesRenamed] = []


def on_wards_changed(handler: WardsChanged) -> WardsChanged:
    """Subscribe `handler(ward_ids)` to `wards_changed` (once, however often it is called)."""
    if handler not in _wards_changed:
        _wards_changed.append(handler)
    return handler


def wards_changed(*, ward_ids: Iterable[int]) -> None:
    """The entities of these wards were added, or moved between residential areas.

    Recomputes the registry's own tallies, then runs each subscriber, in the caller's
    transaction: a rolled-back write leaves every figure as it was.
    """
    wards = set(ward_ids)
    if not wards:
        return
    tallies_refresh(ward_ids=wards)
    for handler in _wards_changed:
        handler(wards)


def on_entities_renamed(handler: EntitiesRenamed) -> EntitiesRenamed:
    """Subscribe `handler(entity_ids)` to `entities_renamed` (once, however often it is called)."""
    if handler not in _entities_renamed:
        _entities_renamed.append(handler)
    return handler


def entities_renamed(*, entity_ids: Iterable[int]) -> None:
    """These entities' names (and so their sort keys) changed: each subscriber updates what it
    copied of them, in the caller's transaction."""
    entities = set(entity_ids)
    if not entities:
        return
    for handler in _entities_renamed:
        handler(entities)


def on_entity_detail(panel: EntityPanel) -> EntityPanel:
    """Show `panel` on every entity's page (once, however often it is called)."""
    if panel not in _entity_panels:
        _entity_panels.append(panel)
    return panel


def entity_detail_panels(*, request: HttpRequest, kind: str, obj) -> list[str]:
    """The HTML of every registered panel for this entity's page, in registration order."""
    panels = (panel(request=request, kind=kind, obj=obj) for panel in _entity_panels)
    return [html for html in panels if html]


def on_recorded_years(provider: RecordedYears) -> RecordedYears:
    """Subscribe `provider(ward_ids, year)`: the latest earlier year each ward kept (recorded
    during that year)."""
    if provider not in _recorded_years:
        _recorded_years.append(provider)
    return provider


def entities_counted_from(*, ward_ids: Iterable[int], year: int) -> dict[int, int | None]:
    """The `counted_from` of an entity recorded now (in `year`) in each of these wards.

    The year after the latest earlier year the ward kept in the system (any subscriber's), or
    None (every year) if there is none: the rule is in `registry.services.tallies`.
    """
    wards = set(ward_ids)
    latest: dict[int, int] = {}
    for provider in _recorded_years:
        for ward_id, recorded in provider(wards, year).items():
            latest[ward_id] = max(recorded, latest.get(ward_id, recorded))
    return {ward_id: latest[ward_id] + 1 if ward_id in latest else None for ward_id in wards}
