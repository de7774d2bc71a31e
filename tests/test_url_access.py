"""Every URL of the project, called as every role, inside and outside its unit.

The cases are generated from the URL configuration: `test_every_url_is_declared` walks the
resolver (pages, the API and its router, admin, login/logout, i18n, schema and docs) and fails,
listing them, if any URL pattern has no entry in `DECLARED` below — so a new page cannot ship
without someone saying who may open it. `test_every_declaration_is_a_url` fails if an entry no
longer matches a URL of the configuration.

Declaring a new URL is one line in `DECLARED`, next to its neighbours, e.g.

    Url("audit_log", read(ADMINS)),                            # a page, no object in its URL
    Url("password_change", read(ALL_USERS), post=write(ALL_USERS, ok=200)),
    Url("entity_detail", read(), kwargs=lambda p: {"kind": "units", "pk": p.unit.pk}),

- Who: the personas and their groups (`GRANTED`, `ALL_USERS`, `REGISTER`, `REVIEW`, `ADMINS`)
  are defined just below; `read(...)`, `write(...)`, `same(...)`, `api(...)`, `admin(...)`
  make the rules.
- `kwargs` / `query` / `data` build the URL's arguments, query string and POST body from a
  `Place`: the objects of one commune/ward (see `_build_place`). When any of them is a function
  of the place the URL is *scoped*: each role calls it for an object inside its unit and for
  objects of the next ward and of another province.
- The rule for GET (and `post=` for POST) says who succeeds and how; the defaults are the
  project's policy: anonymous → the login page (401 for the API), a role not allowed → 403,
  anyone outside their unit → 404 (the admin's "does not exist" redirect there). `role_first`
  says the view checks the role before the scope (then a read-only role gets 403 everywhere);
  `special` overrides the answer for named personas.
- `shows` names a marker (a code) of the place: a list must show it to those whose unit covers
  the place and to nobody else.
- A refused POST (401, 403, 404, 405, a login redirect, ...) must write nothing to the
  database (the session aside): no INSERT, UPDATE or DELETE, not even one rolled back later.

Each case is its own test, named `<url>[<variant>]-<METHOD>-<persona>-<inside|outside>@<place>`,
and runs in a transaction rolled back afterwards, over objects built once per module.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from knox.models import AuthToken

from audit.models import AuditEntry
from community.services.groups import activity_create, group_create, member_create
from programmes.services import records as programme_records
from registry.models import (
    AdministrativeUnit,
    Association,
    AssociationMembership,
    Grant,
    Kind,
    Role,
    UnitSuccession,
)
from registry.services.grants import grant_role
from tests.factories import (
    ProvinceFactory,
    UserFactory,
    WardFactory,
    make_citizen,
    make_clan,
    make_community,
    make_family,
    make_unit,
)
from tests.titles.factories import CLAN_DOC, FAMILY_DOC, load, registration
from titles.forms import YES, current_year
from titles.models import RegistrationEvent, RegistrationWindow, State, Target
from titles.services import registrations as registering
from titles.services.evaluate import registrations_evaluate
from titles.services.review import override_set
from titles.services.rollups import rollups_refresh

YEAR = current_year()

# --- who ---------------------------------------------------------------------------------------

# Personas: a role and the unit its grant covers (the places are A, B: wards of province P;
# X: a ward of province Q). `no_grant` is logged in without any role.
WARD_ROLES = ("staff", "official", "viewer_ward")
PROVINCE_ROLES = ("viewer_province", "admin_province")
PERSONAS = ("anonymous", "no_grant", *WARD_ROLES, *PROVINCE_ROLES, "admin_global")
GRANTED = frozenset((*WARD_ROLES, *PROVINCE_ROLES, "admin_global"))
ALL_USERS = GRANTED | {"no_grant"}
REGISTER = frozenset({"staff", "admin_province", "admin_global"})  # registry edits, registering
REVIEW = frozenset({"official", "admin_province", "admin_global"})  # evaluate, approve, decide
ADMINS = frozenset({"admin_province", "admin_global"})
NOT_STAFF = frozenset(PERSONAS) - ADMINS  # Django admin lets none of them in

# The places each persona's unit covers, for ward-level and province-level objects.
COVERS = {
    "ward": {
        "staff": "A",
        "official": "A",
        "viewer_ward": "A",
        "viewer_province": "AB",
        "admin_province": "AB",
        "admin_global": "ABX",
    },
    "province": {"viewer_province": "AB", "admin_province": "AB", "admin_global": "ABX"},
    # A support programme belongs to a province: every role of the province sees it.
    "programme": {
        "staff": "AB",
        "official": "AB",
        "viewer_ward": "AB",
        "viewer_province": "AB",
        "admin_province": "AB",
        "admin_global": "ABX",
    },
    # Children's personal data (a programme's beneficiaries): never to viewers.
    "children": {
        "staff": "A",
        "official": "A",
        "admin_province": "AB",
        "admin_global": "ABX",
    },
}
# Where each persona is tried on a scoped URL: its own unit and the units around it.
TRIED_AT = {
    "anonymous": "A",
    "no_grant": "A",
    **dict.fromkeys(WARD_ROLES, "ABX"),
    **dict.fromkeys(PROVINCE_ROLES, "BX"),
    "admin_global": "X",
}


def covers(persona: str, place: str, level: str = "ward") -> bool:
    return place in COVERS[level].get(persona, "")


# --- answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """An expected answer: a status, for a redirect where it leads (a path, or None for anywhere
    but a login page), and whether the database must be left as it was (checked on POST)."""

    status: int
    to: str | None = None
    unchanged: bool = False
    label: str = ""

    def __str__(self) -> str:
        return self.label or str(self.status)

    def problem(self, response) -> str | None:
        """Why `response` is not this outcome, or None."""
        got = _describe(response)
        if response.status_code != self.status:
            return f"answered {got}, expected {self}"
        if self.status in (301, 302):
            where = urlsplit(response["Location"]).path
            if self.to is None and where in _login_paths():
                return f"answered {got}, expected {self}"
            if self.to is not None and where != self.to:
                return f"answered {got}, expected {self}"
        return None


def _login_paths() -> set[str]:
    return {reverse("login"), reverse("admin:login")}


def _describe(response) -> str:
    if response.status_code in (301, 302):
        return f"{response.status_code} → {response['Location']}"
    return str(response.status_code)


OK = Outcome(200)
BAD_REQUEST = Outcome(400, unchanged=True)
UNAUTHORIZED = Outcome(401, unchanged=True)
FORBIDDEN = Outcome(403, unchanged=True)
NOT_FOUND = Outcome(404, unchanged=True)
NOT_ALLOWED = Outcome(405, unchanged=True)
LOGIN = Outcome(302, to="/accounts/login/", unchanged=True, label="302 → login")
ADMIN_LOGIN = Outcome(302, to="/admin/login/", unchanged=True, label="302 → admin login")
# An object of Django admin that does not exist, or is outside the administrator's scope, is a
# 404, as on the pages (Django's own answer, a redirect to the index, names the id it sought).
ADMIN_GONE = Outcome(404, unchanged=True, label="404 (admin: not found or out of scope)")
REDIRECT = Outcome(302, label="302 (not to a login page)")
REDIRECT_UNCHANGED = Outcome(302, unchanged=True, label="302, nothing changed")
OK_UNCHANGED = Outcome(200, unchanged=True, label="200, nothing changed")
ADMIN_INDEX = Outcome(302, to="/admin/", unchanged=True, label="302 → admin index")
# Answers that are refusals but rightly write: a logout and a failed login go to the audit log,
# a failed login also to axes' count of failures.
LOGGED_OUT = Outcome(302, to="/accounts/login/", label="302 → login, logout recorded")
LOGIN_FAILED = Outcome(400, label="400, failed login recorded")
UNSUPPORTED = Outcome(415, unchanged=True, label="415, not JSON: nothing read or recorded")
_BY_STATUS = {o.status: o for o in (OK, BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND)}
_BY_STATUS[405] = NOT_ALLOWED


def _outcome(value: Outcome | int) -> Outcome:
    return value if isinstance(value, Outcome) else _BY_STATUS[value]


@dataclass(frozen=True)
class Rule:
    """Who gets which answer for one method of one URL.

    `allowed` personas get `ok` inside their unit and `outside` beyond it; other logged-in
    personas get `refused` inside (and beyond it too when `role_first`: the view checks the
    role before looking the object up), else `outside`. `special` wins over all of that.
    """

    allowed: frozenset[str]
    ok: Outcome | int = OK
    refused: Outcome | int = FORBIDDEN
    outside: Outcome | int = NOT_FOUND
    anonymous: Outcome | int = LOGIN
    role_first: bool = False
    special: dict[str, Outcome | int] = field(default_factory=dict)
    uniform: bool = False  # the same answer wherever the object is: one place is enough

    def expected(self, persona: str, inside: bool) -> Outcome:
        if persona in self.special:
            return _outcome(self.special[persona])
        if persona == "anonymous":
            return _outcome(self.anonymous)
        if persona in self.allowed:
            return _outcome(self.ok if inside else self.outside)
        return _outcome(self.refused if inside or self.role_first else self.outside)


def read(allowed: Iterable[str] = GRANTED, ok: Outcome | int = OK, **kw) -> Rule:
    """A read: every role (or `allowed`) in scope succeeds."""
    return Rule(frozenset(allowed), ok, **kw)


def write(allowed: Iterable[str], ok: Outcome | int = REDIRECT, **kw) -> Rule:
    """A change: `allowed` roles in scope succeed (redirect after POST by default)."""
    return Rule(frozenset(allowed), ok, **kw)


def same(answer: Outcome | int, anonymous: Outcome | int = LOGIN, **special) -> Rule:
    """The same answer for every logged-in persona, wherever the object is."""
    answer = _outcome(answer)
    return Rule(ALL_USERS, answer, answer, answer, anonymous, special=special, uniform=True)


def api(rule: Rule) -> Rule:
    """The API answers an anonymous client 401 (token authentication is tried first)."""
    return Rule(**{**rule.__dict__, "anonymous": UNAUTHORIZED})


def admin(
    allowed: Iterable[str] = ADMINS,
    ok: Outcome | int = OK,
    *,
    refused: Outcome | int = FORBIDDEN,
    outside: Outcome | int = ADMIN_GONE,
    role_first: bool = False,
) -> Rule:
    """Django admin: only `is_staff` users (the admin role) get in; the rest go to its login."""
    return Rule(
        frozenset(allowed),
        ok,
        refused,
        outside,
        ADMIN_LOGIN,
        role_first,
        special=dict.fromkeys(NOT_STAFF - {"anonymous"}, ADMIN_LOGIN),
    )


# --- what ------------------------------------------------------------------------------------

Build = Callable[["Place"], Any]


@dataclass(frozen=True)
class Url:
    """One URL pattern (by name, or by `path` for an unnamed one) and who may call it how."""

    name: str
    get: Rule | None
    post: Rule | None = None
    kwargs: dict | Build | None = None
    query: dict | Build | None = None
    data: dict | Build | None = None
    path: Build | None = None
    variant: str = ""
    level: str = "ward"  # what the place's object belongs to: "ward" or "province"
    shows: Build | None = None
    scoped: bool | None = None  # default: whether kwargs/query/data/path depend on the place

    @property
    def id(self) -> str:
        return f"{self.name}[{self.variant}]" if self.variant else self.name

    @property
    def is_scoped(self) -> bool:
        if self.scoped is not None:
            return self.scoped
        return any(callable(part) for part in (self.kwargs, self.query, self.data, self.path))

    def url(self, place: Place) -> str:
        if self.path is not None:
            url = self.path(place)
        else:
            url = reverse(self.name, kwargs=_value(self.kwargs, place) or None)
        query = _value(self.query, place)
        return f"{url}?{urlencode(query, doseq=True)}" if query else url

    def post_data(self, place: Place) -> dict:
        return _value(self.data, place) or {}


def _value(part, place):
    return part(place) if callable(part) else part


# --- the places ------------------------------------------------------------------------------


@dataclass
class Place:
    """Everything one commune/ward has, for building URLs (the same shape in A, B and X)."""

    tag: str
    ward: Any
    province: Any
    community: Any = None
    clan: Any = None
    family: Any = None
    family_new: Any = None  # a second household, registered but not evaluated
    unit: Any = None
    citizen: Any = None
    evaluated: Any = None  # the household's registration, evaluated and passed
    fresh: Any = None  # family_new's registration, just registered
    approved: Any = None  # the citizen's registration, approved (ready for a decision)
    recognized: Any = None  # the unit's registration, recognised under `decision`
    decision: Any = None
    token: str = ""  # self-assessment link of `fresh`
    self_code: str = ""  # the short code of that link
    user: Any = None  # a staff user of the ward (their grant, token and account)
    official: Any = None  # an official of the ward
    grant: Any = None
    api_token: Any = None
    association: Any = None
    membership: Any = None
    target: Any = None
    window: Any = None  # the province's registration window
    criteria_set: Any = None  # the province's own criteria set
    override: Any = None
    event: Any = None
    group: Any = None  # an auth group (not scoped: the same everywhere)
    audit_entry: Any = None  # the audit log's entry for a change to `family`
    commune_before_2025: Any = None  # a commune before 1 July 2025 that went into `ward`
    access_attempt: Any = None  # failed logins (axes) under the username of `user`
    access_log: Any = None
    access_failure: Any = None
    club: Any = None  # a group of the ward (community app) with one activity
    club_activity: Any = None
    club_member: Any = None
    programme: Any = None  # a support programme of the province, with one record of each kind
    contribution: Any = None
    beneficiary: Any = None  # a child of the ward, at `unit` (a school)
    delivery: Any = None

    def code(self, name: str) -> str:
        """A marker unique to this place: the entity code with the place's tag."""
        return f"{name}{self.tag}1"


