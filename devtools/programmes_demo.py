"""Demo support programmes for a province: a meals programme and a tablets programme at
schools of the registry demo, with contributions, children and deliveries.

The schools are the registry's own: those of the demo ward (preschools first), else those of
the first communes/wards by code that have any. A small demo may have none (a ward gets its
school units from a few hundred households on); then the demo ward is given two preschools,
coded and named like the registry demo's units, through the registry's import (one file, one
audited bulk entry, the tallies kept by the registry's own upkeep).

Everything else goes through the programmes' own import (`programmes_import`), as CSV files
built here, so the demo data passes the same checks and summaries as real files. Idempotent: a
province whose demo programmes exist is left as it is. The children are invented (a seeded
random choice of common names); they are not citizens of the registry.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from devtools.registry_demo import _PRESCHOOL_NAMES, demo_ward
from programmes.models import Programme
from programmes.services.imports import programmes_import
from registry.models import AdministrativeUnit, Entity, Kind, Unit
from registry.services.divisions import unit_phrase
from registry.services.imports import registry_import

MEALS, DEVICES = "DEMO-BUA-TRUA", "DEMO-MAY-TINH-BANG"
RATE = 6800
SCHOOLS = 4  # at most, for the programmes
PRESCHOOL = "Trường Mầm non "
_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Lò", "Cầm"]
_MIDDLE = ["Thị", "Văn", "Minh", "Ngọc", "Gia", "Bảo", "Khánh"]
_GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà", "Khôi", "Linh", "Mai", "Nam", "Phúc", "Vy", "Yến"]


@dataclass
class ProgrammesDemoReport:
    skipped: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def _csv(rows: list[list]) -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return io.BytesIO(text.getvalue().encode("utf-8"))


def _load(kind: str, rows: list[list], report: ProgrammesDemoReport) -> None:
    result = programmes_import(
        file=_csv(rows), filename=f"demo-{kind}.csv", kind=kind, dry_run=False
    )
    if not result.ok:
        raise ValueError(f"demo {kind}: {result.errors[:3]}")
    report.counts[kind] = report.counts.get(kind, 0) + result.created


def _schools_found(province: AdministrativeUnit, ward: AdministrativeUnit) -> list[Unit]:
    """The demo ward's schools, else those of the first wards by code that have any; preschools
    first (the meals are for young children), then by code."""
    schools = Unit.objects.filter(
        unit_type=Unit.UnitType.SCHOOL, entity__province=province
    ).select_related("entity__ward")
    for found in (schools.filter(entity__ward=ward), schools):
        rows = sorted(
            found.order_by("entity__ward__code", "entity__code")[:200],
            key=lambda u: (
                u.entity.ward.code,
                not u.entity.name.startswith(PRESCHOOL),
                u.entity.code,
            ),
        )
        if rows:
            return rows[:SCHOOLS]
    return []


def _schools_created(ward: AdministrativeUnit, rng: random.Random) -> list[Unit]:
    """Two preschools for the demo ward, as the registry demo codes and names its units (the
    next DV numbers of the ward), loaded by the registry's import in one file."""
    codes = Entity.objects.filter(ward=ward, kind=Kind.UNIT).values_list("code", flat=True)
    taken = [int(c[2:]) for c in codes if c.startswith("DV") and c[2:].isdigit()]
    first = max(taken, default=0) + 1
    phrase = unit_phrase(ward)
    base = phrase.split(" ", 1)[1] if " " in phrase else phrase
    names = [PRESCHOOL + base, PRESCHOOL + rng.choice(_PRESCHOOL_NAMES)]
    rows = [["ward", "code", "name", "unit_type", "staff"]]
    rows += [
        [ward.code, f"DV{first + n:04d}", name, "school", rng.randint(20, 50)]
        for n, name in enumerate(names)
    ]
    result = registry_import(
        file=_csv(rows), filename="demo-units.csv", kind="units", dry_run=False
    )
    if not result.ok:
        raise ValueError(f"demo units: {result.errors[:3]}")
    return list(
        Unit.objects.filter(entity__ward=ward, entity__code__in=[r[1] for r in rows[1:]])
        .select_related("entity__ward")
        .order_by("entity__code")
    )


def _months_back(today: dt.date, count: int) -> list[dt.date]:
    """The last day of each of the `count` months before this one, oldest first."""
    ends, first = [], today.replace(day=1)
    for _ in range(count):
        last = first - dt.timedelta(days=1)
        ends.append(last)
        first = last.replace(day=1)
    return sorted(ends)


