"""Synthetic but realistic registry data for one province, for demonstrations and benchmarks.

Development only (see `devtools`): production code never imports it.

What one run creates, per commune/ward (the proportions are those of Hanoi: 2.2 million
households, ~13,000 residential areas, tens of thousands of clans and units):

- households spread over every ward of the province, unevenly (log-normal weights; a phường is
  on average twice as populous as a xã, a đặc khu half);
- residential areas: one per 140–200 households (drawn per ward; ~170 on average). A phường has
  tổ dân phố (khu phố in the South), a xã thôn and xóm, bản in the northern mountains and ấp in
  the South (area type "other": the model has no ấp);
- clans: one per 80–100 households; each lives in two to four areas of its ward and 40% of
  the households belong to one (nine heads in ten carry the clan's family name);
- units with a staff count: one per 150–400 households; first the ward's People's Committee,
  schools, health station, police and community learning centre, then enterprises (50%),
  schools (22%), cooperatives and workshops (15%) and other agencies (13%);
- households of 1–8 members (3.4 on average); every member aged 15 or more is a citizen in
  scope of the Learning Citizen title, ≈ 2.75 per household (Hanoi: ~6 million for 2.2 million).
  All of them are created, with their birth year; about 60% of a unit's staff are citizens of
  its ward, linked to it;
- a sub-association per residential area; a committee in units with ten staff or more (80% of
  schools, 60% of agencies, 30% of enterprises, 20% of others); and this year's membership of
  those (0.8–1.3 members per household, 0.5–1 per staff member), of each ward association (their
  sum) and of the province association (the wards' sum).

Names follow the region: Kinh family names with their national frequencies (Nguyễn 38%, Trần 12%,
Lê 9.5%, ...; Huỳnh and Võ from Huế southward), and Thái, H'Mông, Tày and Nùng names in the
northern mountain provinces. Birth years are counted back from the current year.

A small demo still shows every kind: a ward with households has at least min(3, h // 15) areas,
and from 15 households on at least one clan and one unit; so below ~500 households per ward the
areas, clans and units are more numerous than the proportions above.

Same seed, same data: every random choice comes from `random.Random` seeded with the seed and a
ward's code, consumed in a fixed order that never depends on database ids. Codes are readable
and numbered per ward and kind (TDP0005, THON0002, DH0012, DV0007, HGD000123, CD0000456).

Rows are made in a process of their own (`_province_rows`, pure Python, through `in_background`)
while the previous chunk is written with bulk inserts (see `devtools.bulk.BulkWriter`), ward by
ward and in chunks of households, so the database and Python work at the same time and memory
stays bounded whatever the province's size. The whole run is one transaction: it creates
everything or nothing, and a province that already has entities is left alone.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_bulk
from devtools.bulk import (
    BATCH_SIZE,
    BulkWriter,
    analyze,
    foreign_keys_checked_at_end,
    in_background,
    indexes_built_at_end,
)
from registry.models import (
    PERSON_KINDS,
    AdministrativeUnit,
    Association,
    AssociationMembership,
    Citizen,
    Clan,
    Community,
    Entity,
    Family,
    Kind,
    Role,
    Unit,
)
from registry.services.divisions import (
    associations_ensure,
    divisions_load,
    province_code_normalize,
    unit_phrase,
)
from registry.services.grants import grant_role
from registry.services.tallies import tallies_refresh
from registry.text import fold, sort_key

Level = AdministrativeUnit.Level
AreaType = Community.AreaType
UnitType = Unit.UnitType

# --- proportions (see the module docstring) ------------------------------------------------
HOUSEHOLDS_PER_AREA = (140, 200)
HOUSEHOLDS_PER_CLAN = (80, 100)
HOUSEHOLDS_PER_UNIT = (150, 400)
CLAN_SHARE = 0.4
# Household size 1..8: Vietnam's 2019 census averages 3.5 persons, Hanoi 3.3.
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
HOUSEHOLD_SIZE_WEIGHTS = (9, 20, 23, 27, 13, 5, 2, 1)
CITIZEN_MIN_AGE = 15
STAFF_LIVING_IN_WARD = 0.6
WORKING_AGE = (18, 60)
# Measured on generated households: persons aged 18-60 per household (to link staff to units).
WORKING_AGE_PER_HOUSEHOLD = 2.2
COMMITTEE_MIN_STAFF = 10
COMMITTEE_CHANCE = {
    UnitType.SCHOOL: 0.8,
    UnitType.AGENCY: 0.6,
    UnitType.ENTERPRISE: 0.3,
    UnitType.OTHER: 0.2,
}
SUB_MEMBERS_PER_HOUSEHOLD = (0.8, 1.3)  # Hoa Binh city: ~34,000 members, ~31,600 households
COMMITTEE_MEMBERS_PER_STAFF = (0.5, 1.0)

CHUNK_HOUSEHOLDS = 2000


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


# --- names ---------------------------------------------------------------------------------
# Family names with their approximate share of Vietnam's population; the rest share 11%.
# Hoàng/Huỳnh and Vũ/Võ are one name spelled the northern and the southern way.
_KINH_SURNAMES = [
    ("Nguyễn", 38.4),
    ("Trần", 12.1),
    ("Lê", 9.5),
    ("Phạm", 7.0),
    ("Hoàng", 5.1),
    ("Phan", 4.5),
    ("Vũ", 3.9),
    ("Đặng", 2.1),
    ("Bùi", 2.0),
    ("Đỗ", 1.4),
    ("Hồ", 1.3),
    ("Ngô", 1.3),
    ("Dương", 1.0),
    ("Lý", 0.5),
    *(
        (name, 0.68)
        for name in _words(
            "Đinh Trịnh Đoàn Lương Mai Cao Tạ Lâm Hà Chu Kiều Tô Vương Đào Thái Phùng"
        )
    ),
]
_SOUTHERN_SPELLING = {"Hoàng": "Huỳnh", "Vũ": "Võ"}
# Thái, H'Mông, Tày and Nùng family names of the northern mountains.
_MOUNTAIN_SURNAMES = [
    ("Lò", 6), ("Lường", 4), ("Quàng", 3), ("Cà", 2), ("Tòng", 2), ("Giàng", 4), ("Sùng", 3),
    ("Vàng", 3), ("Thào", 2), ("Mùa", 1), ("Nông", 3), ("Lục", 1), ("Bế", 1), ("Hoàng", 3),
    ("Hà", 2), ("Nguyễn", 12), ("Trần", 3), ("Lê", 2), ("Phạm", 1),
]  # fmt: skip
_MALE_MIDDLE = [
    ("Văn", 40), ("Đức", 8), ("Minh", 8), ("Quang", 6), ("Hữu", 6), ("Công", 5), ("Đình", 5),
    ("Xuân", 4), ("Thanh", 4), ("Tuấn", 3), ("Mạnh", 3), ("Quốc", 3), ("Trọng", 3), ("Bá", 2),
]  # fmt: skip
# The generation names that run through a clan's men ('Dòng họ Nguyễn Đình').
_CLAN_MIDDLE = [
    ("Văn", 30), ("Đình", 10), ("Đức", 10), ("Hữu", 8), ("Xuân", 6), ("Quang", 6), ("Công", 6),
    ("Bá", 5), ("Trọng", 5), ("Khắc", 3), ("Viết", 3), ("Duy", 3), ("Ngọc", 3), ("Doãn", 2),
]  # fmt: skip
_FEMALE_MIDDLE = [
    ("Thị", 50), ("Ngọc", 8), ("Thu", 6), ("Thanh", 6), ("Minh", 5), ("Phương", 4), ("Thúy", 4),
    ("Bích", 3), ("Kim", 3), ("Hồng", 4), ("Mai", 3), ("Diệu", 2), ("Hải", 2),
]  # fmt: skip
_MALE_GIVEN = _words(
    "An Bình Cường Dũng Dương Đạt Hải Hiếu Hoàng Hùng Huy Khánh Long Minh Nam Phong Phúc Quân "
    "Sơn Thắng Thành Trung Tú Tuấn Việt Vinh Hưng Kiên Lâm Đông Toàn Tài Hòa Khoa Nghĩa Thịnh "
    "Tiến Trí Tùng Quang Lộc Bảo Đức Hiển Hậu Thái Chiến Hoan Luân"
)
_FEMALE_GIVEN = _words(
    "Anh Chi Dung Giang Hà Hạnh Hằng Hoa Hồng Huyền Hương Lan Linh Loan Mai Nga Ngân Ngọc Nhung "
    "Oanh Phương Quỳnh Thảo Thủy Trang Tuyết Vân Yến Hiền Liên Thu Thơm Huệ Xuân Duyên Hoài Vy "
    "Nhàn Trinh Tâm Lụa Thắm Ánh Diệp Hậu Khuyên"
)
_HMONG_SURNAMES = {"Giàng", "Sùng", "Vàng", "Thào", "Mùa"}
_HMONG_MALE_GIVEN = _words("Páo Sử Chính Dế Lử Tủa Chứ Khua Pó Dình Sình Cở Vư Tráng")
_HMONG_FEMALE_GIVEN = _words("Mỷ Dua Súa Chơ Mai Dở Sy Pà Của Mao")

# Two-syllable Sino-Vietnamese words that make village and company names.
_PLACE_SYLLABLES = _words(
    "An Bình Phú Yên Tân Hòa Thịnh Phúc Khánh Hưng Xuân Thanh Vĩnh Long Quang Đại Nghĩa Thái Lạc "
    "Mỹ Đông Trung Lộc Thọ Hợp Thuận Hậu Đức Kim Ninh Sơn Hà Lợi Thành Cát Tường Minh Nội Văn Đồng"
)
_DIRECTION_NAMES = _words("Đông Đoài Nam Bắc Thượng Hạ Trung Ngoài Trong Giữa")
_XOM_NAMES = _words("Chùa Mới Đình Giữa Trại Bến Đồng Cầu Chợ Bãi Soi Gò")
_BAN_FIRST = _words("Nà Pá Hua Phiêng Huổi Nậm Co Kéo Pú Mường Tà Bó Khau Lũng")
_BAN_SECOND = _words(
    "Sài Khoang Bó Lếch Lay Ban Chăn Sản Phăng Mo Lọng Cang Hỏm Pe Luông Ngần Thàng"
)
_FAMOUS = _words(
    "Lê Lợi|Nguyễn Trãi|Trần Phú|Chu Văn An|Lê Quý Đôn|Nguyễn Du|Quang Trung|Võ Thị Sáu|Kim Đồng|"
    "Lý Thường Kiệt|Nguyễn Bỉnh Khiêm|Ngô Quyền|Hai Bà Trưng|Trần Hưng Đạo|Lê Văn Tám|"
    "Nguyễn Văn Trỗi|Phan Chu Trinh|Phan Bội Châu|Lương Thế Vinh|Tô Hiến Thành",
    "|",
)
_PRESCHOOL_NAMES = _words(
    "Hoa Sen|Hoa Mai|Họa Mi|Sơn Ca|Hoa Hồng|Ánh Dương|Bình Minh|Tuổi Thơ", "|"
)
_SECTORS = _words(
    "Thương mại|Xây dựng|Dịch vụ|May mặc|Cơ khí|Vận tải|Thực phẩm|Công nghệ|Du lịch|Dược phẩm|"
    "Điện tử|Đầu tư|Nội thất|Môi trường|Bao bì",
    "|",
)
_PRODUCTS = _words("mộc|bánh đa|miến|chè|gốm|mây tre đan|đậu phụ|nấm|rượu|may", "|")
_WARD_AGENCIES = [
    "Bưu điện văn hóa {phrase}",
    "Điểm giao dịch Ngân hàng Chính sách xã hội {phrase}",
    "Trung tâm Phục vụ hành chính công {phrase}",
    "Ban Chỉ huy quân sự {phrase}",
    "Quỹ tín dụng nhân dân {base}",
    "Đảng ủy {phrase}",
    "Ủy ban Mặt trận Tổ quốc {phrase}",
]

_MOUNTAIN_PROVINCES = {"04", "08", "11", "12", "14", "15", "20"}
_SOUTHERN_FROM = 46  # Huế and southward spell Huỳnh, Võ
_KHU_PHO_FROM = 75  # the South-East and the Mekong delta: khu phố and ấp


class _Weighted:
    """Names drawn with given weights (bisect over cumulative weights: fast and deterministic)."""

    def __init__(self, pairs):
        pairs = list(pairs)
        self.names = [n for n, _w in pairs]
        self.cum = list(itertools.accumulate(w for _n, w in pairs))

    def pick(self, rng: random.Random) -> str:
        return self.names[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


MALE_MIDDLE = _Weighted(_MALE_MIDDLE)
FEMALE_MIDDLE = _Weighted(_FEMALE_MIDDLE)
CLAN_MIDDLE = _Weighted(_CLAN_MIDDLE)


def _surnames_for(province_code: str) -> _Weighted:
    if province_code in _MOUNTAIN_PROVINCES:
        return _Weighted(_MOUNTAIN_SURNAMES)
    if int(province_code) >= _SOUTHERN_FROM:
        return _Weighted((_SOUTHERN_SPELLING.get(n, n), w) for n, w in _KINH_SURNAMES)
    return _Weighted(_KINH_SURNAMES)


def _person(rng: random.Random, surname: str, male: bool, middle: str | None = None) -> str:
    """A full name: family name, middle name, given name ('Giàng A Páo' for a H'Mông man)."""
    if surname in _HMONG_SURNAMES:
        given = rng.choice(_HMONG_MALE_GIVEN if male else _HMONG_FEMALE_GIVEN)
        return f"{surname} {'A' if male else 'Thị'} {given}"
    if middle is None:
        middle = (MALE_MIDDLE if male else FEMALE_MIDDLE).pick(rng)
    given = rng.choice(_MALE_GIVEN if male else _FEMALE_GIVEN)
    return f"{surname} {middle} {given}"


@functools.lru_cache(maxsize=262_144)
def _fold(name: str) -> str:
    return fold(name)


@functools.lru_cache(maxsize=262_144)
def _sort_key(name: str, person: bool) -> str:
    return sort_key(name, person=person)


def _search_text(name: str, code: str, *extra: str) -> str:
    """Exactly what `Entity.refresh_search_text(*extra)` stores, with names folded once."""
    return " ".join([_fold(name), code.lower(), *(_fold(e) for e in extra if e)])[:600]


def _prob_round(rng: random.Random, x: float) -> int:
    """Round up with probability equal to the fraction, so small counts keep their mean."""
    whole = int(x)
    return whole + (rng.random() < x - whole)


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder; exact and deterministic)."""
    s = sum(weights)
    shares = [total * w / s for w in weights]
    counts = [int(x) for x in shares]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass
class DemoReport:
    province: AdministrativeUnit | None = None
    already_present: bool = False
    loaded_divisions: bool = False
    wards: int = 0
    counts: Counter = field(default_factory=Counter)  # by Kind value, and "sub"/"committee"
    memberships: int = 0
    seconds: float = 0.0


# --- the plan of one ward, built before anything is written ---------------------------------
@dataclass
class _Area:
    code: str
    name: str
    area_type: str
    households: int
    clans: list[int] = field(default_factory=list)  # indexes into _WardPlan.clans


@dataclass
class _ClanPlan:
    code: str
    name: str
    head_name: str
    surname: str
    middle: str


@dataclass
class _UnitPlan:
    code: str
    name: str
    unit_type: str
    staff: int


@dataclass
class _WardPlan:
    areas: list[_Area]
    clans: list[_ClanPlan]
    units: list[_UnitPlan]


def _ward_counts(rng: random.Random, households: int) -> tuple[int, int, int]:
    """(areas, clans, units) for a ward of `households`; see the module docstring."""
    h = households
    areas = max(1, _prob_round(rng, h / rng.uniform(*HOUSEHOLDS_PER_AREA)), min(3, h // 15))
    clans = _prob_round(rng, h / rng.uniform(*HOUSEHOLDS_PER_CLAN))
    units = _prob_round(rng, h / rng.uniform(*HOUSEHOLDS_PER_UNIT))
    if h >= 15:
        clans, units = max(clans, 1), max(units, 1)
    return areas, clans, units


def _area_kind(rng: random.Random, ward: AdministrativeUnit, province_code: str) -> str:
    south = int(province_code) >= _KHU_PHO_FROM
    if ward.division_type == "phường":
        return AreaType.KHU_PHO if south else AreaType.TO_DAN_PHO
    if south:
        return AreaType.OTHER  # ấp
    if province_code in _MOUNTAIN_PROVINCES:
        return rng.choices([AreaType.BAN, AreaType.THON, AreaType.XOM], [60, 25, 15])[0]
    return rng.choices([AreaType.THON, AreaType.XOM], [80, 20])[0]


_AREA_PREFIX = {
    AreaType.TO_DAN_PHO: ("TDP", "Tổ dân phố"),
    AreaType.KHU_PHO: ("KP", "Khu phố"),
    AreaType.THON: ("THON", "Thôn"),
    AreaType.XOM: ("XOM", "Xóm"),
    AreaType.BAN: ("BAN", "Bản"),
    AreaType.OTHER: ("AP", "Ấp"),
}


# How often an area of each type is simply numbered ('Xóm 3', 'Ấp 2') rather than named.
_NUMBERED = {AreaType.THON: 0.2, AreaType.XOM: 0.5, AreaType.BAN: 0.1, AreaType.OTHER: 0.5}


def _area_name(rng: random.Random, area_type: str, number: int, used: set[str]) -> str:
    word = _AREA_PREFIX[area_type][1]
    if area_type in (AreaType.TO_DAN_PHO, AreaType.KHU_PHO) or rng.random() < _NUMBERED[area_type]:
        return f"{word} {number}"
    for _attempt in range(6):
        if area_type == AreaType.BAN:
            name = f"{word} {rng.choice(_BAN_FIRST)} {rng.choice(_BAN_SECOND)}"
        elif area_type == AreaType.XOM:
            name = f"{word} {rng.choice(_XOM_NAMES)}"
        elif area_type == AreaType.THON and rng.random() < 0.25:
            name = f"{word} {rng.choice(_DIRECTION_NAMES)}"
        else:
            name = f"{word} {' '.join(rng.sample(_PLACE_SYLLABLES, 2))}"
        if name not in used:
            return name
    return f"{word} {number}"


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name} {n}", n + 1
    return candidate


def _unit_plan(
    rng: random.Random, index: int, ward: AdministrativeUnit, surnames: _Weighted, used: set[str]
) -> tuple[str, str, int]:
    """The ward's units: its public bodies first, then a realistic mix of the others."""
    phrase = unit_phrase(ward)
    base = phrase.split(" ", 1)[1] if " " in phrase else phrase
    core = [
        (UnitType.AGENCY, f"Ủy ban nhân dân {phrase}", (30, 60)),
        (UnitType.SCHOOL, f"Trường Mầm non {base}", (20, 50)),
        (UnitType.SCHOOL, f"Trường Tiểu học {base}", (30, 70)),
        (UnitType.SCHOOL, f"Trường Trung học cơ sở {base}", (30, 70)),
        (UnitType.AGENCY, f"Trạm Y tế {phrase}", (6, 15)),
        (UnitType.AGENCY, f"Công an {phrase}", (20, 50)),
        (UnitType.OTHER, f"Trung tâm học tập cộng đồng {phrase}", (3, 10)),
    ]
    if index < len(core):
        unit_type, name, staff_range = core[index]
        return unit_type, _unique(name, used), rng.randint(*staff_range)
    unit_type = rng.choices(
        [UnitType.ENTERPRISE, UnitType.SCHOOL, UnitType.AGENCY, UnitType.OTHER], [50, 22, 13, 15]
    )[0]
    if unit_type == UnitType.SCHOOL:
        level, staff = rng.choice(
            [("Mầm non", (20, 50)), ("Tiểu học", (30, 70)), ("Trung học cơ sở", (30, 70)),
             ("Trung học phổ thông", (60, 120))]
        )  # fmt: skip
        named = rng.choice(_PRESCHOOL_NAMES if level == "Mầm non" else _FAMOUS)
        return unit_type, _unique(f"Trường {level} {named}", used), rng.randint(*staff)
    if unit_type == UnitType.AGENCY:
        name = rng.choice(_WARD_AGENCIES).format(phrase=phrase, base=base)
        return unit_type, _unique(name, used), rng.randint(5, 30)
    if unit_type == UnitType.OTHER:
        if rng.random() < 0.5:
            name = f"Hợp tác xã {rng.choice(['Nông nghiệp', 'Dịch vụ tổng hợp'])} {base}"
        else:
            owner = _person(rng, surnames.pick(rng), rng.random() < 0.7)
            name = f"Cơ sở sản xuất {rng.choice(_PRODUCTS)} {owner}"
        return unit_type, _unique(name, used), rng.randint(3, 25)
    form = rng.choice(["TNHH", "TNHH", "Cổ phần"])
    brand = " ".join(rng.sample(_PLACE_SYLLABLES, 2))
    name = f"Công ty {form} {rng.choice(_SECTORS)} {brand}"
    staff = max(5, min(800, int(rng.lognormvariate(3.2, 0.9))))
    return unit_type, _unique(name, used), staff


