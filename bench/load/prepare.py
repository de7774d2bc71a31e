"""Accounts for the load test, made with the `grant` command; run by run.sh before the server.

    python bench/load/prepare.py --province 01 --staff 20 --officials 15 --viewers 15 \
        --wards 10 --out accounts.json

Staff and officials are spread over the province's WARDS communes/wards with the most
registrations waiting for review this year (so the officials have a queue), round-robin, so
several staff and officials share a ward as they would; viewers cover the province. Users are
named load-<role>-NN and get a new random password on every run (never a published one). Refuses,
changing nothing, when the province has no open registration window this year (staff could not
register) or nothing to review.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "learnsociety.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from programmes.models import Programme  # noqa: E402
from registry.models import AdministrativeUnit, Entity, Kind  # noqa: E402
from titles.models import Registration, RegistrationWindow, State  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--province", default="01")
    parser.add_argument("--staff", type=int, default=20)
    parser.add_argument("--officials", type=int, default=15)
    parser.add_argument("--viewers", type=int, default=15)
    parser.add_argument("--wards", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    year = timezone.localdate().year
    province = AdministrativeUnit.objects.filter(
        level=AdministrativeUnit.Level.PROVINCE, code=args.province, valid_to__isnull=True
    ).first()
    if province is None:
        sys.exit(f"Province {args.province} is not loaded (load_divisions, generate_demo).")
    today = timezone.localdate()
    if not RegistrationWindow.objects.filter(
        province=province, year=year, opens_on__lte=today, closes_on__gte=today
    ).exists():
        sys.exit(f"No open registration window for {year} in province {args.province}.")
    wards = list(
        Registration.objects.filter(province=province, year=year, state=State.EVALUATED)
        .values("ward__code")
        .annotate(n=Count("pk"))
        .order_by("-n", "ward__code")[: args.wards]
    )
    if not wards:
        sys.exit(f"Nothing to review in {year} in province {args.province} (generate_demo).")
    codes = [w["ward__code"] for w in wards]

    accounts: dict[str, list[dict]] = {"staff": [], "official": [], "viewer": []}
    plan = [
        ("staff", args.staff, lambda i: codes[i % len(codes)]),
        ("official", args.officials, lambda i: codes[i % len(codes)]),
        ("viewer", args.viewers, lambda i: province.code),
    ]
    for role, count, unit_of in plan:
        for i in range(count):
            username = f"load-{role}-{i + 1:02d}"
            password = secrets.token_urlsafe(18)
            unit = unit_of(i)
            call_command("grant", username, role, unit, password=password, stdout=io.StringIO())
            accounts[role].append(
                {
                    "username": username,
                    "password": password,
                    "ward": unit if role != "viewer" else None,
                }
            )
    args.out.write_text(
        json.dumps(
            {
                "province": province.code,
                "year": year,
                "wards": wards,
                "accounts": accounts,
                # For the logged-out users: the programmes whose public page they open.
                "programmes": list(
                    Programme.objects.filter(province=province)
                    .order_by("code")
                    .values_list("code", flat=True)
                ),
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    households = Entity.objects.filter(province=province, kind=Kind.FAMILY).count()
    registrations = Registration.objects.filter(province=province, year=year).count()
    print(
        f"Province {province.code}: {households} households, {registrations} registrations "
        f"in {year}."
    )
    queues = ", ".join(f"{w['ward__code']}: {w['n']}" for w in wards)
    print(
        f"{args.staff} staff, {args.officials} officials over {len(codes)} wards (waiting for "
        f"review: {queues}); {args.viewers} viewers of province {province.code}; year {year}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
