"""A programme's statement: money raised, spent and left, who and where it reached, what was
received and delivered, and the warnings the public reports of such programmes call for.

Figures of the period [`date_from`, `date_to`] (either end open):

- raised_vnd: money contributed in the period; spent_vnd: money delivered in the period;
  balance_vnd = raised_vnd − spent_vnd (without `date_from`, the balance on `date_to`);
- beneficiaries: distinct children (commune/ward and code) whose period overlaps it;
- schools, wards: distinct ones with a beneficiary or a delivery in it;
- meal_days: child-days of meals delivered; cost_per_meal_day_vnd: what the meals deliveries
  cost ÷ meal_days, whole VND rounded half up (None without meals);
- items_received / items_delivered: quantities per item.

Warnings (about the whole programme as of `date_to`, or today):

- `outside_period`: a delivery to a child dated before their start or after their end;
- `two_programmes`: a child (same ward, code, name and birth year) also in another programme
  of the same kind for an overlapping period;
- `above_daily_rate`: a meals delivery costing more than days × the programme's daily rate;
- `undelivered`: money raised more than 90 days before and still not delivered (what was
  raised up to that day exceeds everything spent since the start);
- `code_reused`: a code of the programme's province naming two different children (another
  name or birth year), in this programme or another one of the province.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from programmes.models import Beneficiary, DeliveryKind, Programme
from registry.text import fold

UNDELIVERED_DAYS = 90


@dataclass(frozen=True)
class Warning:
    kind: str
    message: str
    ward: str = ""  # the commune/ward code, for scoping what a user is shown
    refs: tuple[str, ...] = ()
    plain: str = ""  # the message without a child's code, for those who may not read it

    def shown_to(self, *, children: bool) -> str:
        return self.message if children or not self.plain else self.plain


@dataclass
class Statement:
    programme: Programme
    date_from: dt.date | None
    date_to: dt.date | None
    raised_vnd: int = 0
    spent_vnd: int = 0
    balance_vnd: int = 0
    beneficiaries: int = 0
    schools: int = 0
    wards: int = 0
    meal_days: int = 0
    cost_per_meal_day_vnd: int | None = None
    items_received: dict[str, int] = field(default_factory=dict)
    items_delivered: dict[str, int] = field(default_factory=dict)
    warnings: list[Warning] = field(default_factory=list)

    FIGURES = (
        "raised_vnd",
        "spent_vnd",
        "balance_vnd",
        "beneficiaries",
        "schools",
        "wards",
        "meal_days",
        "cost_per_meal_day_vnd",
    )

    def as_dict(self) -> dict:
        return {
            "programme": self.programme.code,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            **{name: getattr(self, name) for name in self.FIGURES},
            "items_received": dict(sorted(self.items_received.items())),
            "items_delivered": dict(sorted(self.items_delivered.items())),
            "warnings": [
                {"kind": w.kind, "message": w.message, "refs": list(w.refs)} for w in self.warnings
            ],
        }


def _in_period(q_date: str, date_from, date_to) -> Q:
    q = Q()
    if date_from is not None:
        q &= Q(**{f"{q_date}__gte": date_from})
    if date_to is not None:
        q &= Q(**{f"{q_date}__lte": date_to})
    return q


def _overlapping(date_from, date_to) -> Q:
    q = Q()
    if date_from is not None:
        q &= Q(ends__isnull=True) | Q(ends__gte=date_from)
    if date_to is not None:
        q &= Q(starts__lte=date_to)
    return q


def round_half_up(numerator: int, denominator: int) -> int:
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP))


def _day(value: dt.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def programme_statement(
    *,
    programme: Programme,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    warnings: bool = True,
) -> Statement:
    """The figures of the period and (unless `warnings` is false) the warnings."""
    s = Statement(programme=programme, date_from=date_from, date_to=date_to)
    contributions = programme.contributions.filter(_in_period("date", date_from, date_to))
    deliveries = programme.deliveries.filter(_in_period("date", date_from, date_to))
    s.raised_vnd = contributions.aggregate(total=Sum("amount_vnd"))["total"] or 0
    s.spent_vnd = deliveries.aggregate(total=Sum("amount_vnd"))["total"] or 0
    s.balance_vnd = s.raised_vnd - s.spent_vnd
    meals = deliveries.filter(kind=DeliveryKind.MEALS).aggregate(
        days=Sum("days"), cost=Sum("amount_vnd")
    )
    s.meal_days = meals["days"] or 0
    if s.meal_days:
        s.cost_per_meal_day_vnd = round_half_up(meals["cost"] or 0, s.meal_days)
    children = programme.beneficiaries.filter(_overlapping(date_from, date_to))
    s.beneficiaries = children.values("ward_id", "code").distinct().count()
    schools = set(children.values_list("school_id", flat=True).distinct())
    schools |= set(deliveries.values_list("school_id", flat=True).distinct())
    wards = set(children.values_list("ward_id", flat=True).distinct())
    wards |= set(deliveries.values_list("ward_id", flat=True).distinct())
    s.schools, s.wards = len(schools), len(wards)
    for item, quantity in (
        contributions.exclude(item="").values_list("item").annotate(q=Sum("quantity")).order_by()
    ):
        s.items_received[item] = quantity
    for item, quantity in (
        deliveries.exclude(item="").values_list("item").annotate(q=Sum("quantity")).order_by()
    ):
        s.items_delivered[item] = quantity
    if warnings:
        s.warnings = programme_warnings(programme=programme, as_of=date_to)
    return s


def programme_warnings(*, programme: Programme, as_of: dt.date | None = None) -> list[Warning]:
    as_of = as_of or timezone.localdate()
    warnings: list[Warning] = []
    warnings += _outside_period(programme)
    warnings += _two_programmes(programme)
    warnings += _above_daily_rate(programme)
    warnings += _undelivered(programme, as_of)
    warnings += _code_reused(programme)
    return warnings


def _outside_period(programme: Programme) -> list[Warning]:
    found = []
    for d in (
        programme.deliveries.filter(beneficiary__isnull=False)
        .filter(
            Q(date__lt=F("beneficiary__starts"))
            | Q(beneficiary__ends__isnull=False, date__gt=F("beneficiary__ends"))
        )
        .select_related("beneficiary", "ward")
        .order_by("date", "ref")
    ):
        b = d.beneficiary
        period = _day(b.starts) + " – " + (_day(b.ends) if b.ends else "…")
        found.append(
            Warning(
                "outside_period",
                _(
                    "Delivery %(ref)s of %(date)s to beneficiary %(code)s (commune/ward %(ward)s) "
                    "is outside their period %(period)s."
                )
                % {
                    "ref": d.ref,
                    "date": _day(d.date),
                    "code": b.code,
                    "ward": d.ward.code,
                    "period": period,
                },
                ward=d.ward.code,
                refs=(d.ref,),
                plain=_("Delivery %(ref)s of %(date)s is outside its beneficiary's period.")
                % {"ref": d.ref, "date": _day(d.date)},
            )
        )
    return found


def _child_key(b: Beneficiary) -> tuple:
    return (b.ward_id, b.code, fold(b.full_name), b.birth_year)


def _overlap(a_start, a_end, b_start, b_end) -> bool:
    return a_start <= (b_end or dt.date.max) and b_start <= (a_end or dt.date.max)


def _two_programmes(programme: Programme) -> list[Warning]:
    mine = list(programme.beneficiaries.select_related("ward"))
    if not mine:
        return []
    codes = {b.code for b in mine}
    others: dict[tuple, list[Beneficiary]] = defaultdict(list)
    for b in (
        Beneficiary.objects.filter(
            province_id=programme.province_id,
            programme__kind=programme.kind,
            code__in=codes,
        )
        .exclude(programme=programme)
        .select_related("programme")
    ):
        others[_child_key(b)].append(b)
    found = []
    for b in mine:
        for other in others.get(_child_key(b), ()):
            if _overlap(b.starts, b.ends, other.starts, other.ends):
                found.append(
                    Warning(
                        "two_programmes",
                        _(
                            "Beneficiary %(code)s (commune/ward %(ward)s) is also in programme "
                            "%(other)s of the same kind for an overlapping period."
                        )
                        % {"code": b.code, "ward": b.ward.code, "other": other.programme.code},
                        ward=b.ward.code,
                        plain=_(
                            "A beneficiary of commune/ward %(ward)s is also in programme "
                            "%(other)s of the same kind for an overlapping period."
                        )
                        % {"ward": b.ward.code, "other": other.programme.code},
                    )
                )
    return found


def _above_daily_rate(programme: Programme) -> list[Warning]:
    rate = programme.daily_rate_vnd
    if not rate:
        return []
    found = []
    for d in (
        programme.deliveries.filter(kind=DeliveryKind.MEALS, days__gt=0)
        .select_related("ward")
        .order_by("date", "ref")
    ):
        if d.amount_vnd > d.days * rate:
            found.append(
                Warning(
                    "above_daily_rate",
                    _(
                        "Meals delivery %(ref)s costs %(amount)s VND for %(days)s child-days, "
                        "more than the daily rate allows (%(allowed)s VND)."
                    )
                    % {
                        "ref": d.ref,
                        "amount": _vnd(d.amount_vnd),
                        "days": _vnd(d.days),
                        "allowed": _vnd(d.days * rate),
                    },
                    ward=d.ward.code,
                    refs=(d.ref,),
                )
            )
    return found


def _vnd(value: int) -> str:
    return intcomma(value)


def _undelivered(programme: Programme, as_of: dt.date) -> list[Warning]:
    cutoff = as_of - dt.timedelta(days=UNDELIVERED_DAYS)
    raised_before = (
        programme.contributions.filter(date__lt=cutoff).aggregate(t=Sum("amount_vnd"))["t"] or 0
    )
    spent = programme.deliveries.filter(date__lte=as_of).aggregate(t=Sum("amount_vnd"))["t"] or 0
    if raised_before > spent:
        return [
            Warning(
                "undelivered",
                _(
                    "%(amount)s VND raised before %(cutoff)s (more than %(days)d days ago) "
                    "has not been delivered."
                )
                % {
                    "amount": _vnd(raised_before - spent),
                    "cutoff": _day(cutoff),
                    "days": UNDELIVERED_DAYS,
                },
            )
        ]
    return []


def _code_reused(programme: Programme) -> list[Warning]:
    codes = set(programme.beneficiaries.values_list("code", flat=True))
    if not codes:
        return []
    children: dict[str, set[tuple]] = defaultdict(set)
    wards: dict[str, set[str]] = defaultdict(set)
    for code, name, year, ward in Beneficiary.objects.filter(
        province_id=programme.province_id, code__in=codes
    ).values_list("code", "full_name", "birth_year", "ward__code"):
        children[code].add((fold(name), year))
        wards[code].add(ward)
    found = []
    for code in sorted(codes):
        if len(children[code]) > 1:
            found.append(
                Warning(
                    "code_reused",
                    _("The code %(code)s is used for %(n)d different children.")
                    % {"code": code, "n": len(children[code])},
                    ward=min(wards[code]),
                    plain=_("A beneficiary code is used for %(n)d different children.")
                    % {"n": len(children[code])},
                )
            )
    return found
