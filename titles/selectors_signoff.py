"""Reads for ward sign-off: which wards have signed off a year, and a ward-year's history.

A ward's year is signed off when its newest `WardSignOff` row (highest id: rows of a ward are
written under its row lock, in order) is a sign-off.
"""

from __future__ import annotations

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from registry.models import AdministrativeUnit
from titles.models import State, WardSignOff
from titles.selectors import KIND_ORDER
from titles.services.counts import ward_counts

# Not decided yet: still to be reviewed, or approved and waiting for a decision.
UNREVIEWED_STATES = (State.REGISTERED, State.SUBMITTED, State.EVALUATED)


def signed_off_wards(*, province_id: int, year: int) -> dict[int, WardSignOff]:
    """Ward id -> its sign-off row, for the wards of the province whose `year` is signed off.

    One query, whatever the number of wards. A ward never signed off, or reopened since, is
    absent.
    """
    newest = (
        WardSignOff.objects.filter(ward_id=OuterRef("ward_id"), year=year)
        .order_by("-pk")
        .values("pk")[:1]
    )
    rows = (
        WardSignOff.objects.filter(province_id=province_id, year=year)
        .annotate(newest=Subquery(newest))
        .filter(pk=F("newest"), action=WardSignOff.Action.SIGN_OFF)
        .select_related("user")
    )
    return {row.ward_id: row for row in rows}


def ward_year_signoff(*, ward_id: int, year: int) -> WardSignOff | None:
    """The sign-off that freezes the ward's `year` (who and when), or None if it is open."""
    newest = (
        WardSignOff.objects.filter(ward_id=ward_id, year=year)
        .select_related("user")
        .order_by("-pk")
        .first()
    )
    return newest if newest is not None and newest.action == WardSignOff.Action.SIGN_OFF else None


def signoff_history(*, ward: AdministrativeUnit, year: int) -> QuerySet[WardSignOff]:
    """Every sign-off and reopening of the ward's year, oldest first, with who did it."""
    return WardSignOff.objects.filter(ward=ward, year=year).select_related("user").order_by("pk")


def undecided_counts(*, ward: AdministrativeUnit, year: int) -> list[dict]:
    """Per title, the ward's registrations of `year` not decided yet — one grouped query.

    Each: {"kind", "unreviewed" (registered, submitted or evaluated), "approved" (approved,
    waiting for a decision)}; titles with neither are left out.
    """
    undecided = [*UNREVIEWED_STATES, State.APPROVED]
    rows = (
        ward_counts(ward_id=ward.pk, year=year)
        .filter(state__in=undecided)
        .values("kind")
        .annotate(
            unreviewed=Coalesce(Sum("n", filter=Q(state__in=UNREVIEWED_STATES)), 0),
            approved=Coalesce(Sum("n", filter=Q(state=State.APPROVED)), 0),
        )
        .order_by()
    )
    rows = [row for row in rows if row["unreviewed"] or row["approved"]]
    return sorted(rows, key=lambda row: KIND_ORDER.index(row["kind"]))