def _plan_ward(
    rng: random.Random,
    ward: AdministrativeUnit,
    province_code: str,
    households: int,
    surnames: _Weighted,
) -> _WardPlan:
    n_areas, n_clans, n_units = _ward_counts(rng, households)

    areas: list[_Area] = []
    numbers: Counter = Counter()
    used: set[str] = set()
    for _i in range(n_areas):
        area_type = _area_kind(rng, ward, province_code)
        numbers[area_type] += 1
        prefix = _AREA_PREFIX[area_type][0]
        name = _area_name(rng, area_type, numbers[area_type], used)
        used.add(name)
        areas.append(_Area(f"{prefix}{numbers[area_type]:04d}", name, area_type, 0))
    weights = [rng.lognormvariate(0, 0.35) for _a in areas]
    for area, size in zip(areas, _apportion(households, weights), strict=True):
        area.households = size

    clans: list[_ClanPlan] = []
    branches: Counter = Counter()
    for i in range(n_clans):
        surname = surnames.pick(rng)
        hmong = surname in _HMONG_SURNAMES
        middle = "A" if hmong else CLAN_MIDDLE.pick(rng)
        line = surname if hmong else f"{surname} {middle}"  # H'Mông clans go by the name alone
        branches[line] += 1
        name = f"Dòng họ {line}" + (f" (chi {branches[line]})" if branches[line] > 1 else "")
        head = _person(rng, surname, True, middle)
        clans.append(_ClanPlan(f"DH{i + 1:04d}", name, head, surname, middle))
        for a in rng.sample(range(n_areas), min(n_areas, rng.randint(2, 4))):
            areas[a].clans.append(i)

    units: list[_UnitPlan] = []
    used_units: set[str] = set()
    for i in range(n_units):
        unit_type, name, staff = _unit_plan(rng, i, ward, surnames, used_units)
        used_units.add(name)
        units.append(_UnitPlan(f"DV{i + 1:04d}", name, unit_type, staff))
    return _WardPlan(areas, clans, units)


