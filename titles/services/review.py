"""Moving registrations through review: submit, approve, reject, override, decide.

Every change is one conditional UPDATE that names the state and version the actor saw, so two
people acting on the same registration at once cannot both win: the loser's UPDATE matches no
row and they get `ConcurrentChange`, with nothing written. Every change appends a
`RegistrationEvent` (who, when, from, to, why) in the same transaction.

While a ward's year is signed off (`titles.services.signoff`), every move that decides one of
its registrations — approval, rejection, override, bulk approval, decision — is refused with a
`ReviewError`; the check holds the ward's row lock until the transaction ends.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from audit.services import record_bulk
from registry.models import AdministrativeUnit
from titles.models import Decision, Override, Registration, RegistrationEvent, State
from titles.services.rollups import rollups_count_recognized


class ReviewError(Exception):
    """A review action that is not allowed now; the message says why, for the user."""


class ConcurrentChange(ReviewError):
    """Someone else changed the registration first; nothing was written."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else changed this registration while you were looking at it. "
                "Nothing was saved; reload the page to see the current state."
            )
        )


# Which states each action may start from.
SUBMITTABLE = (State.REGISTERED,)
DECIDABLE = (State.EVALUATED,)
REJECTABLE = (State.REGISTERED, State.SUBMITTED, State.EVALUATED, State.APPROVED)
OVERRIDABLE = (State.EVALUATED,)
# Moves that decide a registration: refused while its ward's year is signed off.
FROZEN_MOVES = (State.APPROVED, State.REJECTED, State.RECOGNIZED)


def check_not_frozen(ward_id: int, year: int) -> None:
    """Refuse a decision on a ward and year whose figures are signed off.

    Takes the ward's row lock (held until the caller's transaction ends), so a sign-off cannot
    slip in between this check and the write it guards.
    """
    from titles.services.signoff import ward_year_lock_frozen  # signoff builds on review

    if ward_year_lock_frozen(ward_id=ward_id, year=year):
        raise ReviewError(
            _(
                "The ward's figures for %(year)s are signed off; a province administrator must "
                "reopen them first."
            )
            % {"year": year}
        )


def _transition(
    *,
    registration: Registration,
    to_state: str,
    allowed_from: Iterable[str],
    user,
    reason: str = "",
    action: str = RegistrationEvent.Action.STATE,
    extra: dict | None = None,
    detail: dict | None = None,
) -> Registration:
    """Move `registration` to `to_state` if it is still in the state and version it was read in."""
    allowed_from = tuple(allowed_from)
    if registration.state not in allowed_from:
        raise ReviewError(
            _("A registration in state “%(state)s” cannot be moved to “%(to)s”.")
            % {"state": registration.get_state_display(), "to": State(to_state).label}
        )
    if to_state in FROZEN_MOVES:
        check_not_frozen(registration.ward_id, registration.year)
    updates = {"state": to_state, "version": F("version") + 1, **(extra or {})}
    changed = Registration.objects.filter(
        pk=registration.pk, version=registration.version, state=registration.state
    ).update(**updates)
    if changed != 1:
        raise ConcurrentChange()
    RegistrationEvent.objects.create(
        registration=registration,
        action=action,
        from_state=registration.state,
        to_state=to_state,
        reason=reason,
        user=user,
        detail=detail or {},
    )
    registration.refresh_from_db()
    return registration


@transaction.atomic
def registration_submit(*, registration: Registration, user) -> Registration:
    """Staff hand a registration over for evaluation."""
    return _transition(
        registration=registration, to_state=State.SUBMITTED, allowed_from=SUBMITTABLE, user=user
    )


@transaction.atomic
def registration_approve(*, registration: Registration, user, reason: str = "") -> Registration:
    """An official approves an evaluated registration that passed (after any overrides)."""
    if registration.state in DECIDABLE and not registration.passed:
        raise ReviewError(
            _(
                "This registration does not meet the criteria. Override the criteria you judge "
                "met (with a reason), or reject it."
            )
        )
    return _transition(
        registration=registration,
        to_state=State.APPROVED,
        allowed_from=DECIDABLE,
        user=user,
        reason=reason,
    )


@transaction.atomic
def registration_reject(*, registration: Registration, user, reason: str) -> Registration:
    """An official rejects a registration; the reason is required and shown to staff."""
    reason = reason.strip()
    if not reason:
        raise ReviewError(_("A reason is required to reject a registration."))
    return _transition(
        registration=registration,
        to_state=State.REJECTED,
        allowed_from=REJECTABLE,
        user=user,
        reason=reason,
        extra={"rejection_reason": reason},
    )