@transaction.atomic
def programmes_demo_generate(*, province_code: str, seed: int = 1) -> ProgrammesDemoReport:
    report = ProgrammesDemoReport()
    province = AdministrativeUnit.objects.filter(
        level=AdministrativeUnit.Level.PROVINCE, code=province_code, valid_to__isnull=True
    ).first()
    ward = demo_ward(province) if province is not None else None
    if ward is None or Programme.objects.filter(code__in=[MEALS, DEVICES]).exists():
        report.skipped = True
        return report
    rng = random.Random(seed)
    schools = _schools_found(province, ward) or _schools_created(ward, rng)
    today = timezone.localdate()
    months = _months_back(today, 4)
    start = months[0].replace(day=1)
    _load(
        "programmes",
        [
            [
                "code",
                "name",
                "organiser",
                "province",
                "kind",
                "starts",
                "daily_rate_vnd",
                "public_note",
            ],
            [
                MEALS,
                "Bữa trưa cho em",
                "Hội Khuyến học " + province.name,
                province.code,
                "meals",
                start.isoformat(),
                RATE,
                f"Bữa trưa {RATE:,} đồng/ngày cho trẻ mầm non".replace(",", "."),
            ],
            [
                DEVICES,
                "Máy tính bảng cho em",
                "Hội Khuyến học " + province.name,
                province.code,
                "devices",
                start.isoformat(),
                "",
                "Máy tính bảng cho học sinh học trực tuyến",
            ],
        ],
        report,
    )
    donors = ["Công ty Cổ phần Sữa", "Quỹ Bảo trợ trẻ em", "Hội Phụ nữ phường", "Nhà hảo tâm"]
    contributions = [
        ["programme", "ref", "date", "donor", "amount_vnd", "item", "quantity", "donor_public"]
    ]
    for n, month in enumerate(months, 1):
        contributions.append(
            [
                MEALS,
                f"PT-{n:03d}",
                month.replace(day=5).isoformat(),
                rng.choice(donors),
                rng.choice([20, 30, 50]) * 1_000_000,
                "",
                "",
                rng.choice(["có", "không"]),
            ]
        )
    contributions.append(
        [
            DEVICES,
            "HV-001",
            start.isoformat(),
            "Doanh nghiệp viễn thông",
            0,
            "Máy tính bảng",
            40,
            "có",
        ]
    )
    contributions.append(
        [DEVICES, "PT-001", start.isoformat(), "Nhà hảo tâm", 15_000_000, "", "", "không"]
    )
    _load("contributions", contributions, report)

    children = [["programme", "ward", "code", "full_name", "birth_year", "school", "starts"]]
    per_school: dict[Unit, list[tuple[str, str]]] = {}  # (ward, code) of each child
    child_rows: dict[tuple[str, str], list] = {}
    for school in schools:
        ward_code = school.entity.ward.code
        codes = per_school.setdefault(school, [])
        for n in range(1, rng.randint(25, 40) + 1):
            code = f"TRE-{school.entity.code}-{n:03d}"
            codes.append((ward_code, code))
            name = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
            child_rows[(ward_code, code)] = [
                ward_code,
                code,
                name,
                today.year - rng.randint(3, 5),
                school.entity.code,
                start.isoformat(),
            ]
            children.append([MEALS, *child_rows[(ward_code, code)]])
    _load("beneficiaries", children, report)
    tablets = [["programme", "ward", "code", "full_name", "birth_year", "school", "starts"]]
    for key in [c for codes in per_school.values() for c in codes[:5]]:
        tablets.append([DEVICES, *child_rows[key]])
    _load("beneficiaries", tablets, report)

    deliveries = [
        [
            "programme",
            "ref",
            "date",
            "ward",
            "school",
            "kind",
            "beneficiary",
            "days",
            "item",
            "quantity",
            "amount_vnd",
        ]
    ]
    for school in schools:
        count = len(per_school[school])
        for month in months[:-1]:  # the last month is not delivered yet
            days = rng.randint(18, 22)
            deliveries.append(
                [
                    MEALS,
                    f"{school.entity.ward.code}-{school.entity.code}-{month:%Y%m}",
                    month.isoformat(),
                    school.entity.ward.code,
                    school.entity.code,
                    "meals",
                    "",
                    count * days,
                    "",
                    "",
                    count * days * RATE,
                ]
            )
    for n, row in enumerate(tablets[1:21], 1):
        deliveries.append(
            [
                DEVICES,
                f"MTB-{n:03d}",
                months[1].isoformat(),
                row[1],  # the child's ward
                row[5],  # and school
                "items",
                row[2],
                "",
                "Máy tính bảng",
                1,
                0,
            ]
        )
    _load("deliveries", deliveries, report)
    return report