@dataclass
class World:
    places: dict[str, Place]
    users: dict[str, Any]
    sessions: dict[str, str]  # persona → session key, logged in once for the module


ENTITY_FORM = {
    "communities": {"name": "Đổi tên", "area_type": "thon"},
    "clans": {"name": "Đổi tên", "head_name": ""},
    "families": {"head_name": "Đổi tên", "members": "3"},
    "units": {"name": "Đổi tên", "unit_type": "school", "staff": "9"},
    "citizens": {"full_name": "Đổi tên", "birth_year": "1990"},
}
KIND_ATTR = {
    "communities": "community",
    "clans": "clan",
    "families": "family",
    "units": "unit",
    "citizens": "citizen",
}


def entity_form(kind: str, place: Place, **extra) -> dict:
    data = {**ENTITY_FORM[kind], **extra}
    if kind == "families":
        data["community"] = place.community.entity.code
    return data


def _build_place(tag: str, ward, province, staff_user, official) -> Place:
    place = Place(tag=tag, ward=ward, province=province)
    old_province = AdministrativeUnit.objects.create(
        level=AdministrativeUnit.Level.PROVINCE_BEFORE_2025,
        code=f"8{ord(tag) % 10}",
        name=f"Tỉnh Cũ {tag}",
        valid_to=datetime.date(2025, 6, 30),
    )
    district = AdministrativeUnit.objects.create(
        level=AdministrativeUnit.Level.DISTRICT,
        code=f"8{ord(tag) % 100:02d}",
        name=f"Huyện Cũ {tag}",
        parent=old_province,
        valid_to=datetime.date(2025, 6, 30),
    )
    place.commune_before_2025 = AdministrativeUnit.objects.create(
        level=AdministrativeUnit.Level.WARD_BEFORE_2025,
        code=f"8{ord(tag):04d}",
        name=f"Xã Cũ {tag}",
        parent=district,
        valid_to=datetime.date(2025, 6, 30),
    )
    UnitSuccession.objects.create(before=place.commune_before_2025, after=ward, whole=True)
    place.community = make_community(ward, code=place.code("TDP"), name=f"Tổ dân phố {tag}")
    place.clan = make_clan(ward, code=place.code("DH"), name=f"Dòng họ {tag}")
    place.family = make_family(
        ward,
        code=place.code("HGD"),
        head_name=f"Chủ hộ {tag}",
        community=place.community,
        clan=place.clan,
    )
    place.family_new = make_family(
        ward, code=f"HGD{tag}2", head_name=f"Hộ mới {tag}", community=place.community
    )
    place.unit = make_unit(ward, code=place.code("DV"), name=f"Trường {tag}")
    place.citizen = make_citizen(
        ward, code=place.code("CD"), full_name=f"Công dân {tag}", family=place.family
    )
    place.evaluated = registration(
        place.family.entity, year=YEAR, evidence={"F1": "có", "F2": "3", "F3": "20"}
    )
    place.user = staff_user
    place.grant = Grant.objects.get(user=staff_user)
    place.api_token, _key = AuthToken.objects.create(user=staff_user)
    place.association = Association.objects.create(
        name=f"Hội Khuyến học {tag}",
        level=Association.Level.WARD,
        admin_unit=ward,
        parent=Association.objects.get(admin_unit=province),
    )
    place.membership = AssociationMembership.objects.create(
        association=place.association, year=YEAR, members=120
    )
    place.target = Target.objects.create(
        unit=ward, kind=Kind.FAMILY, year=YEAR, min_rate=70, max_rate=80, source=f"KH {tag}"
    )
    place.window = RegistrationWindow.objects.get(province=province, year=YEAR)
    place.criteria_set = _province_set(province)
    place.official = official
    place.club = group_create(
        ward=ward, code=place.code("CLB"), name=f"Tổ công nghệ số {tag}", group_type="digital_team"
    )
    place.club_activity = activity_create(
        group=place.club,
        ref=f"HD{tag}",
        date=datetime.date(YEAR, 1, 1),
        activity_type="home_visit",
        participants=3,
        citizens=[place.citizen.entity],
    )
    place.club_member = member_create(group=place.club, code="TV0", full_name=f"Thành viên {tag}")
    _build_programme(place)
    client = {"ip_address": "192.0.2.1", "user_agent": "Test", "http_accept": "*/*"}
    place.access_attempt = AccessAttempt.objects.create(
        **client,
        username=staff_user.username,
        path_info="/accounts/login/",
        get_data="",
        post_data="username=" + staff_user.username,
        failures_since_start=2,
    )
    place.access_log = AccessLog.objects.create(
        **client, username=staff_user.username, path_info="/accounts/login/"
    )
    place.access_failure = AccessFailureLog.objects.create(
        **client, username=staff_user.username, path_info="/accounts/login/"
    )
    return place


