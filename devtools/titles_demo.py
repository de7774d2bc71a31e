"""Demonstration titles data for a province whose registry `generate_demo` has filled.

Two years, so every page has something to show:
- last year, decided: most entities registered and most of those recognised under one decision
  per ward and title (proportions near the field reports: Hoa Binh city recognised 91.5% of its
  households, Hanoi 89% of registered families), a few outstanding, the rest not recognised;
- this year, under way: a registration window open all year, most households and others
  registered, most with evidence entered, then evaluated, ready for the officials' review.

Deterministic for a seed (random.Random(seed), entities taken kind by kind, ward by ward, in code
order). Idempotent: a province that already has registrations is left alone. Every registration
gets its history event like any other.

Written for a province of any size, Hanoi's 2.2 million households (~9 million registrations)
included: rows are built as plain lists, CHUNK_ROWS at a time (memory stays bounded), in a process
of their own while the previous chunk is written (`devtools.bulk.in_background`), and
written by COPY on PostgreSQL (multi-row INSERTs on SQLite) through `devtools.bulk.BulkWriter`.
Evaluating this year's registrations is the one step that grows with the evidence: up to
`EVALUATE_ALL_UP_TO` registrations it covers the whole province; beyond, the demo ward (where
`demo_accounts` puts the staff and official logins) only, and the rest are left submitted for
`manage.py evaluate --year YEAR` (bench/evaluate_bench.py measures that).
"""

from __future__ import annotations

import datetime
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import models, reset_queries, transaction
from django.db.models import Count

from audit.services import record_bulk
from devtools.bulk import (
    BulkWriter,
    analyze,
    foreign_keys_checked_at_end,
    in_background,
    indexes_built_at_end,
)
from devtools.registry_demo import demo_ward
from registry.models import AdministrativeUnit, Entity, Kind
from titles import workflow
from titles.models import (
    Certificate,
    Decision,
    Registration,
    RegistrationEvent,
    RegistrationWindow,
    State,
)
from titles.rules.evaluation import CriterionType
from titles.services.certificates import certificates_number_missing
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
CHUNK_ROWS = 10_000
EVALUATE_ALL_UP_TO = 100_000
"""This year's registrations up to which the demo evaluates the whole province (about 30,000
households; `make run` generates 3,000)."""
EVENT_REASON = "dữ liệu minh hoạ / demonstration data"
REJECTION_REASON = "Chưa đạt tiêu chí (dữ liệu minh hoạ)"


@dataclass
class TitlesDemoReport:
    skipped: bool = False
    registrations: dict[int, int] = field(default_factory=dict)  # year -> count
    recognised: int = 0
    evaluated: int = 0
    evaluated_ward: AdministrativeUnit | None = None  # set when only the demo ward was evaluated
    seconds: float = 0.0  # registrations and events written
    evaluate_seconds: float = 0.0
    rollup_seconds: float = 0.0


class _EvidenceMaker:
    """Plausible evidence for a criteria set: mostly good, some gaps and shortfalls, a few
    values not yet known. Returns it as the JSON text that json.dumps would give (millions
    of registrations at province scale: the text is assembled from pieces made once)."""

    def __init__(self, rules):
        self.criteria = []
        for criterion in rules.criteria:
            if criterion.type == CriterionType.SHARE:
                continue
            if criterion.type == CriterionType.BOOLEAN:
                low = high = None
            elif criterion.type == CriterionType.NUMBER:
                low = high = int(criterion.min)
            else:
                low, high = int(criterion.max) // 2, int(criterion.max)
            key = json.dumps(criterion.code, ensure_ascii=False) + ": "
            self.criteria.append((key, criterion.type, low, high))

    def __call__(self, rng: random.Random) -> str:
        parts = []
        for key, kind, low, high in self.criteria:
            if rng.random() < 0.04:
                continue
            if kind == CriterionType.BOOLEAN:
                value = "1" if rng.random() < 0.9 else "0"
            elif kind == CriterionType.NUMBER:
                value = str(max(0, low + rng.randint(-1, 3)))
            else:
                value = str(rng.randint(low, high))
            parts.append(f'{key}"{value}"')
        return "{" + ", ".join(parts) + "}"


