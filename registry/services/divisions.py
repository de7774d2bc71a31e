"""Loading provinces and communes/wards from the official list (the `vietnam-provinces` package),
with the units before 1 July 2025 and which current units they went into; and reading the ward
codes of a file, old ones included (`ward_codes_resolve`).

Invariants kept here:
- a current unit is matched by what the official list says it is, not only by its code: a ward
  in the database is the official ward of the same province with the same codename (the name
  without diacritics, which the package keeps when it corrects a code), the same name deciding
  between two codenames alike, and failing that the official ward with its code. A matched unit
  whose code or name differs is re-coded or renamed in place (its primary key stays, so every
  household, registration, roll-up, grant, sign-off and target stays attached to it); a rerun
  changes nothing;
- history is never rewritten: a unit in the database that the package no longer lists is left as
  it is and reported, because ending it (`valid_to`) is a human decision;
- a unit is never moved to another province here: a ward whose parent differs from the package's
  is reported as a conflict and left alone (its entities carry that province);
- every loaded province and ward has its Association for Promoting Education;
- the provinces, districts and communes before 1 July 2025 of the loaded provinces are loaded
  too (ended 2025-06-30, levels of their own) and linked to the current units they went into.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from vietnam_provinces import Province, Ward, legacy
from vietnam_provinces import _province_conversion_2025 as province_conversion
from vietnam_provinces import _ward_conversion_2025 as ward_conversion

from audit.services import record_bulk
from registry.access import ward_units
from registry.models import (
    BEFORE_TWO_TIER_END,
    TWO_TIER_START,
    AdministrativeUnit,
    Association,
    Entity,
    UnitSuccession,
)

Level = AdministrativeUnit.Level

BATCH_SIZE = 500


@dataclass
class LevelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class UnitCorrection:
    """A current unit re-coded and/or renamed to match the official list."""

    old_code: str
    old_name: str
    code: str
    name: str


@dataclass
class DivisionsReport:
    provinces: LevelCounts = field(default_factory=LevelCounts)
    wards: LevelCounts = field(default_factory=LevelCounts)
    associations_created: int = 0
    # Units in force in the database that the official list does not (or no longer) name.
    not_in_official_list: list[AdministrativeUnit] = field(default_factory=list)
    # Wards whose province in the database differs from the official list's; left alone.
    conflicts: list[AdministrativeUnit] = field(default_factory=list)
    # Current units whose code or name was corrected, in code order.
    corrections: list[UnitCorrection] = field(default_factory=list)
    # The units before 1 July 2025 (provinces, districts, communes) and their links.
    before_2025: LevelCounts = field(default_factory=LevelCounts)
    successions_created: int = 0
    dry_run: bool = False


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


def _sync_provinces(*, targets: list[dict[str, str]], report: DivisionsReport) -> None:
    """Create the missing provinces and update the changed ones (a province keeps its code)."""
    existing = {
        u.code: u
        for u in AdministrativeUnit.objects.filter(
            level=Level.PROVINCE, valid_to__isnull=True, code__in=[t["code"] for t in targets]
        )
    }
    to_create, to_update = [], []
    for t in targets:
        unit = existing.get(t["code"])
        if unit is None:
            to_create.append(
                AdministrativeUnit(level=Level.PROVINCE, valid_from=TWO_TIER_START, **t)
            )
            continue
        if _apply(unit, t, report=report):
            to_update.append(unit)
        else:
            report.provinces.unchanged += 1
    AdministrativeUnit.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    _associations_rename(to_update)
    AdministrativeUnit.objects.bulk_update(
        to_update, ["name", "division_type", "codename"], batch_size=BATCH_SIZE
    )
    report.provinces.created += len(to_create)
    report.provinces.updated += len(to_update)


def _apply(unit: AdministrativeUnit, target: dict[str, str], *, report: DivisionsReport) -> bool:
    """Set the official code, name, type and codename on `unit`; True if anything changed.

    A changed code or name is recorded in the report; the unit's former association name is
    kept on it (`_old_association_name`) so that its association can follow a rename.
    """
    if all(getattr(unit, attr) == value for attr, value in target.items()):
        return False
    if (unit.code, unit.name) != (target["code"], target["name"]):
        report.corrections.append(
            UnitCorrection(unit.code, unit.name, target["code"], target["name"])
        )
    unit._old_association_name = association_name(unit)
    for attr, value in target.items():
        setattr(unit, attr, value)
    return True


def _associations_rename(units: list[AdministrativeUnit]) -> None:
    """Rename the associations of renamed units, unless a human has renamed them already."""
    renamed = {u.pk: u for u in units if association_name(u) != u._old_association_name}
    if not renamed:
        return
    changed = []
    for association in Association.objects.filter(
        admin_unit__in=list(renamed),
        level__in=[Association.Level.PROVINCE, Association.Level.WARD],
    ):
        unit = renamed[association.admin_unit_id]
        if association.name == unit._old_association_name:
            association.name = association_name(unit)
            changed.append(association)
    Association.objects.bulk_update(changed, ["name"], batch_size=BATCH_SIZE)


def _match_wards(
    *,
    targets: list[dict[str, str]],
    province_of: dict[str, str],
    provinces: dict[str, AdministrativeUnit],
    report: DivisionsReport,
) -> dict[str, AdministrativeUnit]:
    """The database's wards in force of the loaded provinces, by the official code they are.

    Same province and same codename first (the same name, then the same code, deciding between
    two official wards whose codenames are alike); then the official ward with the unit's code.
    A ward matching no official ward is reported as not in the official list.
    """
    code_of_province = {p.pk: code for code, p in provinces.items()}
    by_codename: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for t in targets:
        by_codename[(province_of[t["code"]], t["codename"])].append(t)
    by_code = {t["code"]: t for t in targets}
    matched: dict[str, AdministrativeUnit] = {}
    unmatched = []
    units = AdministrativeUnit.objects.filter(
        level=Level.WARD, valid_to__isnull=True, parent__in=list(provinces.values())
    ).order_by("code")
    for unit in units:
        province = code_of_province[unit.parent_id]
        candidates = [
            t for t in by_codename.get((province, unit.codename), []) if t["code"] not in matched
        ]
        if len(candidates) > 1:
            candidates = [t for t in candidates if t["name"] == unit.name] or [
                t for t in candidates if t["code"] == unit.code
            ]
        if unit.codename and len(candidates) == 1:
            matched[candidates[0]["code"]] = unit
        else:
            unmatched.append(unit)
    for unit in unmatched:
        target = by_code.get(unit.code)
        if (
            target is not None
            and target["code"] not in matched
            and province_of[target["code"]] == code_of_province[unit.parent_id]
        ):
            matched[target["code"]] = unit
            continue
        report.not_in_official_list.append(unit)
    return matched


def _sync_wards(
    *,
    targets: list[dict[str, str]],
    province_of: dict[str, str],
    provinces: dict[str, AdministrativeUnit],
    report: DivisionsReport,
) -> list[AdministrativeUnit]:
    """Create the missing wards, correct the changed ones in place; returns the loaded wards.

    Codes may move in a chain or a swap (the official list gave 00331 to Phường Hoàng Mai, which
    was Phường Yên Sở's code before), so the units whose code changes first take a temporary
    code, then their official one: no two units in force ever hold one code.
    """
    matched = _match_wards(
        targets=targets, province_of=province_of, provinces=provinces, report=report
    )
    vacated = {u.code for code, u in matched.items() if u.code != code}
    holders = {
        u.code: u
        for u in AdministrativeUnit.objects.filter(
            level=Level.WARD, valid_to__isnull=True, code__in=[t["code"] for t in targets]
        ).select_related("parent")
    }
    to_create, to_update, loaded = [], [], []
    for t in targets:
        code = t["code"]
        unit = matched.get(code)
        holder = holders.get(code)
        if holder is not None and holder != unit and code not in vacated:
            # Another unit in force holds the official code and keeps it: leave both alone.
            if holder not in report.conflicts:
                report.conflicts.append(holder)
            if unit is not None:
                report.not_in_official_list.append(unit)
            continue
        if unit is None:
            to_create.append(
                AdministrativeUnit(
                    level=Level.WARD,
                    parent=provinces[province_of[code]],
                    valid_from=TWO_TIER_START,
                    **t,
                )
            )
            continue
        loaded.append(unit)
        if _apply(unit, t, report=report):
            to_update.append(unit)
        else:
            report.wards.unchanged += 1
    _recode(to_update)
    _associations_rename(to_update)
    AdministrativeUnit.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    report.wards.created += len(to_create)
    report.wards.updated += len(to_update)
    report.corrections.sort(key=lambda c: (c.code, c.old_code))
    return loaded + to_create


def _recode(units: list[AdministrativeUnit]) -> None:
    """Write the corrected units: codes through a temporary one each, then everything."""
    stored = dict(
        AdministrativeUnit.objects.filter(pk__in=[u.pk for u in units]).values_list("pk", "code")
    )
    moving = [u for u in units if stored[u.pk] != u.code]
    if moving:
        temporary = [AdministrativeUnit(pk=u.pk, code=f"~{u.pk}") for u in moving]
        AdministrativeUnit.objects.bulk_update(temporary, ["code"], batch_size=BATCH_SIZE)
    AdministrativeUnit.objects.bulk_update(
        units, ["code", "name", "division_type", "codename"], batch_size=BATCH_SIZE
    )


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


# --- Units before 1 July 2025 -----------------------------------------------------------------


def _upsert_before_2025(
    *, level: str, targets: list[dict], counts: LevelCounts
) -> dict[str, AdministrativeUnit]:
    """Create or update the units of one level before 2025 (matched by code); by code."""
    existing = {u.code: u for u in AdministrativeUnit.objects.filter(level=level)}
    to_create, to_update = [], []
    for t in targets:
        unit = existing.get(t["code"])
        if unit is None:
            unit = AdministrativeUnit(level=level, valid_to=BEFORE_TWO_TIER_END, **t)
            to_create.append(unit)
            existing[t["code"]] = unit
        elif any(getattr(unit, attr) != value for attr, value in t.items()):
            for attr, value in t.items():
                setattr(unit, attr, value)
            to_update.append(unit)
        else:
            counts.unchanged += 1
    AdministrativeUnit.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    AdministrativeUnit.objects.bulk_update(
        to_update, ["name", "division_type", "codename", "parent"], batch_size=BATCH_SIZE
    )
    counts.created += len(to_create)
    counts.updated += len(to_update)
    return existing


def _load_before_2025(*, province_codes: list[str], report: DivisionsReport) -> None:
    """The provinces, districts and communes before 1 July 2025 that the loaded provinces were
    formed from, each linked to the current units (in the database) it went into."""
    old_province_codes = sorted(
        {
            old.code
            for code in province_codes
            for old in province_conversion.NEW_TO_OLD[int(code)].old_provinces
        }
    )
    old_provinces = _upsert_before_2025(
        level=Level.PROVINCE_BEFORE_2025,
        targets=[
            {
                "code": f"{p.code.value:02d}",
                "name": p.name,
                "division_type": p.division_type.value,
                "codename": p.codename,
                "parent": None,
            }
            for p in (legacy.Province.from_code(legacy.ProvinceCode(c)) for c in old_province_codes)
        ],
        counts=report.before_2025,
    )
    districts = [
        d for d in legacy.District.iter_all() if d.province_code.value in old_province_codes
    ]
    old_districts = _upsert_before_2025(
        level=Level.DISTRICT,
        targets=[
            {
                "code": f"{d.code.value:03d}",
                "name": d.name,
                "division_type": d.division_type.value,
                "codename": d.codename,
                "parent": old_provinces[f"{d.province_code.value:02d}"],
            }
            for d in districts
        ],
        counts=report.before_2025,
    )
    district_codes = {d.code.value for d in districts}
    old_wards = _upsert_before_2025(
        level=Level.WARD_BEFORE_2025,
        targets=[
            {
                "code": f"{w.code.value:05d}",
                "name": w.name,
                "division_type": w.division_type.value,
                "codename": w.codename,
                "parent": old_districts[f"{w.district_code.value:03d}"],
            }
            for w in legacy.Ward.iter_all()
            if w.district_code.value in district_codes
        ],
        counts=report.before_2025,
    )

    links: dict[tuple[str, str, str], bool] = {}  # (level, old code, new code) -> whole
    for new_code, entry in ward_conversion.NEW_TO_OLD.items():
        for old in entry.old_wards:
            if old.province_code in old_province_codes:
                links[("ward", f"{old.code:05d}", f"{new_code:05d}")] = not old.is_partly_merged
    for old_code in old_province_codes:
        news = province_conversion.OLD_TO_NEW[old_code].new_provinces
        for new in news:
            links[("province", f"{old_code:02d}", f"{new.code:02d}")] = len(news) == 1
    current = {
        (u.level, u.code): u.pk
        for u in AdministrativeUnit.objects.filter(
            level__in=[Level.PROVINCE, Level.WARD],
            valid_to__isnull=True,
            code__in=sorted({new for _level, _old, new in links}),
        ).only("pk", "level", "code")
    }
    before = {("ward", code): u.pk for code, u in old_wards.items()}
    before |= {("province", code): u.pk for code, u in old_provinces.items()}
    stored = {
        (s.before_id, s.after_id): s
        for s in UnitSuccession.objects.filter(
            Q(before__level=Level.WARD_BEFORE_2025, before__parent__in=old_districts.values())
            | Q(before__in=list(old_provinces.values()))
        )
    }
    to_create, to_update = [], []
    for (level, old_code, new_code), whole in links.items():
        after = current.get((level, new_code))
        if after is None or (level, old_code) not in before:
            # Its current unit's province is not loaded (yet), or the package's conversion
            # table names an old commune its list of old communes lacks.
            continue
        key = (before[(level, old_code)], after)
        link = stored.get(key)
        if link is None:
            to_create.append(UnitSuccession(before_id=key[0], after_id=after, whole=whole))
        elif link.whole != whole:
            link.whole = whole
            to_update.append(link)
    UnitSuccession.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    UnitSuccession.objects.bulk_update(to_update, ["whole"], batch_size=BATCH_SIZE)
    report.successions_created += len(to_create)


# --- Loading ----------------------------------------------------------------------------------


@transaction.atomic
def divisions_load(*, province_codes: list[str] | None, dry_run: bool = False) -> DivisionsReport:
    """Load the named provinces (all 34 when None), their communes/wards and the units before
    1 July 2025 they were formed from; idempotent. With `dry_run` the report says what would
    change and nothing is written.

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

    report = DivisionsReport(dry_run=dry_run)
    _sync_provinces(
        targets=[
            _target(c, official[c].name, official[c].division_type.value, official[c].codename)
            for c in codes
        ],
        report=report,
    )
    provinces = {
        u.code: u
        for u in AdministrativeUnit.objects.filter(
            level=Level.PROVINCE, valid_to__isnull=True, code__in=codes
        )
    }

    ward_targets, province_of = [], {}
    for c in codes:
        for w in Ward.iter_by_province(official[c].code):
            code = f"{int(w.code):05d}"
            ward_targets.append(_target(code, w.name, w.division_type.value, w.codename))
            province_of[code] = c
    wards = _sync_wards(
        targets=ward_targets, province_of=province_of, provinces=provinces, report=report
    )
    if not province_codes:
        report.not_in_official_list += list(
            AdministrativeUnit.objects.filter(level=Level.PROVINCE, valid_to__isnull=True)
            .exclude(code__in=codes)
            .order_by("code")
        )
    report.not_in_official_list.sort(key=lambda u: (u.level, u.code))
    for ward in wards:
        ward.parent = provinces[province_of[ward.code]]
    report.associations_created = associations_ensure(units=[*provinces.values(), *wards])
    _load_before_2025(province_codes=codes, report=report)

    if report.corrections or report.provinces.created or report.wards.created:
        corrected = {c.code for c in report.corrections}
        record_bulk(
            "divisions_load",
            model=AdministrativeUnit,
            ward_ids=[w.pk for w in wards if w.code in corrected],
            province_ids=[p.pk for p in provinces.values()],
            provinces_created=report.provinces.created,
            wards_created=report.wards.created,
            corrections=[
                {"from": f"{c.old_code} {c.old_name}", "to": f"{c.code} {c.name}"}
                for c in report.corrections
            ],
        )
    if dry_run:
        transaction.set_rollback(True)
    return report


# --- Ward codes in files ----------------------------------------------------------------------


@dataclass(frozen=True)
class WardCodeResolution:
    """What a file's ward code means.

    - `ward` set: the rows go to that current ward; `note` (if any) is said once in the report
      (an old commune that went wholly into it);
    - `refusal` set: no row with this code can be taken as it stands (an old commune that was
      split); `split_into` holds the current wards in the user's scope it went into;
    - neither: no commune/ward in force (in the user's scope) has this code.
    """

    ward: AdministrativeUnit | None = None
    note: str = ""
    refusal: str = ""
    split_into: tuple[AdministrativeUnit, ...] = ()


def _listing(wards: Iterable[AdministrativeUnit]) -> str:
    named = [f"{w.code} {w.name}" for w in wards]
    if len(named) < 2:
        return "".join(named)
    return _("%(first)s and %(last)s") % {"first": ", ".join(named[:-1]), "last": named[-1]}


def _chunks(items: list[str], size: int = BATCH_SIZE) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def ward_codes_resolve(codes: Iterable[str], *, user) -> dict[str, WardCodeResolution]:
    """Each of a file's ward codes (five digits) as a current ward, an old one, or unknown.

    The one rule every import follows for ward codes:
    - a code of a commune/ward in force means that ward (even if a different commune had the
      code before 1 July 2025: 00322 is Phường Tương Mai, not the old Phường Hoàng Văn Thụ);
    - else the code of a commune before 1 July 2025 that went wholly into one current ward
      means that ward, and the report says so once;
    - else an old commune split among several wards is refused, naming them.
    With `user` (a web upload) only the wards in the user's scope can be taken; without one
    (a command) every ward in force.
    """
    wanted = sorted(set(codes))
    current: dict[str, AdministrativeUnit] = {}
    for chunk in _chunks(wanted):
        current.update(
            (u.code, u)
            for u in AdministrativeUnit.objects.filter(
                level=Level.WARD, valid_to__isnull=True, code__in=chunk
            )
        )
    scope = ward_units(user) if user is not None else None
    in_scope: set[int] = set()
    old: dict[str, AdministrativeUnit] = {}
    for chunk in _chunks([c for c in wanted if c not in current]):
        old.update(
            (u.code, u)
            for u in AdministrativeUnit.objects.filter(
                level=Level.WARD_BEFORE_2025, code__in=chunk
            ).prefetch_related("successors")
        )
    candidates = {u.pk for u in current.values()} | {
        s.pk for u in old.values() for s in u.successors.all()
    }
    if scope is None:
        in_scope = candidates
    else:
        in_scope = set(scope.filter(pk__in=candidates).values_list("pk", flat=True))

    resolved: dict[str, WardCodeResolution] = {}
    for code in wanted:
        if code in current:
            ward = current[code]
            resolved[code] = WardCodeResolution(ward=ward if ward.pk in in_scope else None)
            continue
        unit = old.get(code)
        if unit is None:
            resolved[code] = WardCodeResolution()
            continue
        went_into = sorted(
            (s for s in unit.successors.all() if s.level == Level.WARD and s.valid_to is None),
            key=lambda s: s.code,
        )
        before = {"old": code, "name": unit.name}
        if len(went_into) == 1:
            ward = went_into[0]
            if ward.pk not in in_scope:
                resolved[code] = WardCodeResolution()
                continue
            note = _(
                "%(old)s (%(name)s before 1/7/2025) is now %(code)s %(ward)s: its rows were "
                "taken there."
            ) % {**before, "code": ward.code, "ward": ward.name}
            resolved[code] = WardCodeResolution(ward=ward, note=note)
        elif went_into:
            refusal = _(
                "%(old)s (%(name)s before 1/7/2025) was split into %(wards)s: write the current "
                "ward"
            ) % {**before, "wards": _listing(went_into)}
            resolved[code] = WardCodeResolution(
                refusal=refusal, split_into=tuple(w for w in went_into if w.pk in in_scope)
            )
        else:
            refusal = (
                _(
                    "%(old)s (%(name)s before 1/7/2025) went into no commune/ward loaded here: "
                    "write the current ward"
                )
                % before
            )
            resolved[code] = WardCodeResolution(refusal=refusal)
    return resolved


def split_entities_place(
    entities: Iterable[tuple[str, str, str]], *, resolved: dict[str, WardCodeResolution]
) -> dict[tuple[str, str, str], AdministrativeUnit]:
    """For rows naming a split commune: (ward code, kind, entity code) -> the one current ward,
    among those the commune went into (in scope), that has an entity of that kind and code.

    A row whose entity exists in none of those wards, or in more than one, is absent: it stays
    refused.
    """
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for ward_code, kind, code in entities:
        if resolved[ward_code].split_into:
            wanted[(ward_code, kind)].add(code)
    placed: dict[tuple[str, str, str], AdministrativeUnit] = {}
    for (ward_code, kind), codes in wanted.items():
        wards = {w.pk: w for w in resolved[ward_code].split_into}
        found: dict[str, list[int]] = defaultdict(list)
        for chunk in _chunks(sorted(codes)):
            for code, ward_id in Entity.objects.filter(
                kind=kind, ward_id__in=list(wards), code__in=chunk
            ).values_list("code", "ward_id"):
                found[code].append(ward_id)
        for code, ward_ids in found.items():
            if len(ward_ids) == 1:
                placed[(ward_code, kind, code)] = wards[ward_ids[0]]
    return placed


def split_note(ward_code: str, *, resolved: dict[str, WardCodeResolution]) -> str:
    """Said once in a report whose rows of a split commune were placed by their entity."""
    return _(
        "%(old)s was split: rows whose entity exists in only one of %(wards)s were taken there."
    ) % {"old": ward_code, "wards": _listing(resolved[ward_code].split_into)}
