"""The programmes' summary (`ProgrammeTally`): recomputed in the writing transaction, verified.

Each write (a service or an import) calls `tallies_refresh` for the programmes it touched, in
its own transaction: the programme's rows are recomputed from its detail rows by three grouped
queries and replaced, so a rolled-back write leaves the figures as they were.
`tallies_verify` recomputes without writing and lists every difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from programmes.models import Beneficiary, Contribution, Delivery, Programme, ProgrammeTally

Key = tuple[int, int | None, int | None, str | None]  # programme, ward, school, month (ISO)
FIGURES = ("raised_vnd", "spent_vnd", "deliveries", "meal_days", "beneficiaries")


def _month(value) -> str | None:
    if value is None:
        return None
    return value.date().isoformat() if hasattr(value, "date") else value.isoformat()


def tallies_compute(programme_ids: Iterable[int]) -> dict[Key, dict]:
    """The summary rows of these programmes, from the detail rows: key → figures."""
    ids = list(programme_ids)
    rows: dict[Key, dict] = {}
    provinces = dict(Programme.objects.filter(pk__in=ids).values_list("pk", "province_id"))

    def row(key: Key) -> dict:
        if key not in rows:
            rows[key] = {"province_id": provinces[key[0]], **dict.fromkeys(FIGURES, 0)}
        return rows[key]

    for item in (
        Delivery.objects.filter(programme_id__in=ids)
        .annotate(m=TruncMonth("date"))
        .values("programme_id", "ward_id", "school_id", "m", "kind")
        .annotate(spent=Sum("amount_vnd"), n=Count("pk"), days=Sum("days"))
        .order_by()
    ):
        figures = row((item["programme_id"], item["ward_id"], item["school_id"], _month(item["m"])))
        figures["spent_vnd"] += item["spent"] or 0
        figures["deliveries"] += item["n"]
        if item["kind"] == "meals":
            figures["meal_days"] += item["days"] or 0
    for item in (
        Contribution.objects.filter(programme_id__in=ids)
        .annotate(m=TruncMonth("date"))
        .values("programme_id", "m")
        .annotate(raised=Sum("amount_vnd"))
        .order_by()
    ):
        if item["raised"]:
            row((item["programme_id"], None, None, _month(item["m"])))["raised_vnd"] += item[
                "raised"
            ]
    for item in (
        Beneficiary.objects.filter(programme_id__in=ids)
        .values("programme_id", "ward_id", "school_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        row((item["programme_id"], item["ward_id"], item["school_id"], None))["beneficiaries"] += (
            item["n"]
        )
    return rows


def _stored(programme_ids: Iterable[int]) -> dict[Key, dict]:
    stored: dict[Key, dict] = {}
    for tally in ProgrammeTally.objects.filter(programme_id__in=list(programme_ids)):
        key = (tally.programme_id, tally.ward_id, tally.school_id, _month(tally.month))
        stored[key] = {name: getattr(tally, name) for name in FIGURES}
    return stored


@transaction.atomic
def tallies_refresh(*, programme_ids: Iterable[int]) -> None:
    """Replace the summary rows of these programmes by a fresh computation."""
    ids = set(programme_ids)
    if not ids:
        return
    computed = tallies_compute(ids)
    ProgrammeTally.objects.filter(programme_id__in=ids).delete()
    ProgrammeTally.objects.bulk_create(
        [
            ProgrammeTally(
                programme_id=key[0],
                ward_id=key[1],
                school_id=key[2],
                month=key[3],
                **figures,
            )
            for key, figures in computed.items()
        ],
        batch_size=500,
    )


@dataclass(frozen=True)
class Difference:
    programme: str
    key: Key
    figure: str
    stored: int
    computed: int


def tallies_verify(*, programme_ids: Iterable[int] | None = None) -> list[Difference]:
    """Every figure where the stored summary differs from the detail rows."""
    programmes = Programme.objects.all()
    if programme_ids is not None:
        programmes = programmes.filter(pk__in=list(programme_ids))
    codes = dict(programmes.values_list("pk", "code"))
    computed = tallies_compute(codes)
    for figures in computed.values():
        figures.pop("province_id")
    stored = _stored(codes)
    differences = []
    for key in sorted(set(computed) | set(stored), key=str):
        for figure in FIGURES:
            a = stored.get(key, {}).get(figure, 0)
            b = computed.get(key, {}).get(figure, 0)
            if a != b:
                differences.append(Difference(codes[key[0]], key, figure, a, b))
    return differences
