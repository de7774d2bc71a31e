"""Benchmark: every journey page and API list, as each role, on the database as it is.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_hanoi \\
        .venv/bin/python bench/pages.py [--province 01] [--year 2026] [--runs 5] [--json out.json]
        [--only REGEX] [--skip REGEX]     (on "role: page", e.g. --skip 'certificates')

Load the data first, e.g. at Hanoi scale (`bench/generate_demo.sh`, or by hand: `load_divisions
--province 01`, `load_criteria --defaults`, `load_targets --defaults`, `generate_demo --province
01 --households 2200000 --seed 1`). The script adds four users (`bench-pages-<role>`, the `grant`
command) if they are missing: a province viewer and a province admin of the province, staff of
the demo ward (the ward with the most households, as `generate_demo` picks it) and an official
of the ward with the most registrations waiting for review. It writes nothing else: every page
is a GET, the mass actions' confirmation pages included (approve what passed, issue a decision,
sign off, register a whole area, evaluate now), and logging the four users in (their sessions,
last login and audit entries) is all the run adds. The one page that writes on a GET, a
decision's certificates (printing numbers those not numbered yet, the single certificate's page
too), is measured in a transaction rolled back afterwards: its timed requests are reprints.

The pages, per role (`journeys` lists them): the province viewer's dashboard tabs (titles,
groups and digital literacy, programmes) with and without `?year=` and their drill-downs, the
registry lists (with `?q=` and `?ward=`), a household page with its titles panel, groups and
programmes, the registrations list (filtered, `?q=`), the sign-off and reports pages and every
API list (`?page=` and `?cursor=` where the list has them); the province admin's lists, audit
log and programme forms; the demo ward's staff entering households and registrations, slips of
a residential area and of one registration, imports, groups; the review ward's official on the
queue (filtered, `?q=`), the confirmations, decisions and certificates, the sign-off; logged out,
the slip code page and a programme's public page. A page whose object the data lacks (a
decision, a group, a programme, a job) is reported as "no data". A job's page belongs to the
user who started the job, which takes a POST: it is "no data" unless the bench official owns one.

Each page is requested in this process through django.test.Client (DEBUG off, server time, no
HTTP server): one warm-up, then `--runs` timed requests; a further request counts its queries
and names the slowest. The table gives the median, the ratio to the province viewer's dashboard
measured in the same run (the reference the targets are set against: ≤ 150 ms and ≤ 3× the
dashboard), the median CPU time the request took in this process (Django's share of the machine
under load: the database's is apart), the query count and the slowest query's milliseconds and
first words. A page that does not answer 200 is reported with its status and left out of the
figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

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
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from community.models import Group  # noqa: E402
from devtools.registry_demo import demo_ward  # noqa: E402
from jobs.models import Job  # noqa: E402
from programmes.models import Programme  # noqa: E402
from registry.models import AdministrativeUnit, Entity, Kind  # noqa: E402
from titles.models import Decision, Registration, State  # noqa: E402

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
    """The demo ward (most households, as `generate_demo` and `demo_accounts` pick it) and the
    busiest review ward (most registrations evaluated and waiting for review)."""
    demo = demo_ward(province)
    if demo is None:
        sys.exit(f"Province {province.code} has no data (generate_demo).")
    busy = (
        Registration.objects.filter(province=province, state=State.EVALUATED)
        .values("ward_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    review = AdministrativeUnit.objects.get(pk=busy["ward_id"]) if busy else demo
    return demo, review


def _pk(obj) -> int | None:
    return obj.pk if obj is not None else None


def _next_cursor(client: Client, path: str) -> str | None:
    """The `next` link of the first cursor page of an API list (its path and query)."""
    response = _get(client, path)
    if response.status_code != 200:
        return None
    following = response.json().get("next")
    if not following:
        return None
    parts = urlsplit(following)
    return f"{parts.path}?{parts.query}"


def journeys(
    province: AdministrativeUnit, year: int, clients: dict[str, Client]
) -> list[tuple[str, str, str | None]]:
    """(role, page, path) for every page and API list of the journeys, GET only (nothing here
    writes); path None when the demo data has no object for the page ("no data")."""
    demo, review = _wards(province)
    w, r = demo.code, review.code
    families = Entity.objects.filter(ward=demo, kind=Kind.FAMILY)
    # The household page with a titles panel: a family registered this year.
    registered = (
        Registration.objects.filter(ward=demo, year=year, kind=Kind.FAMILY)
        .order_by("pk")
        .values_list("entity_id", flat=True)
        .first()
    )
    family = families.filter(pk=registered).first() or families.order_by("pk").first()
    area = (
        Entity.objects.filter(ward=demo, kind=Kind.COMMUNITY)
        .annotate(n=Count("community__families"))
        .order_by("-n", "pk")
        .first()
    )
    registration = (
        Registration.objects.filter(ward=demo, year=year, kind=Kind.FAMILY).order_by("pk").first()
    )
    evaluated = (
        Registration.objects.filter(ward=review, year=year, state=State.EVALUATED)
        .order_by("pk")
        .first()
    )
    decision = (
        Decision.objects.filter(ward=review)
        .annotate(n=Count("registrations"))
        .order_by("-year", "-n")
        .first()
    )
    recognised = (
        Registration.objects.filter(decision=decision).order_by("pk").first() if decision else None
    )
    group = (
        Group.objects.filter(ward=demo).annotate(n=Count("members")).order_by("-n", "pk").first()
    )
    programme = Programme.objects.filter(province=province).order_by("code").first()
    # A job's page is its owner's only; the bench users start none (that would be a POST).
    job = Job.objects.filter(owner__username="bench-pages-official").order_by("-pk").first()
    cursor = _next_cursor(clients["viewer"], f"/api/v1/registrations/?year={year}&cursor=")
    y = f"year={year}"
    pages: list[tuple[str, str, str | None]] = [
        # The province viewer: the dashboard's tabs and drill-downs, the lists, the API.
        ("viewer", "dashboard (reference)", f"/titles/dashboard/?{y}"),
        ("viewer", "dashboard, no ?year=", "/titles/dashboard/"),
        ("viewer", "overview /", "/"),
        ("viewer", "dashboard: ward", f"/titles/dashboard/ward/{w}/?{y}"),
        (
            "viewer",
            "dashboard: area",
            area and f"/titles/dashboard/area/{area.pk}/?{y}",
        ),
        ("viewer", "groups tab", f"/groups/dashboard/?{y}"),
        ("viewer", "groups tab, no ?year=", "/groups/dashboard/"),
        ("viewer", "groups tab: ward", f"/groups/dashboard/wards/{w}/?{y}"),
        ("viewer", "programmes tab", "/programmes/dashboard/"),
        (
            "viewer",
            "programmes tab: ward",
            programme and f"/programmes/p/{programme.code}/wards/{w}/",
        ),
        ("viewer", "groups list", "/groups/"),
        ("viewer", "group page", group and f"/groups/{group.pk}/"),
        ("viewer", "programmes list", "/programmes/"),
        ("viewer", "programme page", programme and f"/programmes/p/{programme.code}/"),
        ("viewer", "contributions list", "/programmes/contributions/"),
        ("viewer", "deliveries list", "/programmes/deliveries/"),
        ("viewer", "families list", "/registry/families/"),
        ("viewer", "families ?q=nguyen", "/registry/families/?q=nguyen"),
        ("viewer", "families ?ward=", f"/registry/families/?ward={w}"),
        ("viewer", "citizens list", "/registry/citizens/"),
        ("viewer", "citizens ?q=nguyen", "/registry/citizens/?q=nguyen"),
        ("viewer", "areas list", "/registry/communities/"),
        ("viewer", "areas ?q=to", "/registry/communities/?q=to"),
        ("viewer", "clans list", "/registry/clans/"),
        ("viewer", "clans ?q=nguyen", "/registry/clans/?q=nguyen"),
        ("viewer", "units list", "/registry/units/"),
        ("viewer", "units ?q=truong", "/registry/units/?q=truong"),
        ("viewer", "household page", family and f"/registry/families/{family.pk}/"),
        ("viewer", "registrations list", f"/titles/registrations/?{y}"),
        ("viewer", "registrations ?q=nguyen", f"/titles/registrations/?{y}&q=nguyen"),
        (
            "viewer",
            "registrations, filtered",
            f"/titles/registrations/?{y}&kind=family&state=evaluated&ward={w}",
        ),
        ("viewer", "sign-off overview", f"/titles/signoff/?{y}"),
        ("viewer", "ward sign-off page", f"/titles/signoff/{w}/{year}/"),
        ("viewer", "reports page", "/titles/reports/choose/"),
        ("viewer", "API registrations", f"/api/v1/registrations/?{y}"),
        ("viewer", "API registrations ?page=2", f"/api/v1/registrations/?{y}&page=2"),
        ("viewer", "API registrations ?cursor=", f"/api/v1/registrations/?{y}&cursor="),
        ("viewer", "API registrations, 2nd cursor", cursor),
        ("viewer", "API roll-ups, wards", f"/api/v1/rollups/?{y}&level=ward"),
        ("viewer", "API roll-ups, areas ?page=2", f"/api/v1/rollups/?{y}&level=community&page=2"),
        ("viewer", "API families ?ward=", f"/api/v1/families/?ward={w}"),
        ("viewer", "API families ?page=2", "/api/v1/families/?page=2"),
        ("viewer", "API citizens", "/api/v1/citizens/"),
        ("viewer", "API communities", "/api/v1/communities/"),
        ("viewer", "API clans", "/api/v1/clans/"),
        ("viewer", "API units", "/api/v1/units/"),
        ("viewer", "API groups", "/api/v1/groups/"),
        ("viewer", "API activities", "/api/v1/activities/"),
        ("viewer", "API programmes", "/api/v1/programmes/"),
        # The province admin: the same lists, the audit log and the ward's sign-off.
        ("admin", "overview /", "/"),
        ("admin", "dashboard", f"/titles/dashboard/?{y}"),
        ("admin", "families list", "/registry/families/"),
        ("admin", "families ?q=nguyen", "/registry/families/?q=nguyen"),
        ("admin", "registrations list", f"/titles/registrations/?{y}"),
        ("admin", "sign-off overview", f"/titles/signoff/?{y}"),
        ("admin", "audit log", "/audit/"),
        ("admin", "programmes list", "/programmes/"),
        ("admin", "new programme form", "/programmes/new/"),
        ("admin", "beneficiaries list", "/programmes/beneficiaries/"),
        ("admin", "API beneficiaries", "/api/v1/beneficiaries/"),
        # Staff of the demo ward: households, registrations, slips, groups.
        ("staff", "overview /", "/"),
        ("staff", "ward page", f"/wards/{w}/"),
        ("staff", "families list", "/registry/families/"),
        ("staff", "families ?q=nguyen", "/registry/families/?q=nguyen"),
        ("staff", "new household form", "/registry/families/new/"),
        ("staff", "area search ?q=to", f"/registry/communities/search/?ward={w}&q=to"),
        ("staff", "clan search ?q=nguyen", f"/registry/clans/search/?ward={w}&q=nguyen"),
        ("staff", "household page", family and f"/registry/families/{family.pk}/"),
        ("staff", "household edit form", family and f"/registry/families/{family.pk}/edit/"),
        ("staff", "citizens ?q=nguyen", "/registry/citizens/?q=nguyen"),
        ("staff", "registrations list", f"/titles/registrations/?{y}"),
        ("staff", "registrations ?q=nguyen", f"/titles/registrations/?{y}&q=nguyen"),
        (
            "staff",
            "registrations of an area",
            area and f"/titles/registrations/?{y}&area={area.pk}&state=registered",
        ),
        (
            "staff",
            "registration form",
            family and f"/titles/registrations/new/?entity={family.pk}",
        ),
        ("staff", "registration page", _path("/titles/registrations/{}/", registration)),
        ("staff", "evidence form", _path("/titles/registrations/{}/evidence/", registration)),
        (
            "staff",
            "staff slip (self link)",
            _path("/titles/registrations/{}/self-link/", registration),
        ),
        ("staff", "area slip sheet", area and f"/titles/registrations/areas/{area.pk}/slips/?{y}"),
        (
            "staff",
            "confirm: register an area",
            area and f"/titles/registrations/register-area/?{y}&area={area.pk}",
        ),
        ("staff", "registry import page", "/registry/import/"),
        ("staff", "registrations import page", "/titles/registrations/import/"),
        ("staff", "groups list", "/groups/"),
        ("staff", "group page", group and f"/groups/{group.pk}/"),
        ("staff", "new group form", "/groups/new/"),
        ("staff", "activity form", group and f"/groups/{group.pk}/activities/new/"),
        ("staff", "programmes list", "/programmes/"),
        ("staff", "beneficiaries list", "/programmes/beneficiaries/"),
        ("staff", "API registrations", f"/api/v1/registrations/?{y}"),
        ("staff", "API families", "/api/v1/families/"),
        # An official of the busiest review ward: the queue, its actions' confirmations (GET
        # only), decisions, certificates, the sign-off.
        ("official", "review queue", f"/titles/review/?{y}"),
        ("official", "review queue, ward", f"/titles/review/?{y}&ward={r}"),
        (
            "official",
            "review queue, filtered",
            f"/titles/review/?{y}&ward={r}&state=evaluated&result=passed&kind=family",
        ),
        ("official", "review queue ?q=nguyen", f"/titles/review/?{y}&ward={r}&q=nguyen"),
        ("official", "registration to review", _path("/titles/registrations/{}/", evaluated)),
        ("official", "confirm: evaluate now", f"/titles/review/evaluate/?ward={r}&{y}"),
        (
            "official",
            "confirm: approve all passed",
            f"/titles/review/approve-passed/?ward={r}&{y}&scope=all",
        ),
        ("official", "confirm: issue a decision", f"/titles/decisions/new/?ward={r}&{y}"),
        ("official", "ward sign-off page", f"/titles/signoff/{r}/{year}/"),
        ("official", "confirm: sign off", f"/titles/signoff/{r}/{year}/sign-off/"),
        ("official", "decision page", _path("/titles/decisions/{}/", decision)),
        (
            "official",
            "certificates of a decision",
            _path("/titles/decisions/{}/certificates/", decision),
        ),
        ("official", "certificate", _path("/titles/registrations/{}/certificate/", recognised)),
        ("official", "public list", f"/titles/public-list/?year={year - 1}&ward={r}"),
        ("official", "jobs page", _path("/jobs/{}/", job)),
        # Logged out: the household's short-code page and a programme's public page.
        ("anonymous", "login page", "/accounts/login/"),
        ("anonymous", "slip code page /titles/s/", "/titles/s/"),
        (
            "anonymous",
            "programme public page",
            programme and f"/programmes/{programme.code}/public/",
        ),
    ]
    return pages


def _path(template: str, obj) -> str | None:
    return template.format(obj.pk) if obj is not None else None


def _get(client: Client, path: str):
    return client.get(path, secure=True, HTTP_ACCEPT="text/html,application/json")


# Pages that write on their first view: printing a decision's certificates (or one of them)
# numbers those that have none yet. They are measured in a transaction rolled back afterwards,
# so the timed requests are reprints and the database is left as it was.
WRITES_ON_FIRST_VIEW = ("/certificate/", "/certificates/")


def measure(client: Client, path: str, runs: int) -> dict:
    if not path.endswith(WRITES_ON_FIRST_VIEW):
        return _measure(client, path, runs)
    with transaction.atomic():
        figures = _measure(client, path, runs)
        transaction.set_rollback(True)
    return figures


def _measure(client: Client, path: str, runs: int) -> dict:
    first = _get(client, path)
    if first.status_code != 200:
        return {"status": first.status_code}
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        _get(client, path)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    with CaptureQueriesContext(connection) as queries:
        _get(client, path)
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]), default=None)
    return {
        "status": 200,
        "median_ms": statistics.median(times),
        "python_ms": statistics.median(cpu),
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
    parser.add_argument(
        "--only",
        type=re.compile,
        help='measure only the pages whose "role: page" matches this regular expression '
        "(the reference dashboard is always measured)",
    )
    parser.add_argument(
        "--skip", type=re.compile, help='leave out the pages whose "role: page" matches this'
    )
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
    clients = {"anonymous": Client()}
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
    for index, (role, page, path) in enumerate(journeys(province, year, clients)):
        label = f"{role}: {page}"
        if index and (
            (args.only and not args.only.search(label)) or (args.skip and args.skip.search(label))
        ):
            continue
        figures = measure(clients[role], path, args.runs) if path else {"status": "no data"}
        results.append({"role": role, "page": page, "path": path, **figures})
        shown = f"{figures['median_ms']:9.1f} ms" if "median_ms" in figures else figures["status"]
        print(f"{role:9} {page:32} {shown}", file=sys.stderr)

    reference = results[0].get("median_ms") or 1.0
    print(
        f"\nProvince {province.code}, year {year}, demo ward {demo.code}, review ward "
        f"{review.code}; {connection.vendor}; median of {args.runs}.\n"
    )
    print("| role | page | median ms | × dashboard | Python CPU ms | queries | slowest query |")
    print("|---|---|---:|---:|---:|---:|---|")
    for row in results:
        if row["status"] != 200:
            status = row["status"] if row["status"] == "no data" else f"status {row['status']}"
            print(f"| {row['role']} | {row['page']} | {status} | | | | |")
            continue
        print(
            f"| {row['role']} | {row['page']} | {row['median_ms']:,.0f} | "
            f"{row['median_ms'] / reference:.1f} | {row['python_ms']:,.0f} | {row['queries']} | "
            f"{row['slowest_ms']:,.0f} ms `{row['slowest_sql']}` |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
