"""Demonstration groups and digital literacy data for a province whose registry `generate_demo`
has filled, so the groups' pages, the dashboard tab and the report sheet show something.

The demo ward (where `demo_accounts` puts the staff and official logins): a community digital
technology team per residential area (up to 40) with 4–6 members, four mobile "Digital Literacy
for All" teams of 7–10 members, a learning centre and a club; sessions at households last year
and this year, each helping a few of the ward's citizens with VNeID, eTax Mobile and the like.
Up to ten other wards: a few community development clubs and interest groups with meetings.

Deterministic for a seed; idempotent (a province that already has groups is left alone). Rows are
bulk-written, then the summaries of the wards are recomputed once.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.db import transaction

from community.models import Activity, ActivityCitizen, Group, Member
from community.services.summaries import summaries_refresh
from devtools.registry_demo import demo_ward
from registry.models import AdministrativeUnit, Entity, Kind
from registry.text import sort_key

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quang", "Thanh"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Mai", "Nam", "Oanh", "Tú"]
SERVICES = ["vneid", "ihanoi", "etax", "vssid", "public_portal", "binhdanhocvuso"]
OTHER_WARDS = 10


@dataclass
class CommunityDemoReport:
    skipped: bool = False
    groups: int = 0
    members: int = 0
    activities: int = 0


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _group(ward, code: str, name: str, group_type: str, founded, community=None) -> Group:
    group = Group(
        ward=ward,
        province_id=ward.parent_id,
        code=code,
        name=name,
        group_type=group_type,
        founded=founded,
        community=community,
    )
    group.refresh_search_text()
    return group


@transaction.atomic
def community_demo_generate(*, province_code: str, seed: int, year: int) -> CommunityDemoReport:
    province = AdministrativeUnit.objects.get(
        code=province_code, level=AdministrativeUnit.Level.PROVINCE
    )
    if Group.objects.filter(province=province).exists():
        return CommunityDemoReport(skipped=True)
    rng = random.Random(seed)
    main = demo_ward(province)
    if main is None:
        return CommunityDemoReport(skipped=True)
    others = list(
        AdministrativeUnit.objects.filter(parent=province, level=AdministrativeUnit.Level.WARD)
        .exclude(pk=main.pk)
        .filter(entities__isnull=False)
        .distinct()
        .order_by("code")[:OTHER_WARDS]
    )
    founded = datetime.date(year - 1, 3, 26)
    areas = list(Entity.objects.filter(ward=main, kind=Kind.COMMUNITY).order_by("code")[:40])
    groups = [
        _group(
            main,
            f"CNS{n:02d}",
            f"Tổ công nghệ số cộng đồng {area.name}",
            "digital_team",
            founded,
            area,
        )
        for n, area in enumerate(areas, start=1)
    ]
    groups += [
        _group(
            main,
            f"LD{n:02d}",
            f"Tổ lưu động Bình dân học vụ số {n}",
            "mobile_team",
            datetime.date(year - 1, 4, 1),
        )
        for n in range(1, 5)
    ]
    groups.append(
        _group(
            main,
            "TTHTCD",
            f"Trung tâm học tập cộng đồng {main.name}",
            "learning_centre",
            datetime.date(2010, 9, 5),
        )
    )
    groups.append(
        _group(
            main,
            "CLB01",
            "CLB dưỡng sinh người cao tuổi",
            "community_club",
            datetime.date(2018, 5, 1),
        )
    )
    for ward in others:
        for n in range(1, rng.randint(2, 5)):
            groups.append(
                _group(
                    ward,
                    f"CLB{n:02d}",
                    f"CLB phát triển cộng đồng {n}",
                    "community_club",
                    datetime.date(2020, 1, 1),
                )
            )
        for n in range(1, rng.randint(2, 4)):
            groups.append(
                _group(
                    ward,
                    f"NST{n:02d}",
                    f"Nhóm sở thích {n}",
                    "interest_group",
                    datetime.date(2021, 6, 1),
                )
            )
    Group.objects.bulk_create(groups)

    members = []
    for group in groups:
        size = {"digital_team": rng.randint(4, 6), "mobile_team": rng.randint(7, 10)}.get(
            group.group_type, rng.randint(8, 15)
        )
        for m in range(1, size + 1):
            name = _name(rng)
            members.append(
                Member(
                    group=group,
                    ward_id=group.ward_id,
                    province_id=group.province_id,
                    code=f"TV{m:02d}",
                    full_name=name,
                    sort_key=sort_key(name, person=True),
                    role="tổ trưởng" if m == 1 else "tổ viên",
                    joined=group.founded,
                )
            )
    Member.objects.bulk_create(members, batch_size=1000)

    citizens = list(
        Entity.objects.filter(ward=main, kind=Kind.CITIZEN).values_list("pk", flat=True)[:3000]
    )
    today = datetime.date.today()
    activities: list[tuple[Activity, list[int]]] = []
    for group in groups:
        for n in range(1, rng.randint(2, 7)):
            when_year = year - 1 if n % 2 else year
            date = datetime.date(when_year, rng.randint(1, 12), rng.randint(1, 28))
            if date > today:
                date = today - datetime.timedelta(days=rng.randint(1, 60))
            mobile = group.group_type in ("mobile_team", "digital_team")
            helped = (
                rng.sample(citizens, min(len(citizens), rng.randint(1, 4)))
                if (mobile and group.ward_id == main.pk and citizens)
                else []
            )
            activity = Activity(
                group=group,
                ward_id=group.ward_id,
                province_id=group.province_id,
                ref=f"HD{n:02d}",
                date=date,
                year=date.year,
                activity_type=(
                    "home_visit"
                    if group.group_type == "mobile_team"
                    else "class"
                    if mobile
                    else "meeting"
                ),
                participants=rng.randint(3, 30),
                people_helped=len(helped) + (rng.randint(0, 3) if mobile else 0),
                services=sorted(rng.sample(SERVICES, 2)) if mobile else [],
                dossiers=rng.randint(0, len(helped)) if mobile else 0,
                note="dữ liệu minh hoạ",
            )
            activities.append((activity, helped))
    Activity.objects.bulk_create([a for a, _helped in activities], batch_size=1000)
    ActivityCitizen.objects.bulk_create(
        [ActivityCitizen(activity=a, citizen_id=c) for a, helped in activities for c in helped],
        batch_size=1000,
    )
    summaries_refresh(ward_ids={g.ward_id for g in groups})
    return CommunityDemoReport(groups=len(groups), members=len(members), activities=len(activities))