class _Member(NamedTuple):
    name: str
    age: int


def _household(
    rng: random.Random, surnames: _Weighted, clan: _ClanPlan | None
) -> tuple[str, int, list[_Member]]:
    """(head's name, members, members aged CITIZEN_MIN_AGE or more) of one household."""
    size = rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_SIZE_WEIGHTS)[0]
    head_age = int(rng.triangular(22, 85, 40))
    if clan is not None:
        male = rng.random() < 0.9
        surname = clan.surname if male else surnames.pick(rng)
        middle = clan.middle if male and rng.random() < 0.6 else None
    else:
        male = rng.random() < 0.72
        surname, middle = surnames.pick(rng), None
    head = _person(rng, surname, male, middle)
    people = [_Member(head, head_age)]
    father_surname = surname if male else None
    remaining = size - 1
    if remaining and rng.random() < 0.85:
        spouse_surname = surnames.pick(rng)
        if not male:
            father_surname = spouse_surname
        age = max(18, head_age + rng.randint(-6, 4) * (1 if male else -1))
        people.append(_Member(_person(rng, spouse_surname, not male), age))
        remaining -= 1
    if remaining >= 2 and head_age < 55 and rng.random() < 0.35:
        elder_age = min(98, head_age + rng.randint(24, 32))
        people.append(_Member(_person(rng, surname, rng.random() < 0.4), elder_age))
        remaining -= 1
    child_surname = father_surname or surname
    for _c in range(remaining):
        age = max(0, head_age - rng.randint(22, 40))
        people.append(_Member(_person(rng, child_surname, rng.random() < 0.51), age))
    return head, size, [p for p in people if p.age >= CITIZEN_MIN_AGE]


