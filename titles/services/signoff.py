"""Ward sign-off: an official freezes a ward's figures for a year; a province admin reopens them.

Each sign-off and each reopening is one `WardSignOff` row; the newest row of a (ward, year)
says whether that year is frozen, and the rows together are its history. While a year is
frozen, the workflow refuses every write to a registration or decision of that ward and year
(`titles.workflow.check_not_frozen`, and the database guard behind it).

Invariant: sign-off rows of a ward are written, and the freeze is checked by the
workflow, only while holding the ward's row lock (`SELECT … FOR NO KEY UPDATE`, which also
queues behind the roll-up refresh's `FOR UPDATE` of the ward). So a sign-off and a decision of
the same ward queue up: either the decision commits first and the sign-off sees its figures,
or the sign-off commits first and the decision is refused. Within one ward rows are therefore
inserted in the order they happened, and the newest row is the one with the highest id.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from registry.access import can_review, is_global_or_province_admin, ward_units
from registry.models import AdministrativeUnit
from titles.models import WardSignOff
from titles.services.rollups import rollups_freeze, rollups_unfreeze
from titles.workflow import WorkflowError as ReviewError
from titles.workflow import ward_year_frozen, ward_year_lock_frozen

__all__ = ["ward_reopen", "ward_sign_off", "ward_year_frozen"]


def can_sign_off(user, ward: AdministrativeUnit) -> bool:
    """Officials of the ward and admins whose scope covers it."""
    return can_review(user) and ward_units(user).filter(pk=ward.pk).exists()


def can_reopen(user, ward: AdministrativeUnit) -> bool:
    """Only an admin of the ward's province, or a global admin."""
    return is_global_or_province_admin(user, ward.parent_id)


def _record(*, user, ward: AdministrativeUnit, year: int, action: str, reason: str = ""):
    row = WardSignOff(
        ward=ward, province_id=ward.parent_id, year=year, action=action, reason=reason, user=user
    )
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def ward_sign_off(*, user, ward: AdministrativeUnit, year: int) -> WardSignOff:
    """Sign off the ward's year: from now on its registrations of `year` cannot be decided,
    and its figures stay as they are now (a snapshot, `rollups_freeze`), whatever the registry
    does afterwards.

    Undecided registrations do not block a sign-off (the page shows how many remain before the
    official confirms). Refused if the year is already signed off.
    """
    if not can_sign_off(user, ward):
        raise PermissionDenied
    if ward_year_lock_frozen(ward_id=ward.pk, year=year):
        raise ReviewError(
            _("The figures of %(ward)s for %(year)s are already signed off.")
            % {"ward": ward.name, "year": year}
        )
    row = _record(user=user, ward=ward, year=year, action=WardSignOff.Action.SIGN_OFF)
    rollups_freeze(ward_id=ward.pk, year=year)
    return row


@transaction.atomic
def ward_reopen(*, user, ward: AdministrativeUnit, year: int, reason: str) -> WardSignOff:
    """Reopen a signed-off year so that its registrations can be decided again; its figures
    are recomputed from the detail rows.

    Only a province admin may; the reason is required and kept in the history.
    """
    if not can_reopen(user, ward):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ReviewError(_("A reason is required to reopen signed-off figures."))
    if not ward_year_lock_frozen(ward_id=ward.pk, year=year):
        raise ReviewError(
            _(
                "The figures of %(ward)s for %(year)s are not signed off; there is nothing to "
                "reopen."
            )
            % {"ward": ward.name, "year": year}
        )
    row = _record(user=user, ward=ward, year=year, action=WardSignOff.Action.REOPEN, reason=reason)
    rollups_unfreeze(ward_id=ward.pk, year=year)
    return row
