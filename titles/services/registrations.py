"""Registering entities for a year's title and entering their evidence.

Staff register within the province's registration window (admins at any time), one entity at a
time or a whole residential area at once. Evidence is validated against the criteria set in
force before anything is stored; what a household or citizen enters through a self-assessment
link is marked self-assessed until staff confirm it.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import batched

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from audit.services import record_bulk
from registry.access import grant_of
from registry.models import Community, Entity, Family, Kind, Role
from titles import workflow
from titles.models import (
    Registration,
    RegistrationWindow,
    SelfAssessmentLink,
)
from titles.rules import explain
from titles.rules.evaluation import CriterionType, EvidenceError, check_evidence, evidence_text
from titles.services.criteria import criteria_for, parsed
from titles.services.rollups import rollups_count_new
from titles.workflow import WorkflowError, check_not_frozen

SELF_ASSESSMENT_TOKEN_BYTES = 24  # 32 URL-safe characters
SELF_ASSESSMENT_MAX_AGE = datetime.timedelta(days=90)
# The short code's letters: no 0/O, 1/I that a person would mix up when typing it.
SELF_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SELF_CODE_LENGTH = 10
SELF_CODE_GROUP = 5  # printed as "ABCDE-FGHJK"
EVIDENCE_EDITABLE = workflow.EVIDENCE.sources


class RegistrationError(WorkflowError):
    """Registration refused; the message says why, for the user."""


class EvidenceInvalid(RegistrationError):
    """Evidence values refused; `errors` maps criterion code to the reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(_("Some evidence values are not valid."))
        self.errors = errors


def registration_window_check(*, user, province_id: int, year: int, today=None) -> None:
    """Refuse staff registration outside the province's window for `year`; admins may always."""
    grant = grant_of(user) if user is not None else None
    if user is None or (grant is not None and grant.role == Role.ADMIN):
        return
    today = today or timezone.localdate()
    window = RegistrationWindow.objects.filter(province_id=province_id, year=year).first()
    if window is None:
        raise RegistrationError(
            _("Registration for %(year)s has not been opened in this province yet.")
            % {"year": year}
        )
    if not window.opens_on <= today <= window.closes_on:
        raise RegistrationError(
            _("Registration for %(year)s is open from %(from)s to %(to)s.")
            % {
                "year": year,
                "from": window.opens_on.strftime("%d/%m/%Y"),
                "to": window.closes_on.strftime("%d/%m/%Y"),
            }
        )


def _new_registration(entity: Entity, year: int, user) -> Registration:
    return Registration(
        entity=entity,
        year=year,
        kind=entity.kind,
        ward_id=entity.ward_id,
        province_id=entity.province_id,
        created_by=user,
    )


@transaction.atomic
def registration_create(*, user, entity: Entity, year: int) -> Registration:
    """Register one entity for its kind's title in `year`."""
    registration_window_check(user=user, province_id=entity.province_id, year=year)
    check_not_frozen(ward_id=entity.ward_id, year=year)
    if Registration.objects.filter(entity=entity, year=year).exists():
        raise RegistrationError(
            _("%(name)s is already registered for %(year)s.") % {"name": entity.name, "year": year}
        )
    registration = _new_registration(entity, year, user)
    # The evaluation fields stay empty until the first evaluation.
    registration.full_clean(
        exclude=["entity", "points", "passed", "eval_outstanding"], validate_unique=False
    )
    (registration,) = workflow.registrations_create(registrations=[registration], user=user)
    rollups_count_new(registration_ids=[registration.pk])
    return registration