# --- writing ----------------------------------------------------------------------------------
class _WardStart(NamedTuple):
    ward: AdministrativeUnit
    plan: _WardPlan


class _Households(NamedTuple):
    """A chunk of one ward's households, as rows without their database ids."""

    families: list[tuple[str, str, str]]  # (code, head's name, search text)
    family_rows: list[tuple[int, int, int | None]]  # (members, area index, clan index or None)
    citizens: list[tuple[str, str, str]]  # (code, name, search text)
    # (birth year, index of the family in this chunk, index of the unit or None)
    citizen_links: list[tuple[int, int, int | None]]


class _WardEnd(NamedTuple):
    """This year's members of each area's sub-association and of the committees that exist:
    (unit index, members)."""

    sub_members: list[int]
    committees: list[tuple[int, int]]


def _household_batches(rng: random.Random, plan: _WardPlan, surnames: _Weighted):
    """The ward's households, area by area, in lists of CHUNK_HOUSEHOLDS (the last shorter):
    (head's name, size, area index, clan index or None, members aged 15 or more)."""
    pending: list[tuple[str, int, int, int | None, list[_Member]]] = []
    for a, area in enumerate(plan.areas):
        for _h in range(area.households):
            clan = rng.choice(area.clans) if area.clans and rng.random() < CLAN_SHARE else None
            head, size, members = _household(
                rng, surnames, plan.clans[clan] if clan is not None else None
            )
            pending.append((head, size, a, clan, members))
            if len(pending) >= CHUNK_HOUSEHOLDS:
                yield pending
                pending = []
    if pending:
        yield pending


