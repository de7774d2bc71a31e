"""Loading criteria sets and finding the one in force.

The set in force for (title, year, province) is the province's own if one is valid that year,
else the national one. Within one scope and title, validity ranges never overlap; loading a
set whose range would overlap another's is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from registry.models import AdministrativeUnit
from titles.models import CriteriaSet, Registration
from titles.rules import evaluation
from titles.rules.criteria_file import DEFAULTS_DIR, CriteriaFileError, overlaps, parse_criteria_set

# Parsed definitions by digest: a definition never changes under its digest.
_PARSED: dict[str, evaluation.CriteriaSet] = {}


def parsed(criteria_set: CriteriaSet) -> evaluation.CriteriaSet:
    """The rules' view of a stored set, parsed once per process."""
    if criteria_set.digest not in _PARSED:
        _PARSED[criteria_set.digest] = parse_criteria_set(criteria_set.definition)
    return _PARSED[criteria_set.digest]


def _digest(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def criteria_load(*, document: str | bytes | dict[str, Any]) -> tuple[CriteriaSet, str]:
    """Validate and store a criteria-set document; returns (set, "created"|"updated"|"unchanged").

    Raises CriteriaFileError listing every problem; nothing is written then.
    """
    rules = parse_criteria_set(document)
    if not isinstance(document, dict):
        document = json.loads(document)
    province = None
    if rules.province is not None:
        province = AdministrativeUnit.objects.filter(
            level=AdministrativeUnit.Level.PROVINCE, code=rules.province, valid_to__isnull=True
        ).first()
        if province is None:
            raise CriteriaFileError(
                [
                    _("province: no province with code %(code)s is loaded.")
                    % {"code": rules.province}
                ]
            )
    clashes = [
        other.code
        for other in CriteriaSet.objects.filter(title=rules.title, province=province).exclude(
            code=rules.code
        )
        if overlaps(rules.valid_from, rules.valid_to, other.valid_from, other.valid_to)
    ]
    if clashes:
        raise CriteriaFileError(
            [
                _("valid_from/valid_to: the years overlap those of %(codes)s for the same scope.")
                % {"codes": ", ".join(sorted(clashes))}
            ]
        )
    digest = _digest(document)
    fields = {
        "title": str(rules.title),
        "name": rules.name,
        "valid_from": rules.valid_from,
        "valid_to": rules.valid_to,
        "province": province,
        "definition": document,
        "digest": digest,
    }
    existing = CriteriaSet.objects.filter(code=rules.code).first()
    if existing is None:
        criteria_set = CriteriaSet(code=rules.code, **fields)
        criteria_set.full_clean()
        criteria_set.save()
        return criteria_set, "created"
    if existing.digest == digest:
        return existing, "unchanged"
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.full_clean()
    existing.save()
    return existing, "updated"


def criteria_load_defaults() -> list[tuple[CriteriaSet, str]]:
    """Load the national default sets shipped in titles/criteria/ (idempotent)."""
    return [
        criteria_load(document=path.read_text(encoding="utf-8"))
        for path in sorted(DEFAULTS_DIR.glob("*.json"))
    ]


def criteria_in_force(*, title: str, year: int, province_id: int | None) -> CriteriaSet | None:
    """The province's own set valid in `year` if there is one, else the national one."""
    candidates = CriteriaSet.objects.filter(
        Q(province_id=province_id) | Q(province__isnull=True),
        title=title,
        valid_from__lte=year,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=year))
    best = None
    for candidate in candidates:
        if candidate.province_id is not None:
            return candidate
        best = candidate
    return best


def criteria_for(registration: Registration) -> CriteriaSet | None:
    return criteria_in_force(
        title=registration.kind, year=registration.year, province_id=registration.province_id
    )