def _build_programme(place: Place) -> None:
    place.programme = programme_records.programme_save(
        province=place.province,
        code=place.code("CT"),
        name=f"Bữa trưa {place.tag}",
        organiser=f"Hội Khuyến học {place.tag}",
        kind="meals",
        starts=datetime.date(YEAR, 1, 1),
        daily_rate_vnd=6800,
        public_note="",
    )
    place.contribution = programme_records.contribution_save(
        programme=place.programme,
        ref=place.code("PT"),
        date=datetime.date(YEAR, 1, 2),
        donor=f"Nhà hảo tâm {place.tag}",
        amount_vnd=1_000_000,
    )
    place.beneficiary = programme_records.beneficiary_save(
        programme=place.programme,
        school=place.unit,
        code=place.code("TRE"),
        full_name=f"Cháu {place.tag}",
        birth_year=2020,
        starts=datetime.date(YEAR, 1, 1),
    )
    place.delivery = programme_records.delivery_save(
        programme=place.programme,
        school=place.unit,
        ref=place.code("PX"),
        date=datetime.date(YEAR, 1, 31),
        kind="meals",
        days=10,
        amount_vnd=68_000,
    )


def _province_set(province):
    doc = {**CLAN_DOC, "code": f"T-CLAN-{province.code}", "province": province.code}
    return load(doc)


def _finish_place(place: Place) -> None:
    """What needs the evaluation to have run: an override, then the other registrations."""
    place.evaluated.refresh_from_db()
    place.override = override_set(
        registration=place.evaluated,
        criterion="F3",
        met=True,
        reason="Đã kiểm tra",
        user=place.official,
    )
    place.evaluated.refresh_from_db()
    place.event = RegistrationEvent.objects.filter(registration=place.evaluated).first()
    place.fresh = registration(place.family_new.entity, year=YEAR)
    issued = registering.self_assessment_link_issue(registration=place.fresh)
    place.token, place.self_code = issued.token, issued.code
    place.approved = registration(place.citizen.entity, year=YEAR, state=State.APPROVED)
    place.recognized = registration(place.unit.entity, year=YEAR, state=State.RECOGNIZED)
    place.decision = place.recognized.decision
    # Last, so that the entry is among the newest (on the first page of the log and the admin).
    place.family.members += 1
    place.family.save()
    place.audit_entry = AuditEntry.objects.get(
        action=AuditEntry.Action.UPDATE,
        content_type=ContentType.objects.get_for_model(place.family),
        object_id=str(place.family.pk),
    )


def _build_world() -> World:
    province_p = ProvinceFactory(code="01", name="Thành phố Hà Nội")
    province_q = ProvinceFactory(code="17", name="Tỉnh Phú Thọ")
    wards = {
        "A": WardFactory(code="00070", name="Phường Hoàn Kiếm", parent=province_p),
        "B": WardFactory(code="00004", name="Phường Ba Đình", parent=province_p),
        "X": WardFactory(code="04825", name="Phường Hòa Bình", parent=province_q),
    }
    grants = {
        "staff": (Role.STAFF, "00070"),
        "official": (Role.OFFICIAL, "00070"),
        "viewer_ward": (Role.VIEWER, "00070"),
        "viewer_province": (Role.VIEWER, "01"),
        "admin_province": (Role.ADMIN, "01"),
        "admin_global": (Role.ADMIN, None),
        "staff_b": (Role.STAFF, "00004"),
        "staff_x": (Role.STAFF, "04825"),
        "official_b": (Role.OFFICIAL, "00004"),
        "official_x": (Role.OFFICIAL, "04825"),
    }
    users = {
        name: grant_role(username=name, role=role, unit_code=unit).user
        for name, (role, unit) in grants.items()
    }
    users["no_grant"] = UserFactory(username="no_grant")
    users["anonymous"] = None
    for province in (province_p, province_q):
        Association.objects.create(
            name=f"Hội Khuyến học {province.name}",
            level=Association.Level.PROVINCE,
            admin_unit=province,
        )
        RegistrationWindow.objects.create(
            province=province,
            year=YEAR,
            opens_on=datetime.date(YEAR, 1, 1),
            closes_on=datetime.date(YEAR, 12, 31),
        )
    load(FAMILY_DOC)
    group = Group.objects.create(name="Cán bộ")
    places = {
        "A": _build_place("A", wards["A"], province_p, users["staff"], users["official"]),
        "B": _build_place("B", wards["B"], province_p, users["staff_b"], users["official_b"]),
        "X": _build_place("X", wards["X"], province_q, users["staff_x"], users["official_x"]),
    }
    registrations_evaluate(year=YEAR)
    for place in places.values():
        _finish_place(place)
        place.group = group
    # The registrations above were made by factory, past the services that keep the roll-ups
    # exact; the API's numbered pages read their count and ward-years from those roll-ups.
    rollups_refresh(ward_ids=[ward.pk for ward in wards.values()])
    sessions = {}
    for persona in PERSONAS:
        if users[persona] is not None:
            browser = Client()
            browser.force_login(users[persona])
            sessions[persona] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return World(places=places, users=users, sessions=sessions)


# --- the declarations --------------------------------------------------------------------------

KINDS = tuple(KIND_ATTR)
ENTITY_CODE = {
    "communities": "TDP",
    "clans": "DH",
    "families": "HGD",
    "units": "DV",
    "citizens": "CD",
}


def _entity_urls() -> list[Url]:
    urls = []
    for kind in KINDS:
        attr, prefix = KIND_ATTR[kind], ENTITY_CODE[kind]

        def obj(p, attr=attr, kind=kind):
            return {"kind": kind, "pk": getattr(p, attr).pk}

        def marker(p, prefix=prefix):
            return p.code(prefix)

        urls += [
            Url(
                "entity_list",
                read(special={"no_grant": 200}),
                kwargs={"kind": kind},
                variant=kind,
                shows=marker,
            ),
            Url(
                "entity_list",
                read(),
                kwargs={"kind": kind},
                variant=f"{kind}?ward",
                query=lambda p: {"ward": p.ward.code},
                shows=marker,
            ),
            Url(
                "entity_create",
                read(REGISTER, role_first=True),
                kwargs={"kind": kind},
                variant=kind,
                query=lambda p: {"ward": p.ward.code},
                post=write(REGISTER, role_first=True),
                data=lambda p, kind=kind: entity_form(kind, p, code=f"NEW{p.tag}"),
            ),
            Url("entity_detail", read(), kwargs=obj, variant=kind, shows=marker),
            Url(
                "entity_edit",
                read(REGISTER),
                kwargs=obj,
                variant=kind,
                post=write(REGISTER),
                data=lambda p, kind=kind: entity_form(kind, p),
            ),
        ]
    # The search a household's form chooses its residential area and clan with.
    urls += [
        Url(
            "entity_search",
            read(),
            kwargs={"kind": kind},
            variant=kind,
            query=lambda p: {"ward": p.ward.code, "q": "a"},
        )
        for kind in ("communities", "clans")
    ]
    # "Add a citizen to this household": the form with the household filled in.
    urls.append(
        Url(
            "entity_create",
            read(REGISTER, role_first=True),
            kwargs={"kind": "citizens"},
            variant="citizens?family",
            query=lambda p: {"ward": p.ward.code, "family": p.family.entity.code},
            post=write(REGISTER, role_first=True),
            data=lambda p: entity_form(
                "citizens", p, code=f"NEWH{p.tag}", family=p.family.entity.code
            ),
        )
    )
    return urls