def _households_chunk(
    rng: random.Random,
    pending: list[tuple[str, int, int, int | None, list[_Member]]],
    family_no: int,
    citizen_no: int,
    unit_chance: float,
    staff_cum: list[int],
    year: int,
) -> _Households:
    """The rows of `pending` households (head, size, area, clan, members), numbered after the
    ward's `family_no` households and `citizen_no` citizens so far; draws which working-age
    citizens are staff of a unit of the ward, and of which."""
    families, family_rows, citizens, links = [], [], [], []
    for index, (head, size, area, clan, _members) in enumerate(pending, start=1):
        code = f"HGD{family_no + index:06d}"
        families.append((code, head, _search_text(head, code)))
        family_rows.append((size, area, clan))
    for index, (*_r, members) in enumerate(pending):
        for person in members:
            citizen_no += 1
            code = f"CD{citizen_no:07d}"
            citizens.append((code, person.name, _search_text(person.name, code)))
            unit = None
            if (
                unit_chance
                and WORKING_AGE[0] <= person.age <= WORKING_AGE[1]
                and rng.random() < unit_chance
            ):
                unit = bisect.bisect(staff_cum, rng.random() * staff_cum[-1])
            links.append((year - person.age, index, unit))
    return _Households(families, family_rows, citizens, links)


