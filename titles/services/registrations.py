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
from collections.abc import Mapping

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
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
    registered = Registration.objects.filter(entity_id__in=entity_ids, year=year)
    already = registered.count()
    entities = Entity.objects.filter(pk__in=entity_ids, kind=Kind.FAMILY).exclude(
        pk__in=registered.values("entity_id")
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


def _end_live_link(registration: Registration, end: str) -> None:
    SelfAssessmentLink.objects.filter(registration=registration, ended_at__isnull=True).update(
        ended_at=timezone.now(), end=end
    )


@transaction.atomic
def self_assessment_token(*, registration: Registration, user=None) -> str:
    """Issue a new self-assessment link for the registration and return its token (shown once:
    only its digest is stored). The registration's previous link, if any, stops working."""
    if registration.state not in EVIDENCE_EDITABLE:
        raise RegistrationError(_("A decided registration needs no self-assessment link."))
    check_not_frozen(ward_id=registration.ward_id, year=registration.year)
    Registration.objects.select_for_update().filter(pk=registration.pk).values_list("pk").get()
    _end_live_link(registration, SelfAssessmentLink.End.REISSUED)
    token = secrets.token_urlsafe(SELF_ASSESSMENT_TOKEN_BYTES)
    SelfAssessmentLink.objects.create(
        registration=registration, digest=_digest(token), issued_by=user
    )
    return token


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


def registration_from_token(token: str) -> Registration | None:
    """The registration a live self-assessment link opens, or None: unknown, ended (revoked,
    reissued, evidence confirmed), expired, or its ward's year signed off. A decided
    registration is returned: its page says it has been decided."""
    if not 20 <= len(token) <= 100:
        return None
    link = (
        SelfAssessmentLink.objects.filter(digest=_digest(token), ended_at__isnull=True)
        .select_related("registration__entity", "registration__ward")
        .first()
    )
    if link is None or link.issued_at + SELF_ASSESSMENT_MAX_AGE <= timezone.now():
        return None
    registration = link.registration
    if workflow.ward_year_frozen(ward_id=registration.ward_id, year=registration.year):
        return None
    return registration
