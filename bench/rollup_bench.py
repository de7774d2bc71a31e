"""Benchmark: roll-up summaries, the city dashboard and the roll-ups API on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_rollup \\
        .venv/bin/python bench/rollup_bench.py --households 200000 [--keep] [--reuse]

Setup (each step timed): drop and recreate the database, migrate, `load_divisions --province
01`, `load_targets --defaults` (so rows carry target bands and statuses), then the product's
own demo data: `generate_demo --province 01 --households N --seed 1` (each a `manage.py`
process, wall clock): the registry, last year's registrations decided (recognised under one
decision per ward and title, or rejected), this year's registered or submitted with evidence,
and the summaries. `--reuse` skips all of it and benches the database as it is.

Then, in this process (DEBUG off, server time through django.test.Client, no HTTP server):
  (a) GET /titles/dashboard/?year=Y&kind=family as a province viewer and
      GET /api/v1/rollups/?year=Y&level=ward (also with page_size=1000: the whole ward table),
      Y = last year, 5 warm-ups + 50 timed requests each; against one plain SQL GROUP BY over
      the detail tables (registry_entity, titles_registration) giving the same ward × kind
      figures, 20 runs. The GROUP BY's figures are checked equal to the summaries'.
  (b) rollup_verify(province_id=...), 3 runs (the differences must be none).
  (c) this year: 1,000 registration_approve and 1,000 decision_issue (one registration per
      decision), each with the summary upkeep and, interleaved one for one, with the upkeep
      (`rollups_count_recognized`) replaced by a no-op in this process only (measuring what the
      upkeep costs). Each call runs in its own transaction, as a request does
      (ATOMIC_REQUESTS). Then 10 + 10 decisions of 50 registrations of one ward each, with and
      without the upkeep. At the end the wards decided without upkeep are recomputed
      (`rollups_refresh`) and verified, so a kept database is exact.

Medians are the figures to quote: the machine may be shared with other work.
Only a database whose name contains "bench" is accepted; it is dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "learnsociety.settings")
os.environ["DEBUG"] = "0"
# DEBUG off serves static URLs from the collectstatic manifest, as in production: collect into a
# scratch directory (removed at the end) rather than the project's staticfiles/.
STATIC_ROOT = Path(
    os.environ.setdefault("STATIC_ROOT", str(Path(tempfile.gettempdir()) / "bench_rollup_static"))
)

PROVINCE = "01"
REQUESTS, WARMUPS, SQL_RUNS, VERIFY_RUNS, OPERATIONS = 50, 5, 20, 3, 1000
BATCHES, BATCH_SIZE = 10, 50  # (c) also: decisions of a ward's batch, each side
RUN = time.strftime("%Y%m%d%H%M%S")  # in decision numbers: a kept database may be benched again


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--operations", type=int, default=OPERATIONS)
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument(
        "--reuse", action="store_true", help="bench the database as it is (no setup)"
    )
    return parser.parse_args()


def database_url() -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or "bench" not in name:
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name contains 'bench'")
    return url, name


def admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def recreate(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(url: str, name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def timed(label: str, out: dict):
    t0 = time.perf_counter()
    yield
    out[label] = time.perf_counter() - t0
    print(f"  {label}: {out[label]:.1f} s", flush=True)


def manage(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        check=True,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout


def stats_ms(samples: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * len(ms))) - 1)]
    return {"p50": statistics.median(ms), "p95": p95, "max": ms[-1], "n": len(ms)}


def fmt(s: dict) -> str:
    return f"p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms, max {s['max']:.1f} ms (n={s['n']})"


def registration_counts(province_id: int) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT year, kind, count(*),
                      count(*) FILTER (WHERE state = 'recognized'),
                      count(*) FILTER (WHERE state = 'recognized' AND outstanding),
                      count(*) FILTER (WHERE state = 'evaluated')
               FROM titles_registration WHERE province_id = %s
               GROUP BY year, kind ORDER BY year, kind""",
            (province_id,),
        )
        return cursor.fetchall()


def entity_counts(province_id: int) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT kind, count(*) FROM registry_entity WHERE province_id = %s
               GROUP BY kind ORDER BY kind""",
            (province_id,),
        )
        return cursor.fetchall()


# --- (a) pages and API against a GROUP BY ---------------------------------------------------

GROUP_BY = """
WITH e AS (
    SELECT ward_id, kind, count(*) AS entities
    FROM registry_entity WHERE province_id = %(province)s GROUP BY ward_id, kind
), r AS (
    SELECT ward_id, kind, count(*) AS registered,
           count(*) FILTER (WHERE state = 'recognized') AS recognized,
           count(*) FILTER (WHERE state = 'recognized' AND outstanding) AS outstanding
    FROM titles_registration WHERE province_id = %(province)s AND year = %(year)s
    GROUP BY ward_id, kind
)
SELECT u.code, k.kind, coalesce(e.entities, 0), coalesce(r.registered, 0),
       coalesce(r.recognized, 0), coalesce(r.outstanding, 0)