@transaction.atomic
def registrations_register_area(*, user, community: Community, year: int) -> tuple[int, int]:
    """Register every household of a residential area not yet registered for `year`.

    Returns (newly registered, already registered).
    """
    registration_window_check(user=user, province_id=community.entity.province_id, year=year)
    check_not_frozen(ward_id=community.entity.ward_id, year=year)
    entities, already = area_households(community=community, year=year)
    new = [_new_registration(e, year, user) for e in entities]
    created = workflow.registrations_create(
        registrations=new, user=user, details=[{"area": community.entity.code}] * len(new)
    )
    rollups_count_new(registration_ids=[r.pk for r in created])
    record_bulk(
        "registrations_register_area",
        model=Registration,
        ward_ids=[community.entity.ward_id],
        year=year,
        area=community.entity.code,
        registered=len(created),
    )
    return len(created), already


def area_households(*, community: Community, year: int) -> tuple[QuerySet[Entity], int]:
    """The households of the residential area that registering the area registers for `year`
    (those not registered yet), and how many are registered already: what its confirmation
    counts and what it then registers."""
    entity_ids = Family.objects.filter(community=community).values_list("entity_id", flat=True)
    already = Registration.objects.filter(entity_id__in=entity_ids, year=year).count()
    # From the area's households to their entities, each checked for a registration of the
    # year (NOT EXISTS): driven by the area's index. Written as NOT IN, PostgreSQL scanned all
    # 8 million entities of Hanoi for it (0.6 s).
    entities = Entity.objects.filter(family__community=community, kind=Kind.FAMILY).exclude(
        Exists(Registration.objects.filter(entity_id=OuterRef("pk"), year=year))
    )
    return entities, already


def evidence_clean(*, registration: Registration, values: Mapping[str, object]) -> dict[str, str]:
    """Validate raw evidence values against the set in force; return what is to be stored.

    Values must lie in their criterion's range (a scale above its maximum is refused, unlike in
    a file). Stored values are the rules' plain form ("9,5" and "9.5" are "9.5"); an empty value
    means missing evidence and is not stored. Share criteria are derived, so a value for one is
    refused like an unknown code.
    """
    criteria_set = criteria_for(registration)
    if criteria_set is None:
        raise RegistrationError(
            _("No criteria set is in force for %(title)s in %(year)s.")
            % {"title": Kind(registration.kind).label, "year": registration.year}
        )
    known = {c.code: c for c in parsed(criteria_set).criteria if c.type != CriterionType.SHARE}
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for code, raw in values.items():
        if code not in known:
            errors[code] = _("Not an evidence criterion of this title.")
            continue
        text = "" if raw is None else str(raw).strip()
        try:
            value = check_evidence(known[code], text, cap=False).value
        except EvidenceError as exc:
            errors[code] = explain.evidence_message(known[code], exc)
            continue
        if value is not None:
            cleaned[code] = evidence_text(value)
    if errors:
        raise EvidenceInvalid(errors)
    return cleaned


@transaction.atomic
def evidence_save(
    *, registration: Registration, values: Mapping[str, object], user, self_assessed: bool = False
) -> Registration:
    """Replace the registration's evidence with `values` (all criteria of the form).

    Evidence hands the registration over for evaluation (submitted); an evaluated one goes back
    to submitted, its result being out of date; with every value cleared it waits as
    registered. Refused once a registration is decided, and in a signed-off year.
    """
    if registration.state not in EVIDENCE_EDITABLE:
        raise RegistrationError(_("Evidence cannot change once a registration is decided."))
    check_not_frozen(ward_id=registration.ward_id, year=registration.year)
    cleaned = evidence_clean(registration=registration, values=values)
    return workflow.registration_move(
        registration=registration,
        move=workflow.SELF_ASSESS if self_assessed else workflow.EVIDENCE,
        to_state=workflow.evidence_target(cleaned),
        user=user,
        changes={"evidence": cleaned, "evidence_self_assessed": self_assessed},
        detail={"before": registration.evidence, "after": cleaned},
    )


