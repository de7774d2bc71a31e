"""Loading provinces and communes/wards from the official list (the `vietnam-provinces` package).

Invariants kept here:
- a unit is matched by (level, code) among the units in force; a rerun creates nothing and
  rewrites only what the package changed (name, division type, codename);
- history is never rewritten: a unit in the database that the package no longer lists is left as
  it is and reported, because ending it (`valid_to`) is a human decision;
- a unit is never moved to another province here: a ward whose parent differs from the package's
  is reported as a conflict and left alone (its entities carry that province);
- every loaded province and ward has its Association for Promoting Education.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from vietnam_provinces import Province, Ward

from registry.models import AdministrativeUnit, Association

Level = AdministrativeUnit.Level

# The two-tier system (34 provinces, 3,321 communes/wards) came into force on this day.
TWO_TIER_START = dt.date(2025, 7, 1)
BATCH_SIZE = 500


@dataclass
class LevelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class DivisionsReport:
    provinces: LevelCounts = field(default_factory=LevelCounts)
    wards: LevelCounts = field(default_factory=LevelCounts)
    associations_created: int = 0
    # Units in force in the database that the official list does not (or no longer) name.
    not_in_official_list: list[AdministrativeUnit] = field(default_factory=list)
    # Wards whose province in the database differs from the official list's; left alone.
    conflicts: list[AdministrativeUnit] = field(default_factory=list)


def province_code_normalize(code: str) -> str:
    """'1' or '01' -> '01'; anything that is not a number of one or two digits is refused."""
    code = code.strip()
    if not code.isdigit() or len(code) > 2:
        raise ValidationError(
            _("“%(code)s” is not a province code: use its two digits, such as 01 for Hà Nội.")
            % {"code": code}
        )
    return f"{int(code):02d}"


def official_provinces() -> dict[str, Province]:
    """The provinces of the official list, by two-digit code."""
    return {f"{int(p.code):02d}": p for p in Province.iter_all()}


def unit_phrase(unit: AdministrativeUnit) -> str:
    """How a unit is named after a noun: 'phường Hoàn Kiếm', 'tỉnh Cao Bằng', 'thành phố Hà Nội'.

    The package names wards with their type ('Phường Hoàn Kiếm') and provinces either with it
    ('Thành phố Hà Nội') or without ('Cao Bằng'); in running text the type is lower case.
    """
    # 'thành phố trung ương' (a centrally governed city) is called 'thành phố' in its name.
    kind = unit.division_type.strip().removesuffix(" trung ương")
    name = unit.name.strip()
    if kind and name.lower().startswith(kind.lower() + " "):
        return f"{kind.lower()} {name[len(kind) + 1 :]}"
    return f"{kind.lower()} {name}" if kind else name


def association_name(unit: AdministrativeUnit) -> str:
    return f"Hội Khuyến học {unit_phrase(unit)}"


def _target(code: str, name: str, division_type: str, codename: str) -> dict[str, str]:
    return {"code": code, "name": name, "division_type": division_type, "codename": codename}


def _sync_level(
    *,
    level: str,
    targets: list[dict[str, str]],
    parents: dict[str, AdministrativeUnit] | None,
    parent_of: dict[str, str],
    counts: LevelCounts,
    report: DivisionsReport,
) -> None:
    """Create the missing units of one level and update the changed ones (bulk)."""
    existing = {
        u.code: u
        for u in AdministrativeUnit.objects.filter(
            level=level, valid_to__isnull=True, code__in=[t["code"] for t in targets]
        ).select_related("parent")
    }
    to_create, to_update = [], []
    for t in targets:
        unit = existing.get(t["code"])
        parent = parents[parent_of[t["code"]]] if parents is not None else None
        if unit is None:
            to_create.append(
                AdministrativeUnit(level=level, parent=parent, valid_from=TWO_TIER_START, **t)
            )
            continue
        if parent is not None and unit.parent_id != parent.pk:
            report.conflicts.append(unit)
            continue
        changed = False
        for attr in ("name", "division_type", "codename"):
            if getattr(unit, attr) != t[attr]:
                setattr(unit, attr, t[attr])
                changed = True
        if changed:
            to_update.append(unit)
        else:
            counts.unchanged += 1
    AdministrativeUnit.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    AdministrativeUnit.objects.bulk_update(
        to_update, ["name", "division_type", "codename"], batch_size=BATCH_SIZE
    )
    counts.created += len(to_create)
    counts.updated += len(to_update)


def associations_ensure(*, units: list[AdministrativeUnit]) -> int:
    """Create the missing province and ward associations of `units`; returns how many.

    A ward's association hangs under its province's, which is created first if missing.
    Existing associations are left as they are (a human may have renamed them).
    """
    provinces = {u.pk: u for u in units if u.level == Level.PROVINCE}
    wards = [u for u in units if u.level == Level.WARD]
    for ward in wards:
        provinces.setdefault(ward.parent_id, ward.parent)
    have = set(
        Association.objects.filter(
            level__in=[Association.Level.PROVINCE, Association.Level.WARD],
            admin_unit__in=[*provinces, *(w.pk for w in wards)],
        ).values_list("admin_unit_id", flat=True)
    )
    new_provinces = [
        Association(name=association_name(p), level=Association.Level.PROVINCE, admin_unit=p)
        for pk, p in provinces.items()
        if pk not in have
    ]
    Association.objects.bulk_create(new_provinces, batch_size=BATCH_SIZE)
    parent_assoc = dict(
        Association.objects.filter(
            level=Association.Level.PROVINCE, admin_unit__in=list(provinces)
        ).values_list("admin_unit_id", "pk")
    )
    new_wards = [
        Association(
            name=association_name(w),
            level=Association.Level.WARD,
            admin_unit=w,
            parent_id=parent_assoc[w.parent_id],
        )
        for w in wards
        if w.pk not in have
    ]
    Association.objects.bulk_create(new_wards, batch_size=BATCH_SIZE)
    return len(new_provinces) + len(new_wards)


@transaction.atomic
def divisions_load(*, province_codes: list[str] | None) -> DivisionsReport:
    """Load the named provinces (all 34 when None) and their communes/wards; idempotent.

    Raises ValidationError, writing nothing, if a code is not a province of the official list.
    """
    official = official_provinces()
    if province_codes:
        codes = sorted({province_code_normalize(c) for c in province_codes})
        unknown = [c for c in codes if c not in official]
        if unknown:
            raise ValidationError(
                _("Unknown province code(s): %(unknown)s. The official codes are: %(known)s.")
                % {"unknown": ", ".join(unknown), "known": ", ".join(official)}
            )
    else:
        codes = list(official)

    report = DivisionsReport()
    province_targets = [
        _target(c, official[c].name, official[c].division_type.value, official[c].codename)
        for c in codes
    ]
    _sync_level(
        level=Level.PROVINCE,
        targets=province_targets,
        parents=None,
        parent_of={},
        counts=report.provinces,
        report=report,
    )
    provinces = {
        u.code: u
        for u in AdministrativeUnit.objects.filter(
            level=Level.PROVINCE, valid_to__isnull=True, code__in=codes
        )
    }

    ward_targets, parent_of = [], {}
    for c in codes:
        for w in Ward.iter_by_province(official[c].code):
            code = f"{int(w.code):05d}"
            ward_targets.append(_target(code, w.name, w.division_type.value, w.codename))
            parent_of[code] = c
    _sync_level(
        level=Level.WARD,
        targets=ward_targets,
        parents=provinces,
        parent_of=parent_of,
        counts=report.wards,
        report=report,
    )

    in_force = AdministrativeUnit.objects.filter(valid_to__isnull=True)
    report.not_in_official_list = list(
        in_force.filter(level=Level.WARD, parent__in=provinces.values())
        .exclude(code__in=list(parent_of))
        .select_related("parent")
        .order_by("code")
    )
    if not province_codes:
        report.not_in_official_list += list(
            in_force.filter(level=Level.PROVINCE).exclude(code__in=codes).order_by("code")
        )

    conflicted = {u.pk for u in report.conflicts}
    loaded = list(provinces.values()) + [
        w
        for w in in_force.filter(
            level=Level.WARD, parent__in=provinces.values(), code__in=list(parent_of)
        ).select_related("parent")
        if w.pk not in conflicted
    ]
    report.associations_created = associations_ensure(units=loaded)
    return report
