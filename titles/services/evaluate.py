"""Running the evaluation rules over stored registrations and saving the results.

Bottom-up: citizens and families first, then clans, communities and units, whose share
criteria count member recognitions of the same year (a clan's and a community's households
recognised as Learning Families, a unit's staff recognised as Learning Citizens). Only
undecided registrations (registered, submitted, evaluated) are evaluated; each becomes
`evaluated`. Results are written with one UPDATE per chunk that matches each row's version as
read, so an approval that lands meanwhile is never overwritten: that row is simply left out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from registry.models import Citizen, Family, Kind, Unit
from titles import evaluation
from titles.models import CriteriaSet, Override, Registration, RegistrationEvent, State
from titles.services.criteria import criteria_in_force, parsed

BOTTOM_UP = (Kind.CITIZEN, Kind.FAMILY, Kind.CLAN, Kind.COMMUNITY, Kind.UNIT)
EVALUABLE = (State.REGISTERED, State.SUBMITTED, State.EVALUATED)
CHUNK = 1000


@dataclass(frozen=True)
class EvaluationRow:
    """One line of `evaluate --output`: the contract's columns."""

    registration_id: int
    kind: str
    ward: str
    code: str
    points: Decimal
    passed: bool
    outstanding: bool
    missing: tuple[str, ...]
    failed_required: tuple[str, ...]


@dataclass
class EvaluationRun:
    rows: list[EvaluationRow]
    no_criteria: dict[str, int]  # kind -> registrations left unevaluated for want of a set
    changed_meanwhile: int  # rows someone else changed while they were being evaluated


def result_json(result: evaluation.Evaluation, overridden: Iterable[str]) -> dict:
    """The stored, self-explaining form of a result (what the registration page shows)."""
    overridden = set(overridden)
    return {
        "points": str(result.points),
        "max_points": str(result.max_points),
        "passed": result.passed,
        "outstanding": result.outstanding,
        "missing": list(result.missing),
        "failed_required": list(result.failed_required),
        "criteria": [
            {
                "code": c.code,
                "type": str(c.type),
                "earned": str(c.earned),
                "possible": str(c.possible),
                "met": c.met,
                "evidence": None if c.evidence is None else str(c.evidence).lower(),
                "derived": (
                    None
                    if c.derived is None
                    else {"numerator": c.derived.numerator, "denominator": c.derived.denominator}
                ),
                "overridden": c.code in overridden,
                "reason": c.reason,
            }
            for c in result.criteria
        ],
    }


def _recognized(kind: str, year: int):
    return Registration.objects.filter(kind=kind, year=year, state=State.RECOGNIZED).values(
        "entity_id"
    )


def shares_for(*, kind: str, year: int, entity_ids: list[int]) -> dict[int, evaluation.Share]:
    """Derived figures per entity: recognised members of the year out of all members.

    Clan and community: households (families) recognised as Learning Families out of all their
    households. Unit: staff recognised as Learning Citizens out of the unit's declared staff
    (or of the citizens linked to it, if more are linked than declared).
    """
    if kind in (Kind.CLAN, Kind.COMMUNITY):
        member_fk = "clan_id" if kind == Kind.CLAN else "community_id"
        figures = (
            Family.objects.filter(**{f"{member_fk}__in": entity_ids})
            .values(member_fk)
            .annotate(
                total=Count("pk"),
                recognized=Count("pk", filter=Q(entity_id__in=_recognized(Kind.FAMILY, year))),
            )
        )
        shares = {
            row[member_fk]: evaluation.Share(row["recognized"], row["total"]) for row in figures
        }
        return {pk: shares.get(pk, evaluation.Share(0, 0)) for pk in entity_ids}
    if kind == Kind.UNIT:
        linked = {
            row["unit_id"]: row
            for row in Citizen.objects.filter(unit_id__in=entity_ids)
            .values("unit_id")
            .annotate(
                total=Count("pk"),
                recognized=Count("pk", filter=Q(entity_id__in=_recognized(Kind.CITIZEN, year))),
            )
        }
        shares = {}
        for pk, staff in Unit.objects.filter(pk__in=entity_ids).values_list("pk", "staff"):
            row = linked.get(pk, {"total": 0, "recognized": 0})
            shares[pk] = evaluation.Share(row["recognized"], max(staff, row["total"]))
        return shares
    return {}


def _evidence_values(
    rules: evaluation.CriteriaSet, stored: dict[str, str]
) -> dict[str, evaluation.EvidenceValue]:
    values = {}
    for criterion in rules.criteria:
        raw = stored.get(criterion.code)
        if raw is not None and criterion.type != evaluation.CriterionType.SHARE:
            values[criterion.code] = evaluation.parse_evidence(criterion, raw)
    return values