FROM e FULL JOIN r USING (ward_id, kind)
CROSS JOIN LATERAL (SELECT coalesce(e.kind, r.kind) AS kind,
                           coalesce(e.ward_id, r.ward_id) AS ward_id) k
JOIN registry_administrativeunit u ON u.id = k.ward_id
ORDER BY u.code, k.kind
"""


def timed_requests(client, url: str) -> dict:
    for _ in range(WARMUPS):
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(REQUESTS):
        t0 = time.perf_counter()
        response = client.get(url, secure=True)
        samples.append(time.perf_counter() - t0)
        assert response.status_code == 200
    return stats_ms(samples)


def bench_reads(province_id: int, year: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from registry.models import Grant, Role
    from titles.selectors import rollup_rows_all

    viewer, _new = get_user_model().objects.get_or_create(username="bench_viewer")
    Grant.objects.update_or_create(
        user=viewer, defaults={"role": Role.VIEWER, "unit_id": province_id}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(viewer)
    out = {
        "page": timed_requests(client, f"/titles/dashboard/?year={year}&kind=family"),
        "api": timed_requests(client, f"/api/v1/rollups/?year={year}&level=ward"),
        "api_all": timed_requests(
            client, f"/api/v1/rollups/?year={year}&level=ward&page_size=1000"
        ),
    }
    for label, url in (
        ("page_queries", f"/titles/dashboard/?year={year}&kind=family"),
        ("api_queries", f"/api/v1/rollups/?year={year}&level=ward"),
    ):
        with CaptureQueriesContext(connection) as queries:
            client.get(url, secure=True)
        out[label] = len(queries)
    samples = []
    with connection.cursor() as cursor:
        for _ in range(SQL_RUNS):
            t0 = time.perf_counter()
            cursor.execute(GROUP_BY, {"province": province_id, "year": year})
            rows = cursor.fetchall()
            samples.append(time.perf_counter() - t0)
    out["group_by"] = stats_ms(samples)
    grouped = {(code, kind): tuple(v) for code, kind, *v in rows}
    summarised = {
        (row["unit_code"], row["kind"]): (
            row["entities"],
            row["registered"],
            row["recognized"],
            row["outstanding"],
        )
        for row in rollup_rows_all(year=year, level="ward")
    }
    out["same_figures"] = grouped == summarised
    out["ward_rows"] = len(summarised)
    return out


# --- (c) approvals and decisions with and without the upkeep --------------------------------


@contextmanager
def upkeep_disabled():
    """The decision's summary upkeep as a no-op, in this process only (review imported it by
    name)."""
    from titles.services import review, rollups

    original = rollups.rollups_count_recognized

    def noop(**kwargs):
        return None

    rollups.rollups_count_recognized = review.rollups_count_recognized = noop
    try:
        yield
    finally:
        rollups.rollups_count_recognized = review.rollups_count_recognized = original


def bench_writes(province_id: int, year: int, operations: int, seed: int) -> dict:
    import datetime

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from registry.models import AdministrativeUnit, Grant, Role
    from titles.models import Registration
    from titles.services.review import decision_issue, registration_approve

    official, _new = get_user_model().objects.get_or_create(username="bench_official")
    Grant.objects.update_or_create(
        user=official, defaults={"role": Role.ADMIN, "unit_id": province_id}
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT id FROM titles_registration
               WHERE province_id = %s AND year = %s AND kind = 'family'
                 AND state IN ('registered', 'submitted')""",
            (province_id, year),
        )
        ids = [r[0] for r in cursor.fetchall()]
        ids = random.Random(seed).sample(ids, 2 * operations)
        cursor.execute(
            """UPDATE titles_registration
               SET state = 'evaluated', passed = true, eval_outstanding = false,
                   evaluated_at = now(), version = version + 1
               WHERE id = ANY(%s)""",
            (ids,),
        )
        cursor.execute("ANALYZE titles_registration")
    regs = Registration.objects.in_bulk(ids)
    wards = AdministrativeUnit.objects.in_bulk({r.ward_id for r in regs.values()})
    pairs = list(zip(ids[:operations], ids[operations:], strict=True))  # (with upkeep, without)
    approve = {"on": [], "off": []}
    issue = {"on": [], "off": []}

    def run(samples, fn):
        t0 = time.perf_counter()
        with transaction.atomic():
            result = fn()
        samples.append(time.perf_counter() - t0)
        return result

    def approve_one(reg):
        return lambda: registration_approve(registration=reg, user=official)

    for a, b in pairs:
        regs[a] = run(approve["on"], approve_one(regs[a]))
        with upkeep_disabled():
            regs[b] = run(approve["off"], approve_one(regs[b]))
    date = datetime.date(year, 12, 1)
    for i, (a, b) in enumerate(pairs):
        for side, pk in (("on", a), ("off", b)):
            reg = regs[pk]

            def issue_one(reg=reg, side=side, i=i):
                return decision_issue(
                    user=official,
                    ward=wards[reg.ward_id],
                    year=year,
                    number=f"QD-BENCH-{RUN}-{side}-{i}",
                    date=date,
                    registrations=[reg],
                )

            if side == "on":
                run(issue["on"], issue_one)
            else:
                with upkeep_disabled():
                    run(issue["off"], issue_one)
    return {
        "off_wards": {regs[b].ward_id for _a, b in pairs},
        "approve_on": stats_ms(approve["on"]),
        "approve_off": stats_ms(approve["off"]),
        "issue_on": stats_ms(issue["on"]),
        "issue_off": stats_ms(issue["off"]),
        "approve_mean": (
            statistics.mean(approve["on"]) * 1000,
            statistics.mean(approve["off"]) * 1000,
        ),
        "issue_mean": (statistics.mean(issue["on"]) * 1000, statistics.mean(issue["off"]) * 1000),
    }


