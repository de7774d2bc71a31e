"""Benchmark: every journey page and API list, as each role, on the database as it is.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_hanoi \\
        .venv/bin/python bench/pages.py [--province 01] [--year 2026] [--runs 5] [--json out.json]

Load the data first, e.g. at Hanoi scale (`bench/generate_demo.sh`, or by hand: `load_divisions
--province 01`, `load_criteria --defaults`, `load_targets --defaults`, `generate_demo --province
01 --households 2200000 --seed 1`). The script adds four users (`bench-pages-<role>`, the `grant`
command) if they are missing: a province viewer and a province admin of the province, staff of
the demo ward (the ward with the most households) and an official of the ward with the most
registrations waiting for review. It writes nothing else.

Each page is requested in this process through django.test.Client (DEBUG off, server time, no
HTTP server): one warm-up, then `--runs` timed requests; a further request counts its queries
and names the slowest. The table gives the median, the ratio to the province viewer's dashboard
measured in the same run (the reference the targets are set against: ≤ 150 ms and ≤ 3× the
dashboard), the query count and the slowest query's milliseconds and first words. A page that
does not answer 200 is reported with its status and left out of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "learnsociety.settings")
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from registry.models import AdministrativeUnit, Entity, Kind  # noqa: E402
from titles.models import Registration, State  # noqa: E402

# Plain static storage: the manifest storage would refuse {% static %} without collectstatic.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def _user(username: str, role: str, unit_code: str):
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        call_command("grant", username, role, unit_code, verbosity=0)
        user = User.objects.get(username=username)
    return user


def _wards(province: AdministrativeUnit) -> tuple[AdministrativeUnit, AdministrativeUnit]:
    """The demo ward (most households) and the busiest review ward (most evaluated)."""
    top = (
        Entity.objects.filter(province=province, kind=Kind.FAMILY)
        .values("ward_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    demo = AdministrativeUnit.objects.get(pk=top["ward_id"])
    busy = (
        Registration.objects.filter(province=province, state=State.EVALUATED)
        .values("ward_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    review = AdministrativeUnit.objects.get(pk=busy["ward_id"]) if busy else demo
    return demo, review


def journeys(province: AdministrativeUnit, year: int) -> list[tuple[str, str, str]]:
    """(role, page, path) for every page and API list of the journeys."""
    demo, review = _wards(province)
    family = Entity.objects.filter(ward=demo, kind=Kind.FAMILY).order_by("pk").first()
    area = Entity.objects.filter(ward=demo, kind=Kind.COMMUNITY).order_by("pk").first()
    registration = (
        Registration.objects.filter(ward=demo, year=year, kind=Kind.FAMILY).order_by("pk").first()
    )
    w = demo.code
    pages = [
        ("viewer", "dashboard (reference)", f"/titles/dashboard/?year={year}"),
        ("viewer", "overview /", "/"),
        ("viewer", "dashboard: ward", f"/titles/dashboard/ward/{w}/?year={year}"),
        ("viewer", "families list", "/registry/families/"),
        ("viewer", "families ?q=nguyen", "/registry/families/?q=nguyen"),
        ("viewer", "citizens list", "/registry/citizens/"),
        ("viewer", "registrations list", f"/titles/registrations/?year={year}"),
        ("viewer", "sign-off overview", f"/titles/signoff/?year={year}"),
        ("viewer", "API registrations", f"/api/v1/registrations/?year={year}"),
        ("viewer", "API families ?ward=", f"/api/v1/families/?ward={w}"),
        ("viewer", "API roll-ups, wards", f"/api/v1/rollups/?year={year}&level=ward"),
        ("staff", "overview /", "/"),
        ("staff", "ward page", f"/wards/{w}/"),
        ("staff", "families list", "/registry/families/"),
        ("staff", "families ?q=nguyen", "/registry/families/?q=nguyen"),
        ("staff", "new household form", "/registry/families/new/"),
        ("staff", "registrations list", f"/titles/registrations/?year={year}"),
        ("staff", "registry import page", "/registry/import/"),
        ("staff", "registrations import page", "/titles/registrations/import/"),
        ("official", "review queue", f"/titles/review/?year={year}"),
        ("official", "decision form", f"/titles/decisions/new/?year={year}"),
        ("official", "public list", f"/titles/public-list/?year={year - 1}"),
        ("admin", "overview /", "/"),
        ("admin", "families list", "/registry/families/"),
        ("admin", "registrations list", f"/titles/registrations/?year={year}"),
    ]
    if area is not None:
        pages.append(
            ("viewer", "dashboard: area", f"/titles/dashboard/area/{area.pk}/?year={year}")
        )
    if family is not None:
        pages.append(("staff", "household page", f"/registry/families/{family.pk}/"))
    if registration is not None:
        pages += [
            ("staff", "registration page", f"/titles/registrations/{registration.pk}/"),
            ("staff", "evidence form", f"/titles/registrations/{registration.pk}/evidence/"),
        ]
    return pages


def _get(client: Client, path: str):
    return client.get(path, secure=True, HTTP_ACCEPT="text/html,application/json")


def measure(client: Client, path: str, runs: int) -> dict:
    first = _get(client, path)
    if first.status_code != 200:
        return {"status": first.status_code}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        _get(client, path)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        _get(client, path)
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]), default=None)
    return {
        "status": 200,
        "median_ms": statistics.median(times),
        "queries": len(queries.captured_queries),
        "slowest_ms": float(slowest["time"]) * 1000 if slowest else 0.0,
        "slowest_sql": " ".join(slowest["sql"].split())[:60] if slowest else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", default="01")
    parser.add_argument("--year", type=int, default=None, help="default: the latest with data")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    province = AdministrativeUnit.objects.get(
        level=AdministrativeUnit.Level.PROVINCE, code=args.province, valid_to__isnull=True
    )
    year = args.year or (
        Registration.objects.filter(province=province)
        .order_by("-year")
        .values_list("year", flat=True)
        .first()
    )
    demo, review = _wards(province)
    clients = {}
    for role, unit in (
        ("viewer", province.code),
        ("admin", province.code),
        ("staff", demo.code),
        ("official", review.code),
    ):
        client = Client()
        client.force_login(_user(f"bench-pages-{role}", role, unit))
        clients[role] = client

    results = []
    for role, page, path in journeys(province, year):
        figures = measure(clients[role], path, args.runs)
        results.append({"role": role, "page": page, "path": path, **figures})
        print(f"{role:9} {page:28} {figures.get('median_ms', 0):9.1f} ms", file=sys.stderr)

    reference = results[0].get("median_ms") or 1.0
    print(
        f"\nProvince {province.code}, year {year}, demo ward {demo.code}, review ward "
        f"{review.code}; {connection.vendor}; median of {args.runs}.\n"
    )
    print("| role | page | median ms | × dashboard | queries | slowest query |")
    print("|---|---|---:|---:|---:|---|")
    for row in results:
        if row["status"] != 200:
            print(f"| {row['role']} | {row['page']} | status {row['status']} | | | |")
            continue
        print(
            f"| {row['role']} | {row['page']} | {row['median_ms']:,.0f} | "
            f"{row['median_ms'] / reference:.1f} | {row['queries']} | "
            f"{row['slowest_ms']:,.0f} ms `{row['slowest_sql']}` |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