class _Rows:
    """A model's rows as tuples in the order of its concrete fields, defaults filled in.

    Whatever fields the model has, a row gets each field's default (JSON encoded for a JSON
    field, the time of the run for auto_now fields) unless the caller gives a value.
    """

    def __init__(self, model: type[models.Model], now):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.names = [f.name for f in self.fields]
        self.position = {f.attname: i for i, f in enumerate(self.fields)}
        self.json = {f.attname for f in self.fields if isinstance(f, models.JSONField)}
        template = []
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()
            template.append(json.dumps(value) if f.attname in self.json else value)
        self.template = template

    def row(self, **values) -> list:
        row = list(self.template)
        for attname, value in values.items():
            row[self.position[attname]] = (
                json.dumps(value, ensure_ascii=False) if attname in self.json else value
            )
        return row

    def maker(self, *varying: str, **fixed):
        """A function of the `varying` values (JSON fields as JSON text already) that returns
        a row with them and `fixed`: for millions of rows of a few shapes."""
        template = self.row(**fixed)
        positions = [self.position[attname] for attname in varying]

        def make(*values) -> list:
            row = template.copy()
            for position, value in zip(positions, values, strict=True):
                row[position] = value
            return row

        return make


class _WardRows(NamedTuple):
    """Up to CHUNK_ROWS of one ward's registrations of one kind, made by `_province_rows`
    without database ids: the entity column holds the entity's index in the ward's entities of
    the kind by code, and the recognised rows (`decided`, indexes into `rows`) wait for the id
    of the ward's decision for the kind, numbered `decision_number`."""

    kind: str
    ward_id: int
    rows: list[list]
    decided: list[int]
    decision_number: str | None
    per_year: Counter


class _RegistrationWriter:
    """Registrations written ward by ward and kind by kind, then their `import` events by one
    statement.

    The events are derived from the registrations in the database (INSERT ... SELECT): nothing
    of them travels from Python, and no registration id needs to come back.
    """

    def __init__(self, province: AdministrativeUnit, year: int, report: TitlesDemoReport):
        self.out = BulkWriter()
        self.rows = _Rows(Registration, self.out.now)
        self.province = province
        self.year = year
        self.report = report
        self.entity = self.rows.position["entity_id"]
        self.sort_key = self.rows.position["sort_key"]
        self.decision = self.rows.position["decision_id"]
        self.current: tuple[str, int] | None = None  # (kind, ward id) of the rows last written
        self.ids: list[tuple[int, str]] = []  # its entities' (id, sort key) in code order
        self.decision_id: int | None = None  # its decision, once written

    def write(self, ward: _WardRows) -> None:
        if (ward.kind, ward.ward_id) != self.current:
            self.current = (ward.kind, ward.ward_id)
            self.ids = list(
                Entity.objects.filter(ward_id=ward.ward_id, kind=ward.kind)
                .order_by("code")
                .values_list("pk", "sort_key")
            )
            self.decision_id = None
        ids, position, sort_key = self.ids, self.entity, self.sort_key
        for row in ward.rows:
            # A registration repeats its entity's sort key (the lists' order).
            row[position], row[sort_key] = ids[row[position]]
        if ward.decided:
            if self.decision_id is None:
                self.decision_id = Decision.objects.create(
                    ward_id=ward.ward_id,
                    province=self.province,
                    year=self.year - 1,
                    number=ward.decision_number,
                    date=datetime.date(self.year - 1, 12, 10),
                ).pk
            for index in ward.decided:
                ward.rows[index][self.decision] = self.decision_id
        self.out.insert(Registration, self.rows.names, ward.rows)
        for year, count in ward.per_year.items():
            self.report.registrations[year] = self.report.registrations.get(year, 0) + count

    def events(self, province_id: int) -> None:
        """One `import` event for every registration of the province."""
        workflow.registrations_record_loaded(
            province_id=province_id, reason=EVENT_REASON, at=self.out.now
        )