def bench_batches(province_id: int, year: int, batches: int, size: int, seed: int) -> dict:
    """Decisions of `size` registrations of one ward each (a ward's usual batch), `batches`
    with the upkeep and `batches` without, interleaved: the refresh is paid once per decision."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from registry.models import AdministrativeUnit
    from titles.models import Registration
    from titles.services.review import decision_issue

    official = get_user_model().objects.get(username="bench_official")
    rng = random.Random(seed + 1)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ward_id FROM titles_registration
               WHERE province_id = %s AND year = %s AND kind = 'family'
                 AND state IN ('registered', 'submitted')
               GROUP BY ward_id HAVING count(*) >= %s ORDER BY ward_id""",
            (province_id, year, size),
        )
        ward_ids = rng.sample([r[0] for r in cursor.fetchall()], 2 * batches)
    samples = {"on": [], "off": []}
    date = datetime.date(year, 12, 2)
    for i, ward_id in enumerate(ward_ids):
        side = "on" if i % 2 == 0 else "off"
        ids = list(
            Registration.objects.filter(
                ward_id=ward_id, year=year, kind="family", state__in=("registered", "submitted")
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        Registration.objects.filter(pk__in=ids).update(
            state="approved", passed=True, eval_outstanding=False
        )
        regs = list(Registration.objects.filter(pk__in=ids))
        ward = AdministrativeUnit.objects.get(pk=ward_id)
        t0 = time.perf_counter()
        with transaction.atomic():
            if side == "on":
                decision_issue(
                    user=official,
                    ward=ward,
                    year=year,
                    number=f"QD-BATCH-{RUN}-{i}",
                    date=date,
                    registrations=regs,
                )
            else:
                with upkeep_disabled():
                    decision_issue(
                        user=official,
                        ward=ward,
                        year=year,
                        number=f"QD-BATCH-{RUN}-{i}",
                        date=date,
                        registrations=regs,
                    )
        samples[side].append(time.perf_counter() - t0)
    out = {side: stats_ms(values) for side, values in samples.items()}
    out["off_wards"] = set(ward_ids[1::2])
    return out


def overhead(on: float, off: float) -> str:
    return f"{(on - off) / off * 100:+.0f}%"


def main() -> None:
    args = parse_args()
    url, name = database_url()
    setup: dict = {}
    print(f"== rollup bench: {args.households} households, province {PROVINCE}")
    if not args.reuse:
        recreate(url, name)
        with timed("migrate", setup):
            manage("migrate", "--noinput", "-v0")
        with timed("load_divisions", setup):
            manage("load_divisions", "--province", PROVINCE)
        with timed("load_targets --defaults", setup):
            manage("load_targets", "--defaults")
        with timed("generate_demo (registry, titles, summaries)", setup):
            print(
                manage(
                    "generate_demo",
                    "--province",
                    PROVINCE,
                    "--households",
                    str(args.households),
                    "--seed",
                    str(args.seed),
                )
            )
    manage("collectstatic", "--noinput", "-v0")  # not timed: a deployment step

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from registry.models import AdministrativeUnit
    from titles.services.rollups import rollup_verify, rollups_refresh

    year = timezone.localdate().year  # the demo's "this year"; last year is decided
    province_id = AdministrativeUnit.objects.get(
        code=PROVINCE, level="province", valid_to__isnull=True
    ).pk
    for kind, n in entity_counts(province_id):
        print(f"    {kind}: {n} entities")
    for row in registration_counts(province_id):
        print(
            "    {} {}: {} registrations, {} recognised, {} outstanding, {} evaluated".format(*row)
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM titles_rollup WHERE province_id = %s", [province_id])
        print(f"    {cursor.fetchone()[0]} roll-up rows")

    print(f"== (a) reads, year {year - 1}")
    reads = bench_reads(province_id, year - 1)
    print(f"  dashboard page: {fmt(reads['page'])}")
    print(f"  rollups API (first page, 100 rows): {fmt(reads['api'])}")
    print(f"  rollups API (page_size=1000, {reads['ward_rows']} rows): {fmt(reads['api_all'])}")
    print(
        f"  GROUP BY over detail: p50 {reads['group_by']['p50']:.1f} ms, "
        f"p95 {reads['group_by']['p95']:.1f} ms (n={reads['group_by']['n']})"
    )
    print(
        f"  ratio GROUP BY p50 / API p50: {reads['group_by']['p50'] / reads['api']['p50']:.1f}x; "
        f"/ page p50: {reads['group_by']['p50'] / reads['page']['p50']:.1f}x; "
        f"/ full API p50: {reads['group_by']['p50'] / reads['api_all']['p50']:.1f}x; "
        f"GROUP BY p95 / API p95: {reads['group_by']['p95'] / reads['api']['p95']:.1f}x, "
        f"/ page p95: {reads['group_by']['p95'] / reads['page']['p95']:.1f}x"
    )
    print(f"  SQL queries: page {reads['page_queries']}, API {reads['api_queries']}")
    print(f"  GROUP BY figures equal the summaries': {reads['same_figures']}")

    print("== (b) rollup_verify")
    verify = []
    for _ in range(VERIFY_RUNS):
        t0 = time.perf_counter()
        differences = rollup_verify(province_id=province_id)
        verify.append(time.perf_counter() - t0)
    print(
        f"  runs {', '.join(f'{s:.2f}' for s in verify)} s; median "
        f"{statistics.median(verify):.2f} s; differences: {len(differences)}"
    )

    print(
        f"== (c) year {year}: {args.operations} approvals and decisions, upkeep on / off "
        "(interleaved)"
    )
    writes = bench_writes(province_id, year, args.operations, args.seed)
    for op in ("approve", "issue"):
        on, off = writes[f"{op}_on"], writes[f"{op}_off"]
        mean_on, mean_off = writes[f"{op}_mean"]
        print(f"  {op} with upkeep:    {fmt(on)}, mean {mean_on:.1f} ms")
        print(f"  {op} without upkeep: {fmt(off)}, mean {mean_off:.1f} ms")
        print(
            f"  {op} overhead: p50 {overhead(on['p50'], off['p50'])}, "
            f"mean {overhead(mean_on, mean_off)}"
        )
    batches = bench_batches(province_id, year, BATCHES, BATCH_SIZE, args.seed)
    print(f"  decisions of {BATCH_SIZE} registrations (one ward each), upkeep on / off:")
    print(f"    with upkeep:    {fmt(batches['on'])}")
    print(f"    without upkeep: {fmt(batches['off'])}")
    print(
        f"    overhead: p50 {overhead(batches['on']['p50'], batches['off']['p50'])}; per "
        f"registration {batches['on']['p50'] / BATCH_SIZE:.2f} ms vs "
        f"{batches['off']['p50'] / BATCH_SIZE:.2f} ms"
    )
    differences = rollup_verify(province_id=province_id)
    stale = writes["off_wards"] | batches["off_wards"]
    print(
        f"  after (c): {len(differences)} differences (expected: in the {len(stale)} wards "
        "decided without upkeep)"
    )
    t0 = time.perf_counter()
    rollups_refresh(ward_ids=stale, years=[year])
    differences = rollup_verify(province_id=province_id)
    print(
        f"  those wards recomputed in {time.perf_counter() - t0:.1f} s (verify included): "
        f"{len(differences)} differences"
    )
    if not args.keep:
        shutil.rmtree(STATIC_ROOT, ignore_errors=True)
        drop(url, name)
        print(f"  dropped {name}")


if __name__ == "__main__":
    main()