def _province_rows(
    *,
    province_code: str,
    wards: list[tuple[AdministrativeUnit, int]],
    seed: int,
    surnames: _Weighted,
    year: int,
):
    """Everything random about the province's demo data, ward by ward, as plain rows.

    Pure Python, no database: `_generate_province` runs it in a process of its own
    (`in_background`) and writes each piece while the next is being made. Per ward it yields a
    `_WardStart`, its households in `_Households` chunks, then a `_WardEnd`; every random choice
    comes from the ward's own `random.Random(f"{seed}:{ward code}")`, in that order.
    """
    for ward, households in wards:
        rng = random.Random(f"{seed}:{ward.code}")
        plan = _plan_ward(rng, ward, province_code, households, surnames)
        yield _WardStart(ward, plan)

        # Staff who live in the ward: working-age citizens picked with a probability that fills
        # about STAFF_LIVING_IN_WARD of the units' staff, each unit in proportion to its staff.
        total_staff = sum(u.staff for u in plan.units)
        unit_chance = (
            min(0.6, STAFF_LIVING_IN_WARD * total_staff / (households * WORKING_AGE_PER_HOUSEHOLD))
            if households and plan.units
            else 0.0
        )
        staff_cum = list(itertools.accumulate(u.staff for u in plan.units))
        family_no = citizen_no = 0
        for pending in _household_batches(rng, plan, surnames):
            chunk = _households_chunk(
                rng, pending, family_no, citizen_no, unit_chance, staff_cum, year
            )
            family_no += len(chunk.families)
            citizen_no += len(chunk.citizens)
            yield chunk

        sub_members = [
            max(1, round(area.households * rng.uniform(*SUB_MEMBERS_PER_HOUSEHOLD)))
            for area in plan.areas
        ]
        committees = [
            (i, max(1, round(unit.staff * rng.uniform(*COMMITTEE_MEMBERS_PER_STAFF))))
            for i, unit in enumerate(plan.units)
            if unit.staff >= COMMITTEE_MIN_STAFF and rng.random() < COMMITTEE_CHANCE[unit.unit_type]
        ]
        yield _WardEnd(sub_members, committees)