@transaction.atomic
def evidence_confirm(*, registration: Registration, user) -> Registration:
    """Staff confirm self-assessed evidence; from now on it counts as checked."""
    if not registration.evidence_self_assessed:
        raise RegistrationError(_("There is no self-assessed evidence to confirm."))
    # Confirmed evidence is staff's: the household's link stops until staff issue a new one.
    _end_live_link(registration, SelfAssessmentLink.End.CONFIRMED)
    return workflow.registration_move(
        registration=registration,
        move=workflow.NOTE_CONFIRM,
        user=user,
        changes={"evidence_self_assessed": False},
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _code_digest(code: str) -> str:
    """The short code's digest, keyed with the site's secret: with 50 bits, a code's plain hash
    could be reversed by trying every code, so a copy of the database alone must not give the
    codes away."""
    return salted_hmac("titles.self_assessment_code", code, algorithm="sha256").hexdigest()


def self_code_normalize(typed: str) -> str | None:
    """The code as stored from what a person typed ("abcde fghjk", "ABCDE-FGHJK"), or None when
    it cannot be a code: wrong length, or a character outside the alphabet."""
    code = "".join(typed.split()).replace("-", "").upper()
    if len(code) != SELF_CODE_LENGTH or any(c not in SELF_CODE_ALPHABET for c in code):
        return None
    return code


def self_code_display(code: str) -> str:
    """The code in groups, as printed on the slip."""
    return "-".join(code[i : i + SELF_CODE_GROUP] for i in range(0, len(code), SELF_CODE_GROUP))


def _new_code() -> str:
    return "".join(secrets.choice(SELF_CODE_ALPHABET) for _ in range(SELF_CODE_LENGTH))


@dataclass(frozen=True)
class IssuedLink:
    """A link just issued: its token (for the address and the QR code) and its short code. Both
    are shown once; only their digests are stored."""

    registration: Registration
    token: str
    code: str

    @property
    def code_display(self) -> str:
        return self_code_display(self.code)


def _end_live_link(registration: Registration, end: str) -> None:
    SelfAssessmentLink.objects.filter(registration=registration, ended_at__isnull=True).update(
        ended_at=timezone.now(), end=end
    )


def _new_link(registration: Registration, user) -> tuple[SelfAssessmentLink, IssuedLink]:
    """An unsaved link row and what it gives the household."""
    token = secrets.token_urlsafe(SELF_ASSESSMENT_TOKEN_BYTES)
    code = _new_code()
    row = SelfAssessmentLink(
        registration=registration,
        digest=_digest(token),
        code_digest=_code_digest(code),
        issued_by=user,
    )
    return row, IssuedLink(registration=registration, token=token, code=code)


@transaction.atomic
def self_assessment_link_issue(*, registration: Registration, user=None) -> IssuedLink:
    """Issue a new self-assessment link for the registration: its token and short code (shown
    once: only their digests are stored). The registration's previous link, if any, stops
    working."""
    if registration.state not in EVIDENCE_EDITABLE:
        raise RegistrationError(_("A decided registration needs no self-assessment link."))
    check_not_frozen(ward_id=registration.ward_id, year=registration.year)
    Registration.objects.select_for_update().filter(pk=registration.pk).values_list("pk").get()
    _end_live_link(registration, SelfAssessmentLink.End.REISSUED)
    row, issued = _new_link(registration, user)
    row.save()
    return issued


def self_assessment_token(*, registration: Registration, user=None) -> str:
    """Issue a new self-assessment link (as `self_assessment_link_issue`) and return its token."""
    return self_assessment_link_issue(registration=registration, user=user).token


@dataclass(frozen=True)
class AreaSlips:
    """A residential area's households for a year, as the slip sheet sees them.

    `without_link`: registered, open for evidence, no working link (they get a new one);
    `with_link`: registered, open for evidence, with a working link (a new one only if asked,
    which stops the old one); `decided`: past evidence, no slip; `unregistered`: households of
    the area not registered for the year, no slip.
    """

    without_link: list[Registration]
    with_link: list[Registration]
    decided: list[Registration]
    unregistered: int


def area_slips(*, community: Community, year: int) -> AreaSlips:
    """Which of the area's households a slip sheet for `year` would cover, in list order."""
    families = Family.objects.filter(community=community)
    registrations = list(
        Registration.objects.filter(
            entity_id__in=families.values("entity_id"), year=year, kind=Kind.FAMILY
        )
        .select_related("entity", "ward")
        .order_by("entity__sort_key", "entity__code")
    )
    cutoff = timezone.now() - SELF_ASSESSMENT_MAX_AGE
    live = set(
        SelfAssessmentLink.objects.filter(
            registration__in=[r.pk for r in registrations],
            ended_at__isnull=True,
            issued_at__gt=cutoff,
        ).values_list("registration_id", flat=True)
    )
    open_ = [r for r in registrations if r.state in EVIDENCE_EDITABLE]
    return AreaSlips(
        without_link=[r for r in open_ if r.pk not in live],
        with_link=[r for r in open_ if r.pk in live],
        decided=[r for r in registrations if r.state not in EVIDENCE_EDITABLE],
        unregistered=families.count() - len(registrations),
    )


@transaction.atomic
def self_assessment_links_issue_area(
    *, community: Community, year: int, user, replace_live: bool
) -> list[IssuedLink]:
    """Issue a link to every household of the area registered for `year` and still open for
    evidence that has no working link, and, with `replace_live`, a new one to those that have
    one (their old link stops working). Returns the new links in list order, for the slips.

    Refused in a signed-off year. Households not registered, and decided registrations, get
    none. The registrations are locked first, so that a link issued meanwhile one at a time
    cannot leave a registration with two live links.
    """
    check_not_frozen(ward_id=community.entity.ward_id, year=year)
    slips = area_slips(community=community, year=year)
    chosen = slips.without_link + (slips.with_link if replace_live else [])
    ids = [r.pk for r in chosen]
    list(Registration.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
    # A reissue ends the old link: every live row of these registrations, expired ones too.
    SelfAssessmentLink.objects.filter(registration_id__in=ids, ended_at__isnull=True).update(
        ended_at=timezone.now(), end=SelfAssessmentLink.End.REISSUED
    )
    # The sheet follows the area's list: the two groups merged back into one order.
    chosen.sort(key=lambda r: (r.entity.sort_key, r.entity.code))
    made = [_new_link(r, user) for r in chosen]
    SelfAssessmentLink.objects.bulk_create([row for row, _issued in made])
    record_bulk(
        "self_assessment_slips",
        model=SelfAssessmentLink,
        ward_ids=[community.entity.ward_id],
        year=year,
        area=community.entity.code,
        issued=len(made),
        replaced=len(slips.with_link) if replace_live else 0,
    )
    return [issued for _row, issued in made]


@transaction.atomic
def self_assessment_link_revoke(*, registration: Registration, user) -> None:
    """Stop the registration's live self-assessment link (staff)."""
    if not SelfAssessmentLink.objects.filter(
        registration=registration, ended_at__isnull=True
    ).exists():
        raise RegistrationError(_("This registration has no live self-assessment link."))
    _end_live_link(registration, SelfAssessmentLink.End.REVOKED)


def self_assessment_link_live(*, registration: Registration) -> SelfAssessmentLink | None:
    """The registration's live link (issued, not ended, not expired), if any."""
    link = (
        SelfAssessmentLink.objects.filter(registration=registration, ended_at__isnull=True)
        .select_related("issued_by")
        .first()
    )
    if link is None or link.issued_at + SELF_ASSESSMENT_MAX_AGE <= timezone.now():
        return None
    return link


def _live_registration(link: SelfAssessmentLink | None) -> Registration | None:
    if link is None or link.issued_at + SELF_ASSESSMENT_MAX_AGE <= timezone.now():
        return None
    registration = link.registration
    if workflow.ward_year_frozen(ward_id=registration.ward_id, year=registration.year):
        return None
    return registration


def registration_from_token(token: str) -> Registration | None:
    """The registration a live self-assessment link opens, or None: unknown, ended (revoked,
    reissued, evidence confirmed), expired, or its ward's year signed off. A decided
    registration is returned: its page says it has been decided."""
    if not 20 <= len(token) <= 100:
        return None
    return _live_registration(
        SelfAssessmentLink.objects.filter(digest=_digest(token), ended_at__isnull=True)
        .select_related("registration__entity", "registration__ward")
        .first()
    )


class SelfCodeUnknown(RegistrationError):
    """No slip ever had this code (mistyped, or guessed)."""


class SelfCodeMalformed(SelfCodeUnknown):
    """Not a code at all (wrong length, a letter outside the alphabet): no guess was made."""


class SelfCodeEnded(RegistrationError):
    """The code was printed on a slip whose link no longer works."""


def registration_from_code(code: str) -> Registration:
    """The registration a slip's short code opens, as its link would (`registration_from_token`).

    Raises SelfCodeUnknown for a code no slip had (SelfCodeMalformed when it cannot even be a
    code) and SelfCodeEnded for one whose link ended, expired or whose year is signed off, so
    that the household is told which.

    Why a 10-character code is safe to type in: 32 letters give 32¹⁰ ≈ 1,1·10¹⁵ codes. Even
    with a million links working at once (every household of a large province; a link works for
    90 days at most), one guess hits one with odds of 1 in 10⁹. The code page lets an address
    try `SELF_CODE_TRIES` (10) wrong codes an hour, some 88.000 a year: one address would need
    about ten thousand years on average, a thousand addresses about ten, to open one
    household's form — where all they can do is enter answers that count only once staff have
    checked and confirmed them. The codes' digests are keyed with the site's secret, so a copy
    of the database does not shorten the search.
    """
    normalized = self_code_normalize(code)
    if normalized is None:
        raise SelfCodeMalformed(_("A code has 10 letters and digits, as printed on the slip."))
    link = (
        SelfAssessmentLink.objects.exclude(code_digest="")
        .filter(code_digest=_code_digest(normalized))
        .select_related("registration__entity", "registration__ward")
        .first()
    )
    if link is None:
        raise SelfCodeUnknown(
            _("No slip has the code %(code)s. Please check each letter and digit.")
            % {"code": self_code_display(normalized)}
        )
    registration = _live_registration(link) if link.ended_at is None else None
    if registration is None:
        raise SelfCodeEnded(
            _(
                "The code %(code)s no longer works: it may have expired, been replaced by a "
                "newer slip, or your answers have already been checked by the association."
            )
            % {"code": self_code_display(normalized)}
        )
    return registration


_RENAMED_BATCH = 5000  # entity ids per statement: well under SQLite's limit of parameters


def registrations_sort_key_refresh(entity_ids: Iterable[int]) -> int:
    """The registrations of renamed entities take their entities' new sort key, so the lists
    (ordered by the copy on the registration) place them by their new names.

    Runs in the renaming transaction (the registry's `entities_renamed` hook). A signed-off
    ward-year is left as it was signed off (the freeze refuses any write to it). Returns how
    many registrations moved.
    """
    moved = 0
    for ids in batched(sorted(set(entity_ids)), _RENAMED_BATCH):
        stale = Registration.objects.filter(entity_id__in=ids).exclude(
            sort_key=F("entity__sort_key")
        )
        pairs = set(stale.values_list("ward_id", "year"))
        frozen = Q(pk__in=[])
        for year in {year for _ward, year in pairs}:
            for ward_id in workflow.frozen_ward_ids(year=year):
                if (ward_id, year) in pairs:
                    frozen |= Q(ward_id=ward_id, year=year)
        if pairs:
            moved += stale.exclude(frozen).update(
                sort_key=Subquery(
                    Entity.objects.filter(pk=OuterRef("entity_id")).values("sort_key")
                )
            )
    return moved