def _api_urls() -> list[Url]:
    urls = []
    for kind in KINDS:
        attr, prefix = KIND_ATTR[kind], ENTITY_CODE[kind]

        def marker(p, prefix=prefix):
            return f'"code":"{p.code(prefix)}"'

        for fmt in ("", "json"):
            kw = {"format": fmt} if fmt else {}
            variant = f"{kind}.{fmt}" if fmt else kind
            urls += [
                Url(
                    f"api-{kind}-list",
                    api(read(special={"no_grant": 200})),
                    kwargs=kw,
                    variant=variant,
                    shows=marker,
                ),
                Url(
                    f"api-{kind}-detail",
                    api(read()),
                    variant=variant,
                    kwargs=lambda p, kw=kw, attr=attr: {**kw, "pk": getattr(p, attr).pk},
                ),
            ]
        # A ward outside the scope gives an empty list, not a 404 (the API only ever omits).
        urls.append(
            Url(
                f"api-{kind}-list",
                api(read(outside=200, special={"no_grant": 200})),
                variant=f"{kind}?ward",
                query=lambda p: {"ward": p.ward.code},
                shows=marker,
            )
        )
    for fmt in ("", "json"):
        kw = {"format": fmt} if fmt else {}
        suffix = f".{fmt}" if fmt else ""
        urls += [
            Url(
                "api-groups-list",
                api(read(special={"no_grant": 200})),
                kwargs=kw,
                variant=f"all{suffix}",
                shows=lambda p: f'"code":"{p.code("CLB")}"',
            ),
            Url(
                "api-groups-detail",
                api(read()),
                variant=f"one{suffix}",
                kwargs=lambda p, kw=kw: {**kw, "pk": p.club.pk},
            ),
            Url(
                "api-activities-list",
                api(read(special={"no_grant": 200})),
                kwargs=kw,
                variant=f"all{suffix}",
                shows=lambda p: f'"ref":"HD{p.tag}"',
            ),
            Url(
                "api-activities-detail",
                api(read()),
                variant=f"one{suffix}",
                kwargs=lambda p, kw=kw: {**kw, "pk": p.club_activity.pk},
            ),
        ]
        urls += [
            Url(
                "api-registrations-list",
                api(read(special={"no_grant": 200})),
                kwargs=kw,
                variant=f"all{suffix}",
                query={"year": YEAR},
                shows=lambda p: f'"code":"{p.code("HGD")}"',
            ),
            Url(
                "api-registrations-detail",
                api(read()),
                variant=f"one{suffix}",
                kwargs=lambda p, kw=kw: {**kw, "pk": p.evaluated.pk},
            ),
            Url(
                "api-rollups-list",
                api(read(special={"no_grant": 200})),
                kwargs=kw,
                variant=f"wards{suffix}",
                query={"year": YEAR, "level": "ward"},
                shows=lambda p: f'"unit_code":"{p.ward.code}"',
            ),
            Url("api-root", api(read(special={"no_grant": 200})), kwargs=kw, variant=fmt or "html"),
        ]
    urls += [
        Url(
            "api-registrations-list",
            api(read(outside=200, special={"no_grant": 200})),
            variant="?ward",
            query=lambda p: {"year": YEAR, "ward": p.ward.code},
            shows=lambda p: f'"code":"{p.code("HGD")}"',
        ),
        Url(
            "api-rollups-list",
            api(read(outside=200, special={"no_grant": 200})),
            variant="?unit",
            query=lambda p: {"year": YEAR, "unit": p.ward.code},
            shows=lambda p: f'"unit_code":"{p.ward.code}"',
        ),
        # A token for a username and password, JSON only (tests/accounts): a form post, as
        # another site could send, is refused unread and counts no failed login.
        Url(
            "api-token",
            same(405, anonymous=405),
            post=same(UNSUPPORTED, anonymous=UNSUPPORTED),
            data={"username": "no_grant", "password": "wrong"},
        ),
        # Logging a token out takes the token itself (tests/accounts/test_api_tokens.py): a
        # session, whoever holds it, is not one.
        *(
            Url(
                name,
                same(UNAUTHORIZED, anonymous=UNAUTHORIZED),
                post=same(UNAUTHORIZED, anonymous=UNAUTHORIZED),
            )
            for name in ("api-token-logout", "api-token-logout-all")
        ),
        # The schema and its docs describe the API, not its data: public.
        Url("api-schema", same(200, anonymous=200)),
        Url("api-docs", same(200, anonymous=200)),
    ]
    return urls


def _club(p: Place) -> dict:
    return {"pk": p.club.pk}


CHILDREN = frozenset({"staff", "official", "admin_province", "admin_global"})
NOT_VIEWERS = {"viewer_ward": 403, "viewer_province": 403, "no_grant": 403}


def _code(p: Place) -> dict:
    return {"code": p.programme.code}


def _programme_form(p: Place) -> dict:
    return {
        "name": "Đổi tên",
        "organiser": "Hội",
        "kind": "meals",
        "starts": f"{YEAR}-01-01",
        "daily_rate_vnd": "6800",
    }


def _contribution_form(p: Place) -> dict:
    return {
        "ref": f"PT-NEW-{p.tag}",
        "date": f"{YEAR}-02-01",
        "donor": "Nhà hảo tâm",
        "amount_vnd": "500000",
        "quantity": "0",
    }


def _delivery_form(p: Place) -> dict:
    return {
        "ref": f"PX-NEW-{p.tag}",
        "date": f"{YEAR}-02-01",
        "school": p.unit.pk,
        "kind": "meals",
        "days": "5",
        "quantity": "0",
        "amount_vnd": "34000",
    }


def _programme_urls() -> list[Url]:
    """The support programmes (`programmes/`): a programme is the province's; children's data
    is never shown to viewers."""
    urls = [
        Url(
            "programme_list",
            read(special={"no_grant": 200}),
            level="programme",
            shows=lambda p: p.programme.code,
        ),
        Url(
            "programme_create",
            read(ADMINS, role_first=True),
            post=write(ADMINS, role_first=True),
            data=lambda p: {**_programme_form(p), "code": "CT-NEW", "province": p.province.pk},
            scoped=False,
        ),
        Url(
            "programme_detail",
            read(),
            kwargs=_code,
            level="programme",
            shows=lambda p: p.programme.name,
        ),
        Url(
            "programme_edit",
            read(ADMINS),
            kwargs=_code,
            level="programme",
            post=write(ADMINS),
            data=_programme_form,
        ),
        Url(
            "programme_organisers",
            same(405),
            kwargs=_code,
            level="programme",
            post=write(ADMINS),
            data={"username": "viewer_province"},
        ),
        # The public page: no login, no personal data (tests/programmes/test_pages.py).
        Url("programme_public", same(200, anonymous=200), kwargs=_code),
        Url(
            "contribution_list",
            read(special={"no_grant": 200}),
            level="programme",
            shows=lambda p: p.contribution.ref,
        ),
        Url(
            "contribution_create",
            read(ADMINS),
            kwargs=_code,
            level="programme",
            post=write(ADMINS),
            data=_contribution_form,
        ),
        Url(
            "contribution_edit",
            read(ADMINS),
            kwargs=lambda p: {"pk": p.contribution.pk},
            level="programme",
            post=write(ADMINS),
            data=lambda p: {**_contribution_form(p), "ref": p.contribution.ref},
        ),
        Url(
            "beneficiary_list",
            read(CHILDREN, role_first=True),
            level="children",
            shows=lambda p: p.beneficiary.code,
        ),
        Url(
            "beneficiary_create",
            read(REGISTER, role_first=True),
            kwargs=_code,
            query=lambda p: {"ward": p.ward.code},
            post=write(REGISTER, role_first=True),
            data=lambda p: {
                "code": f"TRE-NEW-{p.tag}",
                "full_name": "Cháu mới",
                "birth_year": "2021",
                "school": p.unit.pk,
                "starts": f"{YEAR}-02-01",
            },
        ),
        Url(
            "beneficiary_edit",
            read(REGISTER, special=NOT_VIEWERS),
            kwargs=lambda p: {"pk": p.beneficiary.pk},
            post=write(REGISTER, special=NOT_VIEWERS),
            data=lambda p: {
                "full_name": "Đổi tên",
                "birth_year": "2020",
                "school": p.unit.pk,
                "starts": f"{YEAR}-01-01",
            },
        ),
        Url(
            "delivery_list",
            read(special={"no_grant": 200}),
            shows=lambda p: p.delivery.ref,
        ),
        Url(
            "delivery_create",
            read(REGISTER, role_first=True),
            kwargs=_code,
            query=lambda p: {"ward": p.ward.code},
            post=write(REGISTER, role_first=True),
            data=_delivery_form,
        ),
        Url(
            "delivery_edit",
            read(REGISTER),
            kwargs=lambda p: {"pk": p.delivery.pk},
            post=write(REGISTER),
            data=lambda p: {**_delivery_form(p), "ref": p.delivery.ref},
        ),
        Url(
            "programmes_import",
            read(REGISTER, role_first=True),
            post=write(REGISTER, ok=200, role_first=True),
            data={"step": "check"},
        ),
        Url("programmes_dashboard", read(special={"no_grant": 404})),
        Url(
            "programmes_dashboard_ward",
            read(),
            kwargs=lambda p: {"code": p.programme.code, "ward": p.ward.code},
            shows=lambda p: p.unit.entity.name,
        ),
    ]
    for fmt in ("", "json"):
        kw = {"format": fmt} if fmt else {}
        suffix = f".{fmt}" if fmt else ""
        urls += [
            Url(
                "api-programmes-list",
                api(read(special={"no_grant": 200})),
                kwargs=kw,
                variant=f"all{suffix}",
                level="programme",
                shows=lambda p: f'"code":"{p.programme.code}"',
            ),
            Url(
                "api-programmes-detail",
                api(read()),
                variant=f"one{suffix}",
                kwargs=lambda p, kw=kw: {**kw, **_code(p)},
                level="programme",
            ),
            Url(
                "api-programmes-statement",
                api(read()),
                variant=f"one{suffix}",
                kwargs=lambda p, kw=kw: {**kw, **_code(p)},
                level="programme",
                shows=lambda p: '"raised_vnd":1000000',
            ),
            Url(
                "api-beneficiaries-list",
                api(read(special={"no_grant": 200})),
                kwargs=kw,
                variant=f"all{suffix}",
                level="children",
                shows=lambda p: f'"code":"{p.beneficiary.code}"',
            ),
        ]
    return urls


