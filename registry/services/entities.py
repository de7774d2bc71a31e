"""Creating and changing registry entities (families, clans, communities, units, citizens).

An entity is its shared `Entity` row plus the kind's row; both are written together here, so the
search text, the province key and the kind's own fields never disagree.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.hooks import entities_counted_from, entities_renamed, wards_changed
from registry.models import KIND_MODELS, AdministrativeUnit, Entity, EntityKindModel, Kind
from registry.services.tallies import tallies_add, tallies_change

# Kind fields whose change moves an entity from one residential area's figures to another's.
MOVES_BETWEEN_AREAS = {"community", "family"}


def search_extra(kind: str, attrs: dict[str, Any]) -> list[str]:
    """What besides name and code a search should find an entity by.

    `attrs` are the kind's own field values; every writer of `Entity.search_text` (the forms'
    services here, the spreadsheet import) goes through this so search finds the same things.
    """
    if kind == Kind.CLAN and attrs.get("head_name"):
        return [attrs["head_name"]]
    return []


@transaction.atomic
def entity_create(
    *, kind: str, ward: AdministrativeUnit, code: str, name: str, **attrs: Any
) -> EntityKindModel:
    """Create an entity of `kind` in `ward`; `attrs` are the kind's own fields (resolved objects).

    Raises ValidationError (nothing written) if any field or constraint does not hold, or if
    `ward` is a unit before 1 July 2025 (they hold no new records; the database refuses it too).
    """
    if ward.level != AdministrativeUnit.Level.WARD:
        raise ValidationError(
            {
                "ward": _(
                    "%(code)s %(name)s is not a current commune/ward: records go to the current "
                    "commune/ward."
                )
                % {"code": ward.code, "name": ward.name}
            }
        )
    counted_from = entities_counted_from(ward_ids=[ward.pk], year=timezone.localdate().year)
    entity = Entity(
        kind=kind,
        ward=ward,
        province_id=ward.parent_id,
        code=code.strip(),
        name=name.strip(),
        counted_from=counted_from[ward.pk],
    )
    entity.refresh_search_text(*search_extra(kind, attrs))
    entity.full_clean()
    entity.save()
    obj = KIND_MODELS[kind](entity=entity, **attrs)
    obj.full_clean(exclude=["entity"])
    obj.save()
    tallies_add(obj)
    return obj


@transaction.atomic
def entity_update(*, obj: EntityKindModel, name: str, **attrs: Any) -> EntityKindModel:
    """Change an entity's display name and kind fields; its ward, kind and code stay as they are.

    Returns the object; writes only if something changed. The caller passes `obj` as loaded,
    with its attributes not yet changed.
    """
    entity = obj.entity
    before = {f: getattr(obj, f) for f in attrs}
    changed_kind_fields = [f for f, v in attrs.items() if before[f] != v]
    for field, value in attrs.items():
        setattr(obj, field, value)
    old_name, old_search, old_sort_key = entity.name, entity.search_text, entity.sort_key
    entity.name = name.strip()
    entity.refresh_search_text(*search_extra(entity.kind, attrs))
    entity_changed = entity.name != old_name or entity.search_text != old_search
    if not (entity_changed or changed_kind_fields):
        return obj
    entity.full_clean()
    obj.full_clean(exclude=["entity"])
    entity.save(update_fields=["name", "search_text", "sort_key", "updated_at"])
    if entity.sort_key != old_sort_key:
        entities_renamed(entity_ids=[entity.pk])
    if changed_kind_fields:
        obj.save(update_fields=changed_kind_fields)
    if set(changed_kind_fields) & MOVES_BETWEEN_AREAS:
        # A household (or a citizen's household) in another residential area moves both its
        # entity count and the figures the apps above keep by area (registrations).
        wards_changed(ward_ids=[entity.ward_id])
    elif {"members", "birth_year"} & set(changed_kind_fields):
        # The family tallies keep the members; the birth-year tallies the adults of a year.
        tallies_change(
            obj, members_before=before.get("members"), birth_year_before=before.get("birth_year")
        )
    return obj