@transaction.atomic
def titles_demo_generate(*, province_code: str, seed: int, year: int) -> TitlesDemoReport:
    """Fill last year's decided and this year's registrations (evaluated; see the module doc)
    for the province. One transaction: all of it or nothing."""
    report = TitlesDemoReport()
    province = AdministrativeUnit.objects.get(
        level=AdministrativeUnit.Level.PROVINCE, code=province_code, valid_to__isnull=True
    )
    if Registration.objects.filter(province=province).exists():
        report.skipped = True
        return report
    started = time.perf_counter()
    loaded = (Registration, RegistrationEvent)
    with foreign_keys_checked_at_end(*loaded), indexes_built_at_end(*loaded):
        _registrations_generate(province, seed=seed, year=year, report=report)
    # Statistics first: the numbering reads the 4.5 million recognised registrations, and
    # planned without statistics it expected 47,000 of them and took 221 s instead of 48 s
    # (Hanoi's scale, bench/RESULTS.md, "Demo data generation").
    analyze(Registration, RegistrationEvent)
    # Last year's decisions number their certificates as they are made, like any other: 4.5
    # million at Hanoi's scale, their two foreign keys checked once at the end (row by row,
    # the checks queued until the commit took as long as the numbering itself).
    with foreign_keys_checked_at_end(Certificate):
        certificates_number_missing(province_id=province.pk)
    report.seconds = time.perf_counter() - started
    report.recognised = Registration.objects.filter(
        province=province, year=year - 1, state=State.RECOGNIZED
    ).count()
    wards = AdministrativeUnit.objects.filter(parent=province, valid_to__isnull=True)
    if report.registrations.get(year, 0) > EVALUATE_ALL_UP_TO:
        report.evaluated_ward = demo_ward(province)
        wards = wards.filter(pk=report.evaluated_ward.pk)
    started = time.perf_counter()
    for ward in wards.order_by("code"):
        report.evaluated += len(registrations_evaluate(year=year, ward=ward).rows)
        # With DEBUG on, Django keeps the text of the last 9,000 queries, and the evaluation's
        # carry a chunk's results (megabytes each): let go of the previous ward's.
        reset_queries()
    report.evaluate_seconds = time.perf_counter() - started
    # The evaluation moved registrations to "evaluated": without fresh statistics the planner
    # expects none in that state and the review queue's plan (nested loops for "1 row") took
    # seconds instead of milliseconds until the next autovacuum.
    analyze(Registration, RegistrationEvent)
    started = time.perf_counter()
    # Registrations move no entity count: the registry's load (or its writes) keeps those.
    rollups_rebuild(province_id=province.pk, tallies=False)
    report.rollup_seconds = time.perf_counter() - started
    record_bulk(
        "titles_demo_generate", model=Registration, province_ids=[province.pk], year=year, seed=seed
    )
    return report


def _registrations_generate(
    province: AdministrativeUnit, *, seed: int, year: int, report: TitlesDemoReport
) -> None:
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
    ward_ids = list(
        AdministrativeUnit.objects.filter(parent=province, valid_to__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    counts = {
        (row["kind"], row["ward_id"]): row["n"]
        for row in Entity.objects.filter(province=province)
        .values("kind", "ward_id")
        .annotate(n=Count("pk"))
    }
    rules = {}
    for kind in PROPORTIONS:
        rules_set = criteria_in_force(title=kind, year=year, province_id=province.pk)
        rules[kind] = _EvidenceMaker(parsed(rules_set)) if rules_set else None
    out = _RegistrationWriter(province, year, report)
    made = _province_rows(
        out.rows,
        province_id=province.pk,
        year=year,
        wards=[
            (kind, ward_id, counts.get((kind, ward_id), 0))
            for kind in PROPORTIONS
            for ward_id in ward_ids
        ],
        evidence=rules,
        seed=seed,
    )
    for ward in in_background(made):
        out.write(ward)
    out.events(province.pk)


def _province_rows(rows: _Rows, *, province_id, year, wards, evidence, seed):
    """The registrations of the province, ward by ward and kind by kind (`_WardRows`).

    Pure Python, no database, so that `in_background` can make the next rows in a process of
    its own while the last ones are written. `wards` lists (kind, ward id, number of its
    entities of the kind); one random.Random(seed) draws everything, entity by entity in that
    order.
    """
    last = year - 1
    rng = random.Random(seed)
    decisions = 0
    for kind, ward_id, entities in wards:
        reg_last, recognised, outstanding, reg_now, with_evidence = PROPORTIONS[kind]
        common = {"kind": kind, "ward_id": ward_id, "province_id": province_id}
        make_recognised = rows.maker(
            "entity_id", "outstanding", year=last, **workflow.loaded(State.RECOGNIZED), **common
        )
        make_rejected = rows.maker(
            "entity_id",
            year=last,
            **workflow.loaded(State.REJECTED),
            rejection_reason=REJECTION_REASON,
            **common,
        )
        make_now = rows.maker("entity_id", "state", "evidence", year=year, **common)
        evidence_of = evidence[kind]
        made, decided, per_year, number = [], [], Counter(), None
        for index in range(entities):
            if rng.random() < reg_last:
                if rng.random() < recognised:
                    if number is None:  # the ward's decision for the kind, numbered in order
                        decisions += 1
                        number = f"{decisions + 100}/QĐ-UBND"
                    decided.append(len(made))
                    made.append(make_recognised(index, rng.random() < outstanding))
                else:
                    made.append(make_rejected(index))
                per_year[last] += 1
            if rng.random() < reg_now:
                text = evidence_of(rng) if evidence_of and rng.random() < with_evidence else "{}"
                state = workflow.evidence_target({} if text == "{}" else {"": text})
                made.append(make_now(index, state, text))
                per_year[year] += 1
            if len(made) >= CHUNK_ROWS:
                yield _WardRows(kind, ward_id, made, decided, number, per_year)
                made, decided, per_year = [], [], Counter()
        if made:
            yield _WardRows(kind, ward_id, made, decided, number, per_year)