class _WardWriter(BulkWriter):
    """Writes what `_province_rows` makes of one ward, giving the rows their database ids:
    entities first (their ids are known), then the kind rows."""

    def __init__(self, start: _WardStart, report: DemoReport):
        super().__init__()
        self.ward = start.ward
        self.report = report
        plan = self.plan = start.plan
        self.area_ids = self.entities(
            Kind.COMMUNITY, [(a.code, a.name, _search_text(a.name, a.code)) for a in plan.areas]
        )
        self.kind_rows(
            Community,
            ["entity", "area_type"],
            [(pk, a.area_type) for pk, a in zip(self.area_ids, plan.areas, strict=True)],
        )
        self.clan_ids = self.entities(
            Kind.CLAN,
            [(c.code, c.name, _search_text(c.name, c.code, c.head_name)) for c in plan.clans],
        )
        self.kind_rows(
            Clan,
            ["entity", "head_name"],
            [(pk, c.head_name) for pk, c in zip(self.clan_ids, plan.clans, strict=True)],
        )
        self.unit_ids = self.entities(
            Kind.UNIT, [(u.code, u.name, _search_text(u.name, u.code)) for u in plan.units]
        )
        self.kind_rows(
            Unit,
            ["entity", "unit_type", "staff"],
            [(pk, u.unit_type, u.staff) for pk, u in zip(self.unit_ids, plan.units, strict=True)],
        )

    def entities(self, kind: str, rows: list[tuple[str, str, str]]) -> list[int]:
        """Insert (code, name, search_text) rows of `kind`; returns their ids in the same order."""
        if not rows:
            return []
        fields = ["kind", "province", "ward", "code", "name", "search_text", "sort_key"]
        fields += ["created_at", "updated_at"]
        head = (kind, self.ward.parent_id, self.ward.pk)
        person = kind in PERSON_KINDS
        values = [
            (*head, code, name, search, _sort_key(name, person), self.now, self.now)
            for code, name, search in rows
        ]
        self.report.counts[kind] += len(rows)
        if self.copy:
            ids = self.next_ids(Entity, len(rows))
            self.insert(
                Entity, ["id", *fields], [(pk, *v) for pk, v in zip(ids, values, strict=True)]
            )
            return ids
        # Matched by code (unique in the ward and kind), not by the order RETURNING gives.
        by_code = dict(self.insert(Entity, fields, values, returning=("code", "id")))
        return [by_code[code] for code, _name, _search in rows]

    def kind_rows(self, model, fields: list[str], rows: list[tuple]) -> None:
        self.insert(model, fields, rows)

    def households(self, chunk: _Households) -> None:
        fam_ids = self.entities(Kind.FAMILY, chunk.families)
        area_ids, clan_ids, unit_ids = self.area_ids, self.clan_ids, self.unit_ids
        self.kind_rows(
            Family,
            ["entity", "members", "community", "clan"],
            [
                (pk, size, area_ids[area], clan_ids[clan] if clan is not None else None)
                for pk, (size, area, clan) in zip(fam_ids, chunk.family_rows, strict=True)
            ],
        )
        cit_ids = self.entities(Kind.CITIZEN, chunk.citizens)
        self.kind_rows(
            Citizen,
            ["entity", "birth_year", "family", "unit"],
            [
                (pk, born, fam_ids[family], unit_ids[unit] if unit is not None else None)
                for pk, (born, family, unit) in zip(cit_ids, chunk.citizen_links, strict=True)
            ],
        )

    def associations(self, end: _WardEnd, *, parent_id: int, year: int) -> int:
        """Sub-associations and committees of the ward with this year's members; returns the
        sum of their members."""
        ward, plan = self.ward, self.plan
        assocs = [
            Association(
                name=f"Chi hội Khuyến học {area.name}",
                level=Association.Level.SUB,
                admin_unit_id=ward.pk,
                parent_id=parent_id,
                community_id=pk,
            )
            for pk, area in zip(self.area_ids, plan.areas, strict=True)
        ]
        members = list(end.sub_members)
        self.report.counts["sub"] += len(assocs)
        for index, count in end.committees:
            assocs.append(
                Association(
                    name=f"Ban Khuyến học {plan.units[index].name}",
                    level=Association.Level.COMMITTEE,
                    admin_unit_id=ward.pk,
                    parent_id=parent_id,
                    unit_id=self.unit_ids[index],
                )
            )
            members.append(count)
        self.report.counts["committee"] += len(end.committees)
        Association.objects.bulk_create(assocs, batch_size=BATCH_SIZE)
        AssociationMembership.objects.bulk_create(
            [
                AssociationMembership(association_id=a.pk, year=year, members=m)
                for a, m in zip(assocs, members, strict=True)
            ],
            batch_size=BATCH_SIZE,
        )
        self.report.memberships += len(assocs)
        return sum(members)


def _ward_weights(rng: random.Random, wards: list[AdministrativeUnit]) -> list[float]:
    factor = {"phường": 2.0, "xã": 1.0, "đặc khu": 0.5}
    return [rng.lognormvariate(0, 0.5) * factor.get(w.division_type, 1.0) for w in wards]


def _distribute(rng: random.Random, households: int, wards: list[AdministrativeUnit]) -> list[int]:
    """Households per ward: every ward gets one when there are enough, the rest by weight."""
    weights = _ward_weights(rng, wards)
    base = 1 if households >= len(wards) else 0
    return [base + n for n in _apportion(households - base * len(wards), weights)]


def existing_counts(province: AdministrativeUnit) -> Counter:
    rows = Entity.objects.filter(province=province).values("kind").annotate(n=Count("pk"))
    return Counter({r["kind"]: r["n"] for r in rows})


def _province_and_wards(code: str) -> tuple[AdministrativeUnit | None, list[AdministrativeUnit]]:
    province = AdministrativeUnit.objects.filter(
        level=Level.PROVINCE, code=code, valid_to__isnull=True
    ).first()
    if province is None:
        return None, []
    wards = AdministrativeUnit.objects.filter(
        level=Level.WARD, parent=province, valid_to__isnull=True
    ).select_related("parent")
    return province, list(wards.order_by("code"))


