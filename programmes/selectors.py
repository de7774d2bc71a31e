"""Reads of programmes and their records, each taking the acting user (`programmes.access`).

What a user may not see is absent from lists and a 404 when asked for by code or id.
Children's personal data (beneficiaries) reaches only the roles `access.can_see_children`
names, in their scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from programmes import access
from programmes.models import (
    Beneficiary,
    Contribution,
    Delivery,
    Programme,
    ProgrammeOrganiser,
    ProgrammeTally,
)
from registry.access import grant_of, scope_q
from registry.models import AdministrativeUnit, Unit
from registry.text import fold


def programme_list(
    *, user, q: str | None = None, kind: str | None = None, year: int | None = None
) -> QuerySet[Programme]:
    rows = Programme.objects.filter(access.programme_q(user)).select_related("province")
    if q:
        rows = rows.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(organiser__icontains=q))
    if kind:
        rows = rows.filter(kind=kind)
    if year:
        rows = rows.filter(starts__year__lte=year).filter(
            Q(ends__isnull=True) | Q(ends__year__gte=year)
        )
    return rows.order_by("-starts", "code")


def programme_get(*, user, code: str) -> Programme:
    programme = (
        Programme.objects.filter(access.programme_q(user), code=code)
        .select_related("province")
        .first()
    )
    if programme is None:
        raise Http404
    return programme


def programme_public(*, code: str) -> Programme:
    """Any programme, for its public page (no login): only what the page shows is read."""
    programme = Programme.objects.filter(code=code).select_related("province").first()
    if programme is None:
        raise Http404
    return programme


def programme_figures(*, programme_ids: list[int]) -> dict[int, dict[str, int]]:
    """Raised, spent, meal-days and beneficiaries per programme, from the summary."""
    figures: dict[int, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("raised_vnd", "spent_vnd", "meal_days", "beneficiaries"), 0)
    )
    for row in (
        ProgrammeTally.objects.filter(programme_id__in=programme_ids)
        .values("programme_id")
        .annotate(
            raised_vnd=Sum("raised_vnd"),
            spent_vnd=Sum("spent_vnd"),
            meal_days=Sum("meal_days"),
            beneficiaries=Sum("beneficiaries"),
        )
        .order_by()
    ):
        pid = row.pop("programme_id")
        figures[pid].update({k: v or 0 for k, v in row.items()})
    for values in figures.values():
        values["balance_vnd"] = values["raised_vnd"] - values["spent_vnd"]
    return figures


def organisers(*, programme: Programme) -> QuerySet[ProgrammeOrganiser]:
    return programme.organisers.select_related("user").order_by("user__username")


def contribution_list(
    *, user, programme: Programme | None = None, q: str | None = None
) -> QuerySet[Contribution]:
    rows = Contribution.objects.filter(
        programme__in=Programme.objects.filter(access.programme_q(user))
    )
    if programme is not None:
        rows = rows.filter(programme=programme)
    if q:
        rows = rows.filter(Q(ref__icontains=q) | Q(donor__icontains=q) | Q(item__icontains=q))
    return rows.select_related("programme").order_by("-date", "ref")


def contribution_get(*, user, pk: int) -> Contribution:
    row = contribution_list(user=user).filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def public_donors(*, programme: Programme) -> list[dict]:
    """Donors who agreed to be named, with what they gave."""
    return list(
        programme.contributions.filter(donor_public=True)
        .values("donor")
        .annotate(amount_vnd=Sum("amount_vnd"))
        .order_by("donor")
    )


def beneficiary_list(
    *,
    user,
    programme: Programme | None = None,
    ward_code: str | None = None,
    q: str | None = None,
) -> QuerySet[Beneficiary]:
    rows = Beneficiary.objects.filter(access.beneficiary_q(user))
    if programme is not None:
        rows = rows.filter(programme=programme)
    if ward_code:
        rows = rows.filter(ward__code=ward_code)
    if q:
        rows = rows.filter(search_text__contains=fold(q))
    return rows.select_related("programme", "ward", "school__entity").order_by(
        "programme__code", "ward__code", "code"
    )


def beneficiary_get(*, user, pk: int) -> Beneficiary:
    row = beneficiary_list(user=user).filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def _delivery_q(user) -> Q:
    """Deliveries of the programmes the user sees: in the user's scope, or of a programme the
    user organises."""
    visible = Q(programme__in=Programme.objects.filter(access.programme_q(user)))
    scope = scope_q(user)
    if not scope.children:  # a global administrator: everything visible
        return visible
    organised = ProgrammeOrganiser.objects.filter(user_id=user.pk).values("programme_id")
    return visible & (scope | Q(programme_id__in=organised))


def delivery_list(
    *,
    user,
    programme: Programme | None = None,
    ward_code: str | None = None,
    kind: str | None = None,
    q: str | None = None,
) -> QuerySet[Delivery]:
    rows = Delivery.objects.filter(_delivery_q(user))
    if programme is not None:
        rows = rows.filter(programme=programme)
    if ward_code:
        rows = rows.filter(ward__code=ward_code)
    if kind:
        rows = rows.filter(kind=kind)
    if q:
        rows = rows.filter(Q(ref__icontains=q) | Q(item__icontains=q))
    return rows.select_related("programme", "ward", "school__entity", "beneficiary").order_by(
        "-date", "ref"
    )


def delivery_get(*, user, pk: int) -> Delivery:
    row = delivery_list(user=user).filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def wards_for_entry(
    *, user, programme: Programme, organisers: bool = True
) -> QuerySet[AdministrativeUnit]:
    """The wards of the programme's province where the user records; the programme's
    organisers record deliveries in all of them (`organisers`)."""
    wards = AdministrativeUnit.objects.filter(
        level=AdministrativeUnit.Level.WARD, parent_id=programme.province_id, valid_to__isnull=True
    )
    if organisers and access.is_organiser(user, programme):
        return wards.order_by("code")
    grant = grant_of(user)
    if grant is None or not access.can_record_any(user):
        return wards.none()
    if grant.unit is not None and grant.unit.level == AdministrativeUnit.Level.WARD:
        wards = wards.filter(pk=grant.unit_id)
    return wards.order_by("code")


def schools_in(*, ward: AdministrativeUnit) -> QuerySet[Unit]:
    return (
        Unit.objects.filter(unit_type=Unit.UnitType.SCHOOL, entity__ward=ward)
        .select_related("entity")
        .order_by("entity__sort_key")
    )


@dataclass
class MonthCell:
    month: dt.date
    spent_vnd: int
    meal_days: int
    deliveries: int


def deliveries_by_school_month(
    *, programme: Programme, ward_ids: set[int] | None = None
) -> tuple[list[dt.date], list[dict]]:
    """The summary's deliveries per school (rows) and month (columns)."""
    rows = ProgrammeTally.objects.filter(
        programme=programme, school__isnull=False, month__isnull=False
    )
    if ward_ids is not None:
        rows = rows.filter(ward_id__in=ward_ids)
    months: set[dt.date] = set()
    schools: dict[int, dict] = {}
    for t in rows.select_related("school__entity", "ward").order_by("ward__code", "school_id"):
        months.add(t.month)
        entry = schools.setdefault(
            t.school_id,
            {
                "school": t.school.entity.name,
                "ward": t.ward.name,
                "ward_code": t.ward.code,
                "months": {},
                "spent_vnd": 0,
                "meal_days": 0,
            },
        )
        entry["months"][t.month] = MonthCell(t.month, t.spent_vnd, t.meal_days, t.deliveries)
        entry["spent_vnd"] += t.spent_vnd
        entry["meal_days"] += t.meal_days
    ordered = sorted(months)
    for entry in schools.values():
        entry["cells"] = [entry["months"].get(m) for m in ordered]
    return ordered, sorted(schools.values(), key=lambda e: (e["ward_code"], e["school"]))