def _reg(name: str) -> Callable[[Place], dict]:
    return lambda p: {"pk": getattr(p, name).pk}


def _version(name: str, **extra) -> Callable[[Place], dict]:
    return lambda p: {"version": getattr(p, name).version, **extra}


PAGES = [
    # registry
    Url("home", read(special={"no_grant": 200}), shows=lambda p: p.ward.name),
    Url(
        "ward_overview", read(), kwargs=lambda p: {"code": p.ward.code}, shows=lambda p: p.ward.name
    ),
    Url(
        "ward_before_2025",
        read(),
        kwargs=lambda p: {"code": p.commune_before_2025.code},
        shows=lambda p: p.commune_before_2025.name,
    ),
    Url(
        "registry_import",
        read(REGISTER, role_first=True),
        post=write(REGISTER, ok=200, role_first=True),
        data={"step": "check"},
    ),
    Url("registry_import_template", read(REGISTER, role_first=True), kwargs={"kind": "families"}),
    *_entity_urls(),
    # titles: staff
    Url(
        "registration_list",
        read(special={"no_grant": 200}),
        query={"year": YEAR},
        shows=lambda p: p.code("HGD"),
    ),
    Url(
        "registration_list",
        read(),
        variant="?ward",
        query=lambda p: {"year": YEAR, "ward": p.ward.code},
        shows=lambda p: p.code("HGD"),
    ),
    Url(
        "registration_create",
        read(REGISTER, role_first=True),
        query=lambda p: {"entity": p.clan.entity.pk},
        post=write(REGISTER, role_first=True),
        data={"year": YEAR},
    ),
    Url(
        "registration_register_area",
        read(REGISTER, role_first=True),
        query=lambda p: {"ward": p.ward.code},
        post=write(REGISTER, role_first=True),
        data=lambda p: {"area": p.community.pk, "year": YEAR, "confirmed": "1"},
    ),
    # The form sent by GET is its confirmation; a POST not confirmed shows it too.
    Url(
        "registration_register_area",
        read(REGISTER, role_first=True),
        variant="confirmation",
        query=lambda p: {"ward": p.ward.code, "area": p.community.pk, "year": YEAR},
        post=write(REGISTER, ok=OK_UNCHANGED, role_first=True),
        data=lambda p: {"area": p.community.pk, "year": YEAR},
    ),
    Url(
        "registrations_import",
        read(REGISTER, role_first=True),
        post=write(REGISTER, ok=200, role_first=True),
        data={"step": "check"},
    ),
    Url("registrations_import_template", read(REGISTER, role_first=True)),
    Url(
        "registration_evidence",
        read(REGISTER),
        kwargs=_reg("fresh"),
        post=write(REGISTER),
        data=_version("fresh", F1=YES, F2="2", F3="10"),
    ),
    Url(
        "registration_submit",
        same(405),
        kwargs=_reg("fresh"),
        post=write(REGISTER),
        data=_version("fresh"),
    ),
    Url(
        "registration_confirm",
        same(405),
        kwargs=_reg("fresh"),
        post=write(REGISTER),
        data=_version("fresh"),
    ),
    Url(
        "registration_self_link",
        read(REGISTER),
        kwargs=_reg("fresh"),
        post=write(REGISTER, ok=200),
        data={"action": "issue"},
    ),
    # The household's own link: the signed token is the key, no account needed.
    Url(
        "self_assessment",
        same(200, anonymous=200),
        kwargs=lambda p: {"token": p.token},
        post=same(REDIRECT, anonymous=REDIRECT),
        data=_version("fresh", F1=YES, F2="4", F3="25"),
    ),
    Url(
        "self_assessment",
        same(404, anonymous=404),
        kwargs={"token": "forged"},
        variant="forged",
        post=same(404, anonymous=404),
        data={"version": 1, "F1": YES},
    ),
    # A residential area's slip sheet; the short code of a slip, typed by the household.
    Url(
        "area_slips",
        read(REGISTER),
        kwargs=lambda p: {"pk": p.community.pk},
        post=write(REGISTER, ok=200),
        data={"year": YEAR},
    ),
    Url(
        "self_code",
        same(200, anonymous=200),
        post=same(REDIRECT_UNCHANGED, anonymous=REDIRECT_UNCHANGED),
        data=lambda p: {"code": p.self_code},
    ),
    Url(
        "self_code",
        same(200, anonymous=200),
        variant="not-a-code",
        post=same(404, anonymous=404),
        data={"code": "forged"},
    ),
    Url(
        "self_code_form",
        same(200, anonymous=200),
        kwargs=lambda p: {"code": p.self_code},
        post=same(REDIRECT, anonymous=REDIRECT),
        data=_version("fresh", F1=YES, F2="4", F3="25"),
    ),
    Url(
        "self_code_form",
        same(404, anonymous=404),
        kwargs={"code": "forged"},
        variant="forged",
        post=same(404, anonymous=404),
        data={"version": 1, "F1": YES},
    ),
    # titles: review
    Url("registration_detail", read(), kwargs=_reg("evaluated"), shows=lambda p: p.code("HGD")),
    Url(
        "registration_approve",
        same(405),
        kwargs=_reg("evaluated"),
        post=write(REVIEW),
        data=_version("evaluated"),
    ),
    Url(
        "registration_reject",
        same(405),
        kwargs=_reg("evaluated"),
        post=write(REVIEW),
        data=_version("evaluated", reason="Chưa đạt"),
    ),
    Url(
        "registration_override",
        same(405),
        kwargs=_reg("evaluated"),
        post=write(REVIEW),
        data=_version("evaluated", criterion="F2", met="0", reason="Sai số liệu"),
    ),
    Url("certificate", read(), kwargs=_reg("recognized"), shows=lambda p: p.unit.entity.name),
    Url("review_queue", read(REVIEW, role_first=True)),
    Url(
        "review_queue",
        read(REVIEW, role_first=True),
        variant="?ward",
        query=lambda p: {"ward": p.ward.code, "year": YEAR},
        shows=lambda p: p.code("HGD"),
    ),
    # The mass actions: GET (or a POST not confirmed) is the confirmation, which changes
    # nothing; the confirmed POST acts.
    Url(
        "ward_evaluate",
        read(REVIEW, role_first=True),
        query=lambda p: {"ward": p.ward.code, "year": YEAR},
        post=write(REVIEW, role_first=True),
        data=lambda p: {"ward": p.ward.code, "year": YEAR, "confirmed": "1"},
    ),
    Url(
        "ward_evaluate",
        read(REVIEW, role_first=True),
        variant="unconfirmed",
        query=lambda p: {"ward": p.ward.code, "year": YEAR},
        post=write(REVIEW, ok=OK_UNCHANGED, role_first=True),
        data=lambda p: {"ward": p.ward.code, "year": YEAR},
    ),
    Url(
        "review_approve_passed",
        read(REVIEW, role_first=True),
        query=lambda p: {"ward": p.ward.code, "year": YEAR, "scope": "all"},
        post=write(REVIEW, role_first=True),
        data=lambda p: {"ward": p.ward.code, "year": YEAR, "scope": "all", "confirmed": "1"},
    ),
    Url(
        "review_approve_passed",
        read(REVIEW, role_first=True),
        variant="selected",
        query=lambda p: {
            "ward": p.ward.code,
            "year": YEAR,
            "scope": "selected",
            "ids": [p.evaluated.pk],
        },
        post=write(REVIEW, role_first=True),
        data=lambda p: {
            "ward": p.ward.code,
            "year": YEAR,
            "scope": "selected",
            "ids": [p.evaluated.pk],
            "confirmed": "1",
        },
    ),
    Url(
        "review_approve_passed",
        read(REVIEW, role_first=True),
        variant="unconfirmed",
        query=lambda p: {"ward": p.ward.code, "year": YEAR, "scope": "all"},
        post=write(REVIEW, ok=OK_UNCHANGED, role_first=True),
        data=lambda p: {"ward": p.ward.code, "year": YEAR, "scope": "all"},
    ),
    Url(
        "decision_create",
        read(REVIEW, role_first=True),
        query=lambda p: {"ward": p.ward.code, "year": YEAR},
        post=write(REVIEW, role_first=True),
        data=lambda p: {
            "number": f"QD-NEW-{p.tag}",
            "date": f"{YEAR}-12-01",
            "registrations": [p.approved.pk],
            "confirmed": "1",
        },
    ),
    Url(
        "decision_create",
        read(REVIEW, role_first=True),
        variant="unconfirmed",
        query=lambda p: {"ward": p.ward.code, "year": YEAR},
        post=write(REVIEW, ok=OK_UNCHANGED, role_first=True),
        data=lambda p: {
            "number": f"QD-NEW-{p.tag}",
            "date": f"{YEAR}-12-01",
            "registrations": [p.approved.pk],
        },
    ),
    Url(
        "decision_detail",
        read(),
        kwargs=lambda p: {"pk": p.decision.pk},
        shows=lambda p: p.unit.entity.name,
    ),
    Url(
        "decision_certificates",
        read(),
        kwargs=lambda p: {"pk": p.decision.pk},
        shows=lambda p: p.unit.entity.name,
        # POST: every certificate as a file, made by a background job, then its page.
        post=write(GRANTED),
    ),
    Url(
        "public_list",
        read(),
        query=lambda p: {"ward": p.ward.code, "year": YEAR},
        shows=lambda p: f"Chủ hộ {p.tag}",
    ),
    Url("public_list", read(special={"no_grant": 404}), variant="own"),
    # reports
    Url("reports", read(special={"no_grant": 200}), shows=lambda p: p.ward.name),
    Url(
        "report_download",
        read(),
        variant="ward",
        query=lambda p: {"unit": p.ward.code, "year": YEAR, "format": "csv"},
        # POST: the report as a background job, then its page.
        post=write(GRANTED, special={"no_grant": 404}),
        data=lambda p: {"unit": p.ward.code, "year": YEAR, "format": "csv"},
    ),
    Url(
        "report_download",
        read(),
        variant="province",
        level="province",
        query=lambda p: {"unit": p.province.code, "year": YEAR, "format": "xlsx"},
        post=write(GRANTED, special={"no_grant": 404}),
        data=lambda p: {"unit": p.province.code, "year": YEAR, "format": "xlsx"},
    ),
    # A job's pages: its owner's alone (tests/jobs); anyone else's job does not exist for them.
    Url("job_status", same(404), kwargs={"pk": 987654}),
    Url("job_progress", same(404), kwargs={"pk": 987654}),
    Url("job_download", same(404), kwargs={"pk": 987654}),
    # Health: public, no session, for the load balancer and monitoring.
    Url("healthz", same(200, anonymous=200)),
    # sign-off: a ward user is sent to their own ward's page
    Url("signoff_overview", read(special=dict.fromkeys(WARD_ROLES, REDIRECT))),
    Url(
        "ward_signoff",
        read(),
        variant="sign_off",
        kwargs=lambda p: {"ward_code": p.ward.code, "year": YEAR},
        post=write(REVIEW),
        data={"action": "sign_off", "confirmed": "1"},
    ),
    Url(
        "ward_signoff",
        read(),
        variant="sign_off unconfirmed",
        kwargs=lambda p: {"ward_code": p.ward.code, "year": YEAR},
        post=write(REVIEW, ok=OK_UNCHANGED),
        data={"action": "sign_off"},
    ),
    Url(
        "ward_signoff_confirm",
        read(REVIEW),
        kwargs=lambda p: {"ward_code": p.ward.code, "year": YEAR},
    ),
    Url(
        "ward_signoff",
        read(),
        variant="reopen",
        kwargs=lambda p: {"ward_code": p.ward.code, "year": YEAR},
        post=write(ADMINS),
        data={"action": "reopen", "reason": "Sửa số liệu"},
    ),
    # dashboard: a ward user is sent to their ward's page
    Url("dashboard", read(special=dict.fromkeys(WARD_ROLES, REDIRECT))),
    Url(
        "dashboard_ward",
        read(),
        kwargs=lambda p: {"code": p.ward.code},
        shows=lambda p: p.ward.name,
    ),
    Url(
        "dashboard_area",
        read(),
        kwargs=lambda p: {"pk": p.community.pk},
        shows=lambda p: p.family.entity.name,
    ),
    # groups and digital literacy (community app)
    Url("group_list", read(special={"no_grant": 200}), shows=lambda p: p.code("CLB")),
    Url(
        "group_create",
        read(REGISTER, role_first=True),
        query=lambda p: {"ward": p.ward.code},
        post=write(REGISTER, role_first=True),
        data=lambda p: {"code": f"NEW{p.tag}", "name": "Nhóm mới", "group_type": "other"},
    ),
    Url("group_detail", read(), kwargs=_club, shows=lambda p: p.club.name),
    Url(
        "group_edit",
        read(REGISTER),
        kwargs=_club,
        post=write(REGISTER),
        data={"name": "Đổi tên", "group_type": "mobile_team"},
    ),
    Url(
        "member_create",
        read(REGISTER),
        kwargs=_club,
        post=write(REGISTER),
        data={"code": "TV1", "full_name": "Nguyễn Thị Tổ Viên"},
    ),
    Url(
        "activity_create",
        read(REGISTER),
        kwargs=_club,
        query=lambda p: {"q": p.citizen.entity.code},
        post=write(REGISTER),
        data=lambda p: {
            "date": f"{YEAR}-01-02",
            "activity_type": "home_visit",
            "participants": "2",
            "dossiers": "1",
            "services": ["vneid"],
            "citizens": [p.citizen.entity.pk],
        },
    ),
    Url("groups_dashboard", read(special=dict.fromkeys(WARD_ROLES, REDIRECT))),
    Url(
        "groups_dashboard_ward",
        read(),
        kwargs=lambda p: {"code": p.ward.code},
        shows=lambda p: p.club.name,
    ),
    # accounts and language: for everyone
    Url(
        "login",
        same(200, anonymous=200),
        post=same(200, anonymous=200),
        data={"username": "no_grant", "password": "wrong"},
    ),
    Url("logout", same(405, anonymous=405), post=same(LOGGED_OUT, anonymous=LOGIN)),
    # One's own password: a wrong old password shows the form again with its error.
    Url(
        "password_change",
        same(200),
        post=same(OK_UNCHANGED),
        data={
            "old_password": "wrong",
            "new_password1": "Nz7#kq-2Lp",
            "new_password2": "Nz7#kq-2Lp",
        },
    ),
    Url("password_change_done", same(200)),
    # The audit log: administrators only, a province's the entries of its province.
    Url("audit_log", read(ADMINS, role_first=True), post=same(405)),
    Url(
        "audit_log",
        read(ADMINS, role_first=True),
        variant="?action",
        query={"action": AuditEntry.Action.UPDATE},
        level="province",
        shows=lambda p: p.code("HGD"),
    ),
    Url(
        "set_language",
        same(REDIRECT, anonymous=REDIRECT),
        post=same(REDIRECT, anonymous=REDIRECT),
        data={"language": "en", "next": "/"},
    ),
    *_api_urls(),
    *_programme_urls(),
]