def demo_generate(*, province_code: str, households: int, seed: int) -> DemoReport:
    """Generate demo data for a province (loading its wards first if needed); see module doc.

    Raises ValidationError, writing nothing, on an unknown province or a non-positive count.
    Leaves a province that already has entities untouched (`already_present`). One
    transaction; `seconds` includes its commit (PostgreSQL checks the deferred foreign keys then).
    """
    started = time.perf_counter()
    code = province_code_normalize(province_code)
    if households < 1:
        raise ValidationError(_("The number of households must be at least 1."))
    report = DemoReport()
    with transaction.atomic():
        province, wards = _province_and_wards(code)
        if not wards:
            divisions_load(province_codes=[code])
            report.loaded_divisions = True
            province, wards = _province_and_wards(code)
        report.province, report.wards = province, len(wards)
        present = existing_counts(province)
        if present:
            report.already_present, report.counts = True, present
        else:
            loaded = (Entity, Community, Clan, Unit, Family, Citizen)
            with (
                foreign_keys_checked_at_end(*loaded, Association, AssociationMembership),
                indexes_built_at_end(*loaded),
            ):
                _generate_province(province, wards, households=households, seed=seed, report=report)
            analyze(*loaded)
            tallies_refresh(ward_ids=[ward.pk for ward in wards])
            record_bulk(
                "demo_generate",
                model=Entity,
                province_ids=[province.pk],
                households=households,
                seed=seed,
            )
    report.seconds = time.perf_counter() - started
    return report


def _generate_province(
    province: AdministrativeUnit,
    wards: list[AdministrativeUnit],
    *,
    households: int,
    seed: int,
    report: DemoReport,
) -> None:
    associations_ensure(units=[province, *wards])
    ward_assoc = dict(
        Association.objects.filter(level=Association.Level.WARD, admin_unit__in=wards).values_list(
            "admin_unit_id", "pk"
        )
    )
    year = timezone.localdate().year
    surnames = _surnames_for(province.code)
    per_ward = _distribute(random.Random(f"{seed}:{province.code}"), households, wards)
    rows = _province_rows(
        province_code=province.code,
        wards=[(ward, n) for ward, n in zip(wards, per_ward, strict=True) if n],
        seed=seed,
        surnames=surnames,
        year=year,
    )
    memberships, province_members = [], 0
    out: _WardWriter | None = None
    for item in in_background(rows):
        if isinstance(item, _WardStart):
            out = _WardWriter(item, report)
        elif isinstance(item, _Households):
            out.households(item)
        else:
            ward_id = out.ward.pk
            members = out.associations(item, parent_id=ward_assoc[ward_id], year=year)
            memberships.append(
                AssociationMembership(
                    association_id=ward_assoc[ward_id], year=year, members=members
                )
            )
            province_members += members
    province_assoc = Association.objects.get(level=Association.Level.PROVINCE, admin_unit=province)
    memberships.append(
        AssociationMembership(association_id=province_assoc.pk, year=year, members=province_members)
    )
    # A membership a person already entered for this year is theirs; keep it.
    taken = set(
        AssociationMembership.objects.filter(
            year=year, association_id__in=[m.association_id for m in memberships]
        ).values_list("association_id", flat=True)
    )
    new = [m for m in memberships if m.association_id not in taken]
    AssociationMembership.objects.bulk_create(new, batch_size=BATCH_SIZE)
    report.memberships += len(new)


# --- demo logins ------------------------------------------------------------------------------
@dataclass
class DemoAccount:
    username: str
    role: str
    unit: AdministrativeUnit | None

    @property
    def password(self) -> str:
        return DEMO_PASSWORDS[self.role]


# Fixed and documented, so anyone trying the demo can log in; they pass Django's validators.
DEMO_PASSWORDS = {
    Role.STAFF: "hoctap-staff-2025",
    Role.OFFICIAL: "hoctap-official-2025",
    Role.VIEWER: "hoctap-viewer-2025",
    Role.ADMIN: "hoctap-admin-2025",
}


def demo_ward(province: AdministrativeUnit) -> AdministrativeUnit | None:
    """The ward with the most households (the first by code on a tie), else the first with any
    entity; None when the province has no data."""
    in_province = Entity.objects.filter(province=province)
    for entities in (in_province.filter(kind=Kind.FAMILY), in_province):
        top = (
            entities.values("ward_id", "ward__code")
            .annotate(n=Count("pk"))
            .order_by("-n", "ward__code")
            .first()
        )
        if top:
            return AdministrativeUnit.objects.get(pk=top["ward_id"])
    return None


@transaction.atomic
def demo_accounts_create(*, province_code: str) -> list[DemoAccount]:
    """One login per role for trying the demo of a province: staff and official of its demo
    ward, viewer of the province, admin of everything. Idempotent: a rerun resets the same
    users to the same roles and passwords.

    Refused unless settings.DEBUG: demo passwords must never exist in production.
    """
    if not settings.DEBUG:
        raise ValidationError(
            _("Demo accounts have published passwords: they are only created when DEBUG is on.")
        )
    code = province_code_normalize(province_code)
    province = AdministrativeUnit.objects.filter(
        level=Level.PROVINCE, code=code, valid_to__isnull=True
    ).first()
    if province is None:
        raise ValidationError(
            _("Province %(code)s is not loaded: run load_divisions --province %(code)s first.")
            % {"code": code}
        )
    ward = demo_ward(province)
    if ward is None:
        raise ValidationError(
            _("%(province)s has no data yet: run generate_demo --province %(code)s first.")
            % {"province": province.name, "code": code}
        )
    accounts = [
        DemoAccount("demo-staff", Role.STAFF, ward),
        DemoAccount("demo-official", Role.OFFICIAL, ward),
        DemoAccount("demo-viewer", Role.VIEWER, province),
        DemoAccount("demo-admin", Role.ADMIN, None),
    ]
    for account in accounts:
        grant_role(
            username=account.username,
            role=account.role,
            unit_code=account.unit.code if account.unit else None,
            password=account.password,
        )
    return accounts