def running_in(year: int) -> Q:
    """The programmes running at some time in `year`: started by its end, not ended before it."""
    return Q(starts__year__lte=year) & (Q(ends__isnull=True) | Q(ends__year__gte=year))


def dashboard_rows(
    *, user, province: AdministrativeUnit, ward: AdministrativeUnit | None = None, year: int
) -> list[dict]:
    """Per programme of the province running in `year`: raised, spent, balance, meal-days,
    beneficiaries since it began; with a ward, the ward's own figures (money raised is the
    programme's, not the ward's)."""
    programmes = list(
        Programme.objects.filter(
            access.programme_q(user), running_in(year), province=province
        ).order_by("code")
    )
    tallies = ProgrammeTally.objects.filter(programme__in=programmes)
    if ward is not None:
        tallies = tallies.filter(ward=ward)
    sums = {
        row["programme_id"]: row
        for row in tallies.values("programme_id")
        .annotate(
            raised_vnd=Sum("raised_vnd"),
            spent_vnd=Sum("spent_vnd"),
            meal_days=Sum("meal_days"),
            beneficiaries=Sum("beneficiaries"),
            deliveries=Sum("deliveries"),
        )
        .order_by()
    }
    rows = []
    for p in programmes:
        s = sums.get(p.pk, {})
        raised, spent = s.get("raised_vnd") or 0, s.get("spent_vnd") or 0
        rows.append(
            {
                "programme": p,
                "raised_vnd": raised,
                "spent_vnd": spent,
                "balance_vnd": raised - spent,
                "meal_days": s.get("meal_days") or 0,
                "beneficiaries": s.get("beneficiaries") or 0,
                "deliveries": s.get("deliveries") or 0,
            }
        )
    return rows


def ward_rows(*, user, programme: Programme) -> list[dict]:
    """A programme's figures per ward (in the user's scope), from the summary."""
    tallies = (
        ProgrammeTally.objects.filter(programme=programme, ward__isnull=False).filter(scope_q(user))
        if not access.can_manage(user, programme)
        else ProgrammeTally.objects.filter(programme=programme, ward__isnull=False)
    )
    return list(
        tallies.values("ward_id", "ward__code", "ward__name")
        .annotate(
            spent_vnd=Sum("spent_vnd"),
            meal_days=Sum("meal_days"),
            beneficiaries=Sum("beneficiaries"),
            deliveries=Sum("deliveries"),
        )
        .order_by("ward__code")
    )


def school_rows(*, programme: Programme, ward: AdministrativeUnit) -> list[dict]:
    return list(
        ProgrammeTally.objects.filter(programme=programme, ward=ward, school__isnull=False)
        .values("school_id", "school__entity__code", "school__entity__name")
        .annotate(
            spent_vnd=Sum("spent_vnd"),
            meal_days=Sum("meal_days"),
            beneficiaries=Sum("beneficiaries"),
            deliveries=Sum("deliveries"),
        )
        .order_by("school__entity__name")
    )