# Django admin. Registry entities, registrations and criteria sets are read-only there; what may be
# changed is scoped like the pages, and role grants only by global administrators.
def _admin_model(
    app: str,
    model: str,
    obj: Callable[[Place], Any],
    kind: str,
    level: str = "ward",
    pk: Callable[[Any], Any] = lambda o: o.pk,
) -> list[Url]:
    base = f"admin:{app}_{model}"

    def object_id(p):
        return {"object_id": pk(obj(p))}

    def change_url(p):
        return reverse(f"{base}_change", args=[pk(obj(p))])

    def action(p):
        return {
            "action": "delete_selected",
            "_selected_action": [pk(obj(p))],
            "post": "yes",
            "index": 0,
            "select_across": 0,
        }

    if kind == "read_only":
        rules = {
            "changelist": admin(),
            # No action is offered (nothing may be deleted): the list is shown again.
            "changelist_post": admin(ok=OK_UNCHANGED, outside=OK_UNCHANGED),
            "add": admin(()),
            "add_post": admin(()),
            "change": admin(),
            "change_post": admin((), role_first=True),
            "delete": admin((), role_first=True),
            "delete_post": admin((), role_first=True),
            "history": admin(),
        }
    elif kind == "editable":
        rules = {
            "changelist": admin(),
            "changelist_post": admin(ok=REDIRECT, outside=REDIRECT_UNCHANGED),
            "add": admin(),
            "add_post": admin(),
            "change": admin(),
            "change_post": admin(),
            "delete": admin(),
            "delete_post": admin(ok=REDIRECT),
            "history": admin(),
        }
    elif kind == "view_delete":  # seen and deleted in scope, never added or changed
        rules = {
            "changelist": admin(),
            "changelist_post": admin(ok=REDIRECT, outside=REDIRECT_UNCHANGED),
            "add": admin(()),
            "add_post": admin(()),
            "change": admin(),
            "change_post": admin((), role_first=True),
            "delete": admin(),
            "delete_post": admin(ok=REDIRECT),
            "history": admin(),
        }
    elif kind == "grant":  # province admins read grants of their scope; global admins change them
        only_global = {"admin_global"}
        rules = {
            "changelist": admin(),
            "changelist_post": admin(
                only_global,
                REDIRECT,
                outside=REDIRECT_UNCHANGED,
                refused=OK_UNCHANGED,
                role_first=True,
            ),
            "add": admin(only_global),
            "add_post": admin(only_global),
            "change": admin(),
            "change_post": admin(only_global, role_first=True),
            "delete": admin(only_global, role_first=True),
            "delete_post": admin(only_global, REDIRECT, role_first=True),
            "history": admin(),
        }
    else:  # superusers only: Django's own models (users, groups, API tokens), axes' logs
        nobody = admin((), role_first=True)
        rules = dict.fromkeys(
            (
                "changelist",
                "changelist_post",
                "add",
                "add_post",
                "change",
                "change_post",
                "delete",
                "delete_post",
                "history",
            ),
            nobody,
        )
    scoped = kind != "superuser"
    urls = [
        Url(
            f"{base}_changelist",
            rules["changelist"],
            post=rules["changelist_post"],
            data=action,
            level=level,
            scoped=False,
            shows=change_url if kind != "superuser" else None,
        ),
        Url(f"{base}_add", rules["add"], post=rules["add_post"]),
        Url(
            f"{base}_change",
            rules["change"],
            post=rules["change_post"],
            kwargs=object_id,
            level=level,
            scoped=scoped,
        ),
        Url(
            f"{base}_delete",
            rules["delete"],
            post=rules["delete_post"],
            kwargs=object_id,
            data={"post": "yes"},
            level=level,
            scoped=scoped,
        ),
        Url(f"{base}_history", rules["history"], kwargs=object_id, level=level, scoped=scoped),
        # `<id>/` only redirects to `<id>/change/`, found or not.
        Url(
            f"{base}_change",
            admin(ok=REDIRECT, outside=REDIRECT),
            variant="<id>/",
            path=lambda p: reverse(f"{base}_changelist") + f"{pk(obj(p))}/",
            scoped=False,
        ),
    ]
    if scoped:
        # The changelist's own action must not reach rows outside the scope either.
        urls[0] = Url(
            f"{base}_changelist", rules["changelist"], level=level, scoped=False, shows=change_url
        )
        urls.append(
            Url(
                f"{base}_changelist",
                None,
                post=rules["changelist_post"],
                variant="delete_selected",
                data=action,
                level=level,
            )
        )
    return urls


