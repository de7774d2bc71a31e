"""Fixtures of the fuzz tests: a ward with one entity of each kind, and a rollback per example.

Hypothesis runs many examples inside one test (and one database transaction); `rolled_back`
gives each example its own savepoint, undone afterwards, so examples never see each other's
writes and "nothing was written" can be checked against the state before the example.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.db import transaction

from registry.models import Entity
from tests.factories import make_citizen, make_clan, make_community, make_family, make_unit
from titles.models import Decision, Registration, RegistrationEvent, Target


@contextlib.contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def snapshot() -> tuple:
    """Everything an import or a form may write, to compare before and after."""
    return (
        sorted(Entity.objects.values_list("kind", "ward_id", "code", "name", "search_text")),
        sorted(Registration.objects.values_list("entity_id", "year", "state", "version")),
        sorted(
            (entity, year, repr(evidence))
            for entity, year, evidence in Registration.objects.values_list(
                "entity_id", "year", "evidence"
            )
        ),
        sorted(Decision.objects.values_list("ward_id", "number", "date")),
        sorted(Target.objects.values_list("unit_id", "kind", "year", "min_rate", "max_rate")),
        RegistrationEvent.objects.count(),
    )


@pytest.fixture
def registry_a(ward_a):
    """One entity of each kind in ward A, with codes the generated rows refer to."""
    area = make_community(ward_a, code="TDP1", name="Tổ dân phố 1")
    clan = make_clan(ward_a, code="DH1", name="Dòng họ Nguyễn")
    family = make_family(ward_a, code="HGD1", community=area, clan=clan)
    unit = make_unit(ward_a, code="DV1")
    citizen = make_citizen(ward_a, code="CD1", family=family, unit=unit)
    return {"community": area, "clan": clan, "family": family, "unit": unit, "citizen": citizen}