def _write_results(updates: list[tuple], now) -> set[int]:
    """Store results, each only if the row still has the version it was read with.

    `updates` rows: (id, version, points, passed, outstanding, result json, set id, digest).
    Returns the ids written.
    """
    if not updates:
        return set()
    cast = {
        "postgresql": ("bigint", "integer", "numeric", "boolean", "jsonb"),
        "sqlite": ("integer", "integer", "numeric", "integer", "text"),
    }[connection.vendor]
    big, integer, numeric, boolean, jsonb = cast
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(updates))
    sql = f"""
        UPDATE titles_registration AS r SET
            state = %s,
            points = CAST(v.column3 AS {numeric}),
            passed = CAST(v.column4 AS {boolean}),
            eval_outstanding = CAST(v.column5 AS {boolean}),
            result = CAST(v.column6 AS {jsonb}),
            criteria_set_id = CAST(v.column7 AS {big}),
            criteria_digest = v.column8,
            evaluated_at = %s,
            updated_at = %s,
            version = r.version + 1
        FROM (VALUES {placeholders}) AS v
        WHERE r.id = CAST(v.column1 AS {big}) AND r.version = CAST(v.column2 AS {integer})
        RETURNING id
    """  # noqa: S608 - only placeholders and fixed type names are interpolated
    params: list = [State.EVALUATED, now, now]
    for row in updates:
        params.extend(row)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _evaluate_chunk(
    rows: list[dict], kind: str, year: int, sets: dict[int, CriteriaSet | None], user
) -> tuple[list[EvaluationRow], int, int]:
    """Evaluate one chunk of registrations of one kind; returns (rows, unevaluated, lost)."""
    needs_shares = any(
        s is not None and any(c.type == "share" for c in parsed(s).criteria) for s in sets.values()
    )
    shares = (
        shares_for(kind=kind, year=year, entity_ids=[r["entity_id"] for r in rows])
        if needs_shares
        else {}
    )
    overrides: dict[int, dict[str, bool]] = defaultdict(dict)
    for reg_id, criterion, met in Override.objects.filter(
        registration_id__in=[r["id"] for r in rows], superseded=False
    ).values_list("registration_id", "criterion", "met"):
        overrides[reg_id][criterion] = met
    updates, out, unevaluated = [], {}, 0
    for row in rows:
        criteria_set = sets[row["province_id"]]
        if criteria_set is None:
            unevaluated += 1
            continue
        rules = parsed(criteria_set)
        codes = {c.code for c in rules.criteria}
        share_codes = [c.code for c in rules.criteria if c.type == "share"]
        row_overrides = {k: v for k, v in overrides[row["id"]].items() if k in codes}
        result = evaluation.evaluate(
            rules,
            _evidence_values(rules, row["evidence"] or {}),
            dict.fromkeys(share_codes, shares.get(row["entity_id"])),
            row_overrides,
        )
        updates.append(
            (
                row["id"],
                row["version"],
                str(result.points),
                result.passed,
                result.outstanding,
                json.dumps(result_json(result, row_overrides), ensure_ascii=False),
                criteria_set.pk,
                criteria_set.digest,
            )
        )
        out[row["id"]] = EvaluationRow(
            registration_id=row["id"],
            kind=kind,
            ward=row["ward__code"],
            code=row["entity__code"],
            points=result.points,
            passed=result.passed,
            outstanding=result.outstanding,
            missing=result.missing,
            failed_required=result.failed_required,
        )
    written = _write_results(updates, timezone.now())
    by_id = {row["id"]: row for row in rows}
    RegistrationEvent.objects.bulk_create(
        [
            RegistrationEvent(
                registration_id=reg_id,
                action=RegistrationEvent.Action.EVALUATE,
                from_state=by_id[reg_id]["state"],
                to_state=State.EVALUATED,
                user=user,
                detail={"points": str(out[reg_id].points), "passed": out[reg_id].passed},
            )
            for reg_id in sorted(written)
        ]
    )
    return [out[i] for i in sorted(written)], unevaluated, len(updates) - len(written)


def _evaluate(queryset, *, year: int, user) -> EvaluationRun:
    run = EvaluationRun(rows=[], no_criteria={}, changed_meanwhile=0)
    for kind in BOTTOM_UP:
        qs = queryset.filter(year=year, kind=kind, state__in=EVALUABLE).order_by("pk")
        fields = (
            "id",
            "version",
            "state",
            "entity_id",
            "province_id",
            "evidence",
            "ward__code",
            "entity__code",
        )
        sets: dict[int, CriteriaSet | None] = {}
        last_pk = 0
        while True:
            rows = list(qs.filter(pk__gt=last_pk).values(*fields)[:CHUNK])
            if not rows:
                break
            last_pk = rows[-1]["id"]
            for province_id in {r["province_id"] for r in rows} - sets.keys():
                sets[province_id] = criteria_in_force(
                    title=kind, year=year, province_id=province_id
                )
            with transaction.atomic():
                done, unevaluated, lost = _evaluate_chunk(rows, kind, year, sets, user)
            run.rows.extend(done)
            run.changed_meanwhile += lost
            if unevaluated:
                run.no_criteria[kind] = run.no_criteria.get(kind, 0) + unevaluated
    return run


def registrations_evaluate(*, year: int, ward=None, user=None) -> EvaluationRun:
    """Evaluate every undecided registration of `year` (in `ward` if given), bottom-up."""
    queryset = Registration.objects.all()
    if ward is not None:
        queryset = queryset.filter(ward=ward)
    return _evaluate(queryset, year=year, user=user)


def registration_reevaluate(*, registration: Registration, user=None) -> EvaluationRun:
    """Evaluate one registration now (after an override or new evidence)."""
    return _evaluate(
        Registration.objects.filter(pk=registration.pk), year=registration.year, user=user
    )