@transaction.atomic
def registrations_approve_passed(
    *, user, ward: AdministrativeUnit, year: int, kind: str | None = None, ids=None
) -> tuple[int, int]:
    """Approve every evaluated registration of the ward and year that passed.

    Limited to `kind` and/or `ids` when given. Returns (approved, skipped): a registration someone
    else changed meanwhile is skipped, not overwritten. Refused while the ward's year is signed
    off.
    """
    check_not_frozen(ward.pk, year)
    qs = Registration.objects.filter(ward=ward, year=year, state=State.EVALUATED, passed=True)
    if kind:
        qs = qs.filter(kind=kind)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    approved = skipped = 0
    for registration in qs.order_by("pk"):
        try:
            with transaction.atomic():
                registration_approve(registration=registration, user=user)
            approved += 1
        except ConcurrentChange:
            skipped += 1
    record_bulk(
        "registrations_approve_passed",
        model=Registration,
        ward_ids=[ward.pk],
        year=year,
        kind=kind or "",
        approved=approved,
        skipped=skipped,
    )
    return approved, skipped


@transaction.atomic
def override_set(
    *, registration: Registration, criterion: str, met: bool, reason: str, user
) -> Override:
    """Record an official's ruling on one criterion and re-evaluate with it.

    The previous override of the same criterion is marked superseded, never deleted.
    """
    from titles.services.evaluate import registration_reevaluate

    reason = reason.strip()
    if not reason:
        raise ReviewError(_("A written reason is required to override a criterion."))
    if registration.state not in OVERRIDABLE:
        raise ReviewError(_("Only an evaluated registration, not yet decided, can be overridden."))
    check_not_frozen(registration.ward_id, registration.year)
    codes = {c["code"] for c in registration.result.get("criteria", [])}
    if criterion not in codes:
        raise ReviewError(_("Unknown criterion “%(code)s”.") % {"code": criterion})
    locked = Registration.objects.select_for_update().get(pk=registration.pk)
    if locked.version != registration.version:
        raise ConcurrentChange()
    Override.objects.filter(
        registration=registration, criterion=criterion, superseded=False
    ).update(superseded=True)
    override = Override.objects.create(
        registration=registration, criterion=criterion, met=met, reason=reason, user=user
    )
    RegistrationEvent.objects.create(
        registration=registration,
        action=RegistrationEvent.Action.OVERRIDE,
        from_state=registration.state,
        to_state=registration.state,
        reason=reason,
        user=user,
        detail={"criterion": criterion, "met": met},
    )
    # The override itself moves the version on, so a page opened before it is stale even if
    # the re-evaluation writes nothing (no criteria set in force any more).
    Registration.objects.filter(pk=locked.pk).update(version=F("version") + 1)
    locked.refresh_from_db()
    registration_reevaluate(registration=locked, user=user)
    registration.refresh_from_db()
    return override


@transaction.atomic
def decision_issue(
    *,
    user,
    ward: AdministrativeUnit,
    year: int,
    number: str,
    date: datetime.date,
    registrations: Iterable[Registration],
) -> Decision:
    """Issue a recognition decision for approved registrations of one ward and year.

    Each becomes recognised under the decision; outstanding ones are marked so. All or nothing:
    if any of them changed meanwhile, nothing is issued.
    """
    number = number.strip()
    if not number:
        raise ReviewError(_("The decision number is required."))
    registrations = list(registrations)
    if not registrations:
        raise ReviewError(_("Choose at least one approved registration for the decision."))
    for registration in registrations:
        if registration.ward_id != ward.pk or registration.year != year:
            raise ReviewError(_("A decision covers registrations of one ward and one year."))
    check_not_frozen(ward.pk, year)
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                ward=ward,
                province_id=ward.parent_id,
                year=year,
                number=number,
                date=date,
                issued_by=user,
            )
    except IntegrityError as exc:
        raise ReviewError(
            _("Decision number %(number)s already exists in this ward.") % {"number": number}
        ) from exc
    for registration in registrations:
        _transition(
            registration=registration,
            to_state=State.RECOGNIZED,
            allowed_from=(State.APPROVED,),
            user=user,
            extra={"decision": decision, "outstanding": bool(registration.eval_outstanding)},
            detail={"decision": number},
        )
    rollups_count_recognized(registration_ids=[r.pk for r in registrations])
    record_bulk(
        "decision_issue",
        model=Decision,
        ward_ids=[ward.pk],
        year=year,
        decision=number,
        recognized=len(registrations),
    )
    return decision
