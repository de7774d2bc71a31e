"""Review: submit, approve, reject, override, decide.

These services check what review itself requires (a reason, a pass, one ward and year per
decision) and hand every move to `titles.workflow`, which owns the transitions, the sign-off
freeze, the version check that lets only one of two concurrent actors win, and the history.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from audit.services import record_bulk
from registry.models import AdministrativeUnit
from titles import workflow
from titles.models import Decision, Override, Registration, State
from titles.services.certificates import certificates_number
from titles.services.rollups import rollups_count_recognized
from titles.workflow import ConcurrentChange, WorkflowError, check_not_frozen

ReviewError = WorkflowError
"""A review action that is not allowed now; the message says why, for the user."""

PROGRESS_EVERY = 200
"""The mass actions report their progress every so many registrations."""

Progress = Callable[[int, int | None], None]

APPROVABLE = Q(state__in=workflow.APPROVE.sources, passed=True)
"""Registrations an official may approve: evaluated, and passed (after any overrides)."""


def registrations_approvable(
    *, ward: AdministrativeUnit, year: int, kind: str | None = None, ids=None
) -> QuerySet[Registration]:
    """The ward's registrations of `year` that "approve what passed" approves, limited to
    `kind` and/or `ids` when given: what its confirmation counts and what it then approves."""
    qs = Registration.objects.filter(APPROVABLE, ward=ward, year=year)
    if kind:
        qs = qs.filter(kind=kind)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs


@transaction.atomic
def registration_submit(*, registration: Registration, user) -> Registration:
    """Staff hand a registration over for evaluation."""
    return workflow.registration_move(registration=registration, move=workflow.SUBMIT, user=user)


@transaction.atomic
def registration_approve(*, registration: Registration, user, reason: str = "") -> Registration:
    """An official approves an evaluated registration that passed (after any overrides)."""
    if registration.state == State.EVALUATED and not registration.passed:
        raise ReviewError(
            _(
                "This registration does not meet the criteria. Override the criteria you judge "
                "met (with a reason), or reject it."
            )
        )
    return workflow.registration_move(
        registration=registration,
        move=workflow.APPROVE,
        user=user,
        reason=reason,
    )


@transaction.atomic
def registration_reject(*, registration: Registration, user, reason: str) -> Registration:
    """An official rejects a registration; the reason is required and shown to staff."""
    reason = reason.strip()
    if not reason:
        raise ReviewError(_("A reason is required to reject a registration."))
    return workflow.registration_move(
        registration=registration,
        move=workflow.REJECT,
        user=user,
        reason=reason,
        changes={"rejection_reason": reason},
    )


@transaction.atomic
def registrations_approve_passed(
    *,
    user,
    ward: AdministrativeUnit,
    year: int,
    kind: str | None = None,
    ids=None,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Approve every evaluated registration of the ward and year that passed.

    Limited to `kind` and/or `ids` when given. Returns (approved, skipped): a registration someone
    else changed meanwhile is skipped, not overwritten. Refused while the ward's year is signed
    off.
    """
    check_not_frozen(ward_id=ward.pk, year=year)
    qs = registrations_approvable(ward=ward, year=year, kind=kind, ids=ids)
    total = qs.count() if progress else None
    approved = skipped = 0
    for done, registration in enumerate(qs.order_by("pk"), start=1):
        try:
            with transaction.atomic():
                registration_approve(registration=registration, user=user)
            approved += 1
        except ConcurrentChange:
            skipped += 1
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
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
    if registration.state != State.EVALUATED:
        raise ReviewError(_("Only an evaluated registration, not yet decided, can be overridden."))
    check_not_frozen(ward_id=registration.ward_id, year=registration.year)
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
    # The override note moves the version on, so a page opened before it is stale even if
    # the re-evaluation writes nothing (no criteria set in force any more).
    workflow.registration_move(
        registration=locked,
        move=workflow.NOTE_OVERRIDE,
        user=user,
        reason=reason,
        detail={"criterion": criterion, "met": met},
    )
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
    progress: Progress | None = None,
) -> Decision:
    """Issue a recognition decision for approved registrations of one ward and year.

    Each becomes recognised under the decision; outstanding ones are marked so, and each gets
    its certificate number (`certificates_number`). All or nothing: if any of them changed
    meanwhile, nothing is issued. `progress(done, total)` follows the registrations recognised.
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
    check_not_frozen(ward_id=ward.pk, year=year)
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
    total = len(registrations)
    for done, registration in enumerate(registrations, start=1):
        workflow.registration_move(
            registration=registration,
            move=workflow.RECOGNISE,
            user=user,
            changes={"decision": decision, "outstanding": bool(registration.eval_outstanding)},
            detail={"decision": number},
        )
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    rollups_count_recognized(registration_ids=[r.pk for r in registrations])
    record_bulk(
        "decision_issue",
        model=Decision,
        ward_ids=[ward.pk],
        year=year,
        decision=number,
        recognized=len(registrations),
    )
    certificates_number(decision=decision)
    return decision