ADMIN_MODELS = [
    ("registry", "administrativeunit", lambda p: p.ward, "read_only"),
    ("registry", "entity", lambda p: p.family.entity, "read_only"),
    ("registry", "community", lambda p: p.community, "read_only"),
    ("registry", "clan", lambda p: p.clan, "read_only"),
    ("registry", "family", lambda p: p.family, "read_only"),
    ("registry", "unit", lambda p: p.unit, "read_only"),
    ("registry", "citizen", lambda p: p.citizen, "read_only"),
    ("registry", "association", lambda p: p.association, "editable"),
    ("registry", "associationmembership", lambda p: p.membership, "editable"),
    ("registry", "grant", lambda p: p.grant, "grant"),
    ("titles", "criteriaset", lambda p: p.criteria_set, "read_only", "province"),
    ("titles", "registrationwindow", lambda p: p.window, "editable", "province"),
    ("titles", "registration", lambda p: p.evaluated, "read_only"),
    ("titles", "registrationevent", lambda p: p.event, "read_only"),
    ("titles", "override", lambda p: p.override, "read_only"),
    ("titles", "decision", lambda p: p.decision, "read_only"),
    ("titles", "target", lambda p: p.target, "editable"),
    ("community", "group", lambda p: p.club, "read_only"),
    ("community", "member", lambda p: p.club_member, "read_only"),
    ("community", "activity", lambda p: p.club_activity, "read_only"),
    ("programmes", "programme", lambda p: p.programme, "read_only", "province"),
    ("programmes", "contribution", lambda p: p.contribution, "read_only", "province"),
    ("programmes", "beneficiary", lambda p: p.beneficiary, "read_only"),
    ("programmes", "delivery", lambda p: p.delivery, "read_only"),
    ("auth", "group", lambda p: p.group, "superuser"),
    ("auth", "user", lambda p: p.user, "superuser"),
    ("audit", "auditentry", lambda p: p.audit_entry, "read_only", "province"),
    # Lifting a lockout: the failed logins of the usernames of the administrator's province.
    ("axes", "accessattempt", lambda p: p.access_attempt, "view_delete", "province"),
    ("axes", "accesslog", lambda p: p.access_log, "superuser"),
    ("axes", "accessfailurelog", lambda p: p.access_failure, "superuser"),
]


def _admin_add(app: str, model: str, data: Build, level: str = "ward") -> Url:
    """Adding a row that points at a place: the form's choices are scoped, so an administrator
    adds it inside their scope; outside it the form comes back with an error, nothing added."""
    return Url(
        f"admin:{app}_{model}_add",
        None,
        post=admin(ok=REDIRECT, outside=OK_UNCHANGED),
        variant="pointing at the place",
        data=data,
        level=level,
    )


ADMIN_ADDS = [
    _admin_add(
        "titles",
        "target",
        lambda p: {
            "unit": p.ward.pk,
            "kind": "clan",
            "year": YEAR,
            "min_rate": "60",
            "max_rate": "70",
        },
    ),
    _admin_add(
        "titles",
        "registrationwindow",
        lambda p: {
            "province": p.province.pk,
            "year": YEAR + 1,
            "opens_on": f"{YEAR + 1}-01-01",
            "closes_on": f"{YEAR + 1}-06-30",
        },
        level="province",
    ),
    _admin_add(
        "registry",
        "associationmembership",
        lambda p: {"association": p.association.pk, "year": YEAR + 1, "members": 10},
    ),
    _admin_add(
        "registry",
        "association",
        lambda p: {
            "name": f"Chi hội mới {p.tag}",
            "level": "sub",
            "admin_unit": p.ward.pk,
            "parent": p.association.pk,
            "community": p.community.pk,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
        },
    ),
]


def _autocomplete(app: str, model: str, field_name: str, term: Build, marker: Build) -> Url:
    """An autocomplete of an admin form: its choices are scoped like the rows they come from."""
    return Url(
        "admin:autocomplete",
        admin(outside=200),
        variant=f"{model}.{field_name}",
        query=lambda p: {
            "app_label": app,
            "model_name": model,
            "field_name": field_name,
            "term": term(p),
        },
        shows=marker,
    )


