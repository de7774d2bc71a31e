"""Upkeep that the apps built on the registry run when the registry changes.

`registry` is the ground layer and imports nothing from the apps above it. When a write here
moves figures that an upper app keeps (the titles' roll-ups count a ward's households and their
registrations by residential area), the upper app subscribes at start-up, in its
`AppConfig.ready`, and the registry calls every subscriber in the writing transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from registry.services.tallies import tallies_refresh

WardsChanged = Callable[[set[int]], None]

_wards_changed: list[WardsChanged] = []


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
