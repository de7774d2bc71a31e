"""Demonstration titles data for a province whose registry `generate_demo` has filled.

Two years, so every page has something to show:
- last year, decided: most entities registered and most of those recognised under one decision
  per ward and title (proportions near the field reports: Hoa Binh city recognised 91.5% of its
  households, Hanoi 89% of registered families), a few outstanding, the rest not recognised;
- this year, under way: a registration window open all year, most households and others
  registered, most with evidence entered, then evaluated, ready for the officials' review.

Deterministic for a seed (random.Random(seed), rows taken in a fixed order). Idempotent: a
province that already has registrations is left alone. Written with bulk inserts; every
registration gets its history event like any other.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from django.db import transaction

from audit.services import record_bulk
from registry.models import AdministrativeUnit, Entity, Kind
from titles.evaluation import CriterionType
from titles.models import Decision, Registration, RegistrationEvent, RegistrationWindow, State
from titles.services.criteria import criteria_in_force, criteria_load_defaults, parsed
from titles.services.evaluate import registrations_evaluate
from titles.services.rollups import rollups_rebuild

# Per kind: (share registered last year, share of those recognised, of those outstanding,
#            share registered this year, share of those with evidence entered).
PROPORTIONS = {
    Kind.FAMILY: (0.85, 0.92, 0.01, 0.80, 0.85),
    Kind.CLAN: (0.80, 0.85, 0.10, 0.75, 0.85),
    Kind.COMMUNITY: (0.75, 0.85, 0.05, 0.70, 0.90),
    Kind.UNIT: (0.85, 0.90, 0.08, 0.80, 0.90),
    Kind.CITIZEN: (0.50, 0.90, 0.01, 0.45, 0.80),
}
BATCH = 2000


@dataclass
class TitlesDemoReport:
    skipped: bool = False
    registrations: dict[int, int] = field(default_factory=dict)  # year -> count
    recognised: int = 0
    evaluated: int = 0


def _evidence(rng: random.Random, rules) -> dict[str, str]:
    """Plausible evidence: mostly good, some gaps and shortfalls, a few values not yet known."""
    values = {}
    for criterion in rules.criteria:
        if criterion.type == CriterionType.SHARE or rng.random() < 0.04:
            continue
        if criterion.type == CriterionType.BOOLEAN:
            values[criterion.code] = "1" if rng.random() < 0.9 else "0"
        elif criterion.type == CriterionType.NUMBER:
            values[criterion.code] = str(max(0, int(criterion.min) + rng.randint(-1, 3)))
        else:
            top = int(criterion.max)
            values[criterion.code] = str(rng.randint(top // 2, top))
    return values


def _registration(entity: tuple, year: int, **fields) -> Registration:
    pk, kind, ward_id, province_id = entity
    return Registration(
        entity_id=pk, year=year, kind=kind, ward_id=ward_id, province_id=province_id, **fields
    )


@transaction.atomic
def titles_demo_generate(*, province_code: str, seed: int, year: int) -> TitlesDemoReport:
    """Fill last year's decided and this year's evaluated registrations for the province."""
    report = TitlesDemoReport()
    province = AdministrativeUnit.objects.get(
        level=AdministrativeUnit.Level.PROVINCE, code=province_code, valid_to__isnull=True
    )
    if Registration.objects.filter(province=province).exists():
        report.skipped = True
        return report
    criteria_load_defaults()
    last = year - 1
    for window_year in (last, year):
        RegistrationWindow.objects.get_or_create(
            province=province,
            year=window_year,
            defaults={
                "opens_on": datetime.date(window_year, 1, 1),
                "closes_on": datetime.date(window_year, 12, 31),
            },
        )
    rng = random.Random(seed)
    decisions: dict[tuple[int, str], Decision] = {}
    new: list[Registration] = []
    for kind, (reg_last, recognised, outstanding, reg_now, with_evidence) in PROPORTIONS.items():
        rules_set = criteria_in_force(title=kind, year=year, province_id=province.pk)
        rules = parsed(rules_set) if rules_set else None
        entities = Entity.objects.filter(province=province, kind=kind).order_by("ward_id", "code")
        for entity in entities.values_list("pk", "kind", "ward_id", "province_id").iterator(
            chunk_size=BATCH
        ):
            ward_id = entity[2]
            if rng.random() < reg_last:
                if rng.random() < recognised:
                    key = (ward_id, kind)
                    if key not in decisions:
                        decisions[key] = Decision.objects.create(
                            ward_id=ward_id,
                            province=province,
                            year=last,
                            number=f"{len(decisions) + 101}/QĐ-UBND",
                            date=datetime.date(last, 12, 10),
                        )
                    new.append(
                        _registration(
                            entity,
                            last,
                            state=State.RECOGNIZED,
                            decision=decisions[key],
                            outstanding=rng.random() < outstanding,
                        )
                    )
                else:
                    new.append(
                        _registration(
                            entity,
                            last,
                            state=State.REJECTED,
                            rejection_reason="Chưa đạt tiêu chí (dữ liệu minh hoạ)",
                        )
                    )
            if rng.random() < reg_now:
                evidence = _evidence(rng, rules) if rules and rng.random() < with_evidence else {}
                new.append(
                    _registration(
                        entity,
                        year,
                        state=State.SUBMITTED if evidence else State.REGISTERED,
                        evidence=evidence,
                    )
                )
            if len(new) >= BATCH:
                _save(new, report)
                new = []
    _save(new, report)
    report.recognised = Registration.objects.filter(
        province=province, year=last, state=State.RECOGNIZED
    ).count()
    report.evaluated = len(registrations_evaluate(year=year, ward=None).rows)
    rollups_rebuild(province_id=province.pk)
    record_bulk(
        "titles_demo_generate",
        model=Registration,
        province_ids=[province.pk],
        year=year,
        seed=seed,
    )
    return report


def _save(registrations: list[Registration], report: TitlesDemoReport) -> None:
    created = Registration.objects.bulk_create(registrations, batch_size=BATCH)
    RegistrationEvent.objects.bulk_create(
        [
            RegistrationEvent(
                registration=r,
                action=RegistrationEvent.Action.IMPORT,
                to_state=r.state,
                reason="dữ liệu minh hoạ / demonstration data",
            )
            for r in created
        ],
        batch_size=BATCH,
    )
    for r in created:
        report.registrations[r.year] = report.registrations.get(r.year, 0) + 1