ADMIN = [
    Url("admin:index", admin()),
    Url(
        "admin:login",
        same(200, anonymous=200, admin_province=REDIRECT, admin_global=REDIRECT),
        post=same(200, anonymous=200),
        data={"username": "no_grant", "password": "wrong"},
    ),
    # Logging out of the admin is a POST; anyone it does not let in is sent to its index.
    Url(
        "admin:logout",
        Rule(ADMINS, 405, special=dict.fromkeys(NOT_STAFF, ADMIN_INDEX)),
        post=Rule(ADMINS, LOGGED_OUT, special=dict.fromkeys(NOT_STAFF, ADMIN_INDEX)),
    ),
    Url("admin:password_change", admin(), post=admin(), data={"old_password": "wrong"}),
    Url("admin:password_change_done", admin()),
    Url("admin:jsi18n", admin()),
    Url("admin:autocomplete", admin(ok=403, refused=403), variant="no parameters"),
    _autocomplete(
        "registry",
        "association",
        "admin_unit",
        lambda p: p.ward.code,
        lambda p: f'"id": "{p.ward.pk}"',
    ),
    _autocomplete(
        "registry",
        "association",
        "community",
        lambda p: p.code("TDP"),
        lambda p: f'"id": "{p.community.pk}"',
    ),
    _autocomplete(
        "registry", "association", "unit", lambda p: p.code("DV"), lambda p: f'"id": "{p.unit.pk}"'
    ),
    _autocomplete(
        "registry",
        "association",
        "parent",
        lambda p: f"Hội Khuyến học {p.tag}",
        lambda p: f'"id": "{p.association.pk}"',
    ),
    _autocomplete(
        "registry",
        "associationmembership",
        "association",
        lambda p: f"Hội Khuyến học {p.tag}",
        lambda p: f'"id": "{p.association.pk}"',
    ),
    _autocomplete(
        "registry", "grant", "unit", lambda p: p.ward.code, lambda p: f'"id": "{p.ward.pk}"'
    ),
    _autocomplete(
        "titles", "target", "unit", lambda p: p.ward.code, lambda p: f'"id": "{p.ward.pk}"'
    ),
    # No model has a public page of its own, so "view on site" finds nothing for anyone.
    Url(
        "admin:view_on_site",
        admin(ok=404, outside=404),
        kwargs=lambda p: {
            "content_type_id": ContentType.objects.get_for_model(Association).pk,
            "object_id": p.association.pk,
        },
    ),
    *(
        Url(
            "admin:app_list",
            admin(ok=200 if label in ("registry", "titles", "audit", "axes") else 404),
            kwargs={"app_label": label},
            variant=label,
        )
        for label in ("auth", "knox", "registry", "titles", "audit", "axes")
    ),
    Url(
        "admin:auth_user_password_change",
        admin((), role_first=True),
        kwargs=lambda p: {"id": p.user.pk},
        post=admin((), role_first=True),
        scoped=False,
    ),
    *(url for model in ADMIN_MODELS for url in _admin_model(*model)),
    *ADMIN_ADDS,
    # Axes' clean-up of expired attempts reaches every username (and fails outside a login):
    # not offered, so nothing is deleted, whoever asks.
    Url(
        "admin:axes_accessattempt_changelist",
        None,
        post=admin((), refused=REDIRECT_UNCHANGED, role_first=True),
        variant="cleanup_expired_attempts",
        data=lambda p: {
            "action": "cleanup_expired_attempts",
            "_selected_action": [p.access_attempt.pk],
            "index": 0,
            "select_across": 0,
        },
        scoped=False,
    ),
    *_admin_model(
        "knox",
        "authtoken",
        lambda p: p.api_token,
        "superuser",
        pk=lambda token: token.digest,
    ),
    Url(
        "admin catch-all",
        admin(ok=404, outside=404),
        path=lambda p: "/admin/no-such-page/",
        scoped=False,
    ),
]

DECLARED: list[Url] = [*PAGES, *ADMIN]


# --- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    url: Url
    method: str
    persona: str
    place: str  # where the URL's objects are ("A" for an unscoped URL)
    inside: bool

    @property
    def id(self) -> str:
        where = ""
        if self.url.is_scoped:
            relation = "inside" if self.inside else "outside"
            where = f"{relation if self.persona in GRANTED else ''}@{self.place}"
        return "-".join(part for part in (self.url.id, self.method, self.persona, where) if part)

    @property
    def rule(self) -> Rule:
        return self.url.get if self.method == "GET" else self.url.post

    @property
    def expected(self) -> Outcome:
        return self.rule.expected(self.persona, self.inside)


def _cases() -> list[Case]:
    cases = []
    for url in DECLARED:
        for method, rule in (("GET", url.get), ("POST", url.post)):
            if rule is None:
                continue
            for persona in PERSONAS:
                if url.is_scoped:
                    places = TRIED_AT[persona]
                    if rule.uniform or persona in rule.special:
                        places = places[:1]  # turned away (or let in) whatever the object
                    for place in places:
                        inside = covers(persona, place, url.level)
                        cases.append(Case(url, method, persona, place, inside))
                else:
                    cases.append(Case(url, method, persona, "A", persona in GRANTED))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The places and users, built once for the module and rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _writes(queries) -> list[str]:
    """The statements that wrote anything but the session (a refused request must write nothing,
    not even something it then rolls back)."""
    return [
        q["sql"][:120]
        for q in queries
        if q["sql"].lstrip().upper().startswith(WRITES) and "django_session" not in q["sql"]
    ]


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_url_access(case: Case, world: World, client, db) -> None:
    if case.persona in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[case.persona]
    place = world.places[case.place]
    url = case.url.url(place)
    expected = case.expected
    with CaptureQueriesContext(connection) as queries:
        if case.method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, case.url.post_data(place))

    problem = expected.problem(response)
    assert problem is None, f"{case.method} {url} as {case.persona}: {problem}"
    if case.method == "POST" and expected.unchanged:
        writes = _writes(queries)
        assert not writes, f"{case.method} {url} as {case.persona} was refused but wrote {writes}"
    if case.url.shows is not None and response.status_code == 200:
        body = _body(response)
        places = {case.place: place} if case.url.is_scoped else world.places
        wrong = []
        for tag, other in places.items():
            marker, seen = case.url.shows(other), covers(case.persona, tag, case.url.level)
            if (marker in body) != seen:
                wrong.append(f"{tag}'s {marker!r} {'missing' if seen else 'shown'}")
        assert not wrong, f"{case.method} {url} as {case.persona}: {', '.join(wrong)}"


# --- the declarations cover the URL configuration ---------------------------------------------


def _routes(resolver=None, prefix: str = "", namespace: str = "") -> dict[str, str]:
    """Every URL pattern's full route (as `resolve()` reports it) → its name or view."""
    resolver = resolver or get_resolver()
    routes = {}
    for pattern in resolver.url_patterns:
        route = URLResolver._join_route(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, (namespace, pattern.namespace)))
            routes.update(_routes(pattern, route, inner))
        elif isinstance(pattern, URLPattern):
            name = ":".join(filter(None, (namespace, pattern.name))) if pattern.name else ""
            callback = pattern.callback
            routes[route] = name or f"(unnamed) {callback.__module__}.{callback.__qualname__}"
    return routes


def _declared_routes(world: World) -> tuple[dict[str, Url], list[str]]:
    """The route each declaration's URL resolves to, and the declarations that resolve to none
    (or to another name than theirs)."""
    found, stale = {}, []
    place = world.places["A"]
    for url in DECLARED:
        try:
            path = urlsplit(url.url(place)).path
            match = resolve(path)
        except Exception as exc:  # noqa: BLE001 - any failure to build or resolve is reported
            stale.append(f"{url.id}: {type(exc).__name__}: {exc}")
            continue
        if url.path is None and match.view_name != url.name:
            stale.append(f"{url.id}: {path} is {match.view_name!r}")
            continue
        found[match.route] = url
    return found, stale


def test_every_url_is_declared(world: World, db) -> None:
    declared, _stale = _declared_routes(world)
    missing = [f"{name}  ({route})" for route, name in _routes().items() if route not in declared]
    assert not missing, (
        "URL patterns without a declaration of who may call them; add each to DECLARED in "
        "tests/test_url_access.py:\n  " + "\n  ".join(sorted(missing))
    )


def test_every_declaration_is_a_url(world: World, db) -> None:
    _declared, stale = _declared_routes(world)
    assert not stale, "Declarations that match no URL pattern:\n  " + "\n  ".join(stale)


def test_cases_are_many_and_distinct() -> None:
    """Every case id is unique (so a failure names exactly one call) and every persona is tried."""
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})[:10]
    assert {case.persona for case in CASES} == set(PERSONAS)
