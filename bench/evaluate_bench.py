"""Benchmark: evaluating a year's family registrations on PostgreSQL, end to end.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_eval \\
        .venv/bin/python bench/evaluate_bench.py --registrations 200000 [--breakdown] [--drop]

Creates the database if it does not exist and migrates it, empties the project's tables, then
builds one province with a few wards, residential areas and N households (bulk COPY), loads the
default criteria sets and registers every household for the Learning Family title with
evidence drawn with a fixed seed (--evidence realistic, the default: households answer as
their profile makes likely, most do well on every criterion; --evidence random: every
criterion drawn on its own, so that nearly every household's evidence is distinct).

Then it times `registrations_evaluate(year=..., workers=--workers)` with a wall clock:
- fresh run 1: every registration is evaluated for the first time, and written;
- a re-evaluation right after it: the results are the same, so nothing is written;
- fresh runs 2 … --fresh: the registrations are first put back as built (states, no results,
  no events, no stored results or outcomes), so each is a first evaluation again.
The data is vacuumed and analysed after it is built and after each reset, as a registration
table is by autovacuum long before the year's evaluation. Every timed run starts after a
CHECKPOINT. Besides the wall clock it reports the CPU time of the Python processes (the
workers included) and of the whole database server, which vary less than the wall clock on a
machine shared with other work. With --breakdown, one more fresh run, in one process, times
the service's own steps (load, rules, store, write) by wrapping them, which adds a little
overhead and changes nothing else.

Django runs with DEBUG off unless DEBUG is set, as `manage.py evaluate` runs in production
(with DEBUG on Django keeps the text of every statement, a chunk's JSON document included).

Only a database whose name starts with "bench" is accepted: the bench empties it, and with
--drop drops it at the end. The data otherwise stays for inspection until the next run.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "learnsociety.settings")
os.environ.setdefault("DEBUG", "0")

YEAR = 2025
WARDS = 10
HOUSEHOLDS_PER_AREA = 170

# Boolean criteria of the family set: how often each is true.
TRUE_SHARE = {"F1a": 0.97, "F2a": 0.99, "F2b": 0.86, "F3a": 0.90, "F4b": 0.94}
# How the yes/no cells were typed (web form, spreadsheets); all are valid evidence.
YES_NO_SPELLINGS = [
    (("1", "0"), 50),
    (("có", "không"), 35),
    (("Có", "Không"), 10),
    (("yes", "no"), 5),
]
SCALES = ("F1b", "F1c", "F3b", "F4a")
MISSING_SHARE = 0.03  # a criterion left without evidence
EMPTY_SHARE = 0.02  # a household registered, no evidence entered yet
# --evidence realistic: households as the sub-associations score them. Registering is
# voluntary and about nine in ten registered households are recognised (Hanoi 2024: 89 %), so
# most do well on every criterion at once; a household's answers are drawn from its profile:
# (share of households, how much likelier a yes/no criterion is false than TRUE_SHARE says,
# weights of the whole-point scores 0-10 of each scale criterion).
PROFILES = (
    (0.55, 0.3, {10: 55, 9: 30, 8: 12, 7: 3}),
    (0.35, 1.0, {10: 15, 9: 30, 8: 30, 7: 15, 6: 7, 5: 3}),
    (0.10, 3.0, {9: 5, 8: 15, 7: 25, 6: 25, 5: 15, 4: 8, 3: 4, 2: 2, 1: 1}),
)
HALF_POINT_SHARE = 0.03  # a scale score given with a half point (typed "8,5" or "8.5")
# Community learning sessions attended in the year (F2c, met at 2): weights of 0, 1, … 12.
SESSIONS = (3, 5, 10, 14, 16, 14, 11, 8, 6, 5, 4, 2, 2)
SUBMITTED_SHARE = 0.2  # registrations already submitted (the rest are just registered)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=448)
    parser.add_argument(
        "--breakdown", action="store_true", help="a third run timing load / rules / store"
    )
    parser.add_argument(
        "--patterns",
        type=int,
        default=0,
        help="draw each household's evidence from this many entries (default: all independent)",
    )
    parser.add_argument(
        "--evidence",
        choices=sorted(EVIDENCE),
        default="realistic",
        help="how households answer (default: realistic; random: the earlier, independent draw)",
    )
    parser.add_argument(
        "--fresh", type=int, default=2, help="fresh evaluations of all registrations (default 2)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: the EVALUATE_WORKERS setting, as `manage.py evaluate`)",
    )
    parser.add_argument(
        "--chunk", type=int, default=None, help="registrations per chunk (default: the service's)"
    )
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    return parser.parse_args()


def admin_connection():
    """A connection to the server's maintenance database, from DATABASE_URL's credentials."""
    import psycopg

    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    return psycopg.connect(
        host=parts.hostname or "localhost",
        port=parts.port or 5432,
        user=parts.username or None,
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    )


def database_name() -> str:
    """The benchmark database's name; refuses any database not named bench*."""
    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    name = parts.path.lstrip("/")
    if not parts.scheme.startswith("postgres") or not name.startswith("bench"):
        sys.exit("DATABASE_URL must name a PostgreSQL database whose name starts with 'bench'.")
    return name


def ensure_database() -> str:
    name = database_name()
    with admin_connection() as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database() -> None:
    from django.db import connection

    connection.close()
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database_name()}"')


@contextmanager
def raw_cursor():
    """A psycopg cursor that Django does not log (DEBUG keeps every query's text otherwise)."""
    from django.db import connection

    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def copy_rows(table: str, columns: tuple[str, ...], rows) -> None:
    with (
        raw_cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def next_ids(table: str, n: int) -> list[int]:
    with raw_cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, n],
        )
        return [row[0] for row in cursor.fetchall()]


def empty_tables() -> None:
    from django.apps import apps

    tables = [
        model._meta.db_table
        for label in ("registry", "titles")
        for model in apps.get_app_config(label).get_models()
    ]
    with raw_cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def realistic_evidence(rng: random.Random) -> dict[str, str]:
    """--evidence realistic: one household's evidence as stored, the entered text by
    criterion, missing ones absent. Drawn from the household's profile (PROFILES)."""
    if rng.random() < EMPTY_SHARE:
        return {}
    _share, falser, scores = rng.choices(PROFILES, [p[0] for p in PROFILES])[0]
    yes, no = rng.choices(
        [spelling for spelling, _w in YES_NO_SPELLINGS], [w for _s, w in YES_NO_SPELLINGS]
    )[0]
    evidence = {
        code: yes if rng.random() >= (1 - share) * falser else no
        for code, share in TRUE_SHARE.items()
    }
    for code in SCALES:
        score = rng.choices(list(scores), list(scores.values()))[0]
        if rng.random() < HALF_POINT_SHARE:
            evidence[code] = f"{min(score, 9)}{rng.choice(',.')}5"
        else:
            evidence[code] = str(score)
    evidence["F2c"] = str(rng.choices(range(len(SESSIONS)), SESSIONS)[0])
    return {code: text for code, text in evidence.items() if rng.random() >= MISSING_SHARE}


def random_evidence(rng: random.Random) -> dict[str, str]:
    """--evidence random: each criterion drawn on its own (scales from a wide normal
    distribution, with half points): nearly every household's evidence is distinct."""
    if rng.random() < EMPTY_SHARE:
        return {}
    yes, no = rng.choices(
        [spelling for spelling, _w in YES_NO_SPELLINGS], [w for _s, w in YES_NO_SPELLINGS]
    )[0]
    evidence = {code: yes if rng.random() < share else no for code, share in TRUE_SHARE.items()}
    for code in SCALES:
        score = min(10.0, max(0.0, round(rng.gauss(8.6, 1.4) * 2) / 2))
        if score.is_integer():
            evidence[code] = str(int(score))
        else:  # a half point, typed with a comma or a dot
            evidence[code] = f"{score:.1f}".replace(".", rng.choice(",."))
    evidence["F2c"] = str(rng.choices(range(9), [4, 6, 14, 20, 20, 14, 10, 7, 5])[0])
    return {code: text for code, text in evidence.items() if rng.random() >= MISSING_SHARE}


EVIDENCE = {"realistic": realistic_evidence, "random": random_evidence}


def build(n: int, seed: int, patterns: int = 0, evidence_kind: str = "realistic") -> dict:
    """One province, WARDS wards, an area per ~170 households, n households, n registrations.

    Each household's evidence is drawn on its own by EVIDENCE[evidence_kind]; with `patterns`,
    it is one of that many entries drawn that way instead.
    """
    from django.db import transaction
    from django.utils import timezone

    from registry.models import AdministrativeUnit, Kind
    from registry.text import fold
    from titles.services.criteria import criteria_load_defaults

    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        province = AdministrativeUnit.objects.create(
            level=AdministrativeUnit.Level.PROVINCE,
            code="01",
            name="Thành phố Hà Nội",
            division_type="thành phố trung ương",
        )
        wards = [
            AdministrativeUnit.objects.create(
                level=AdministrativeUnit.Level.WARD,
                code=f"{90001 + i}",
                name=f"Phường Thử {i + 1}",
                division_type="phường",
                parent=province,
            )
            for i in range(WARDS)
        ]
        entity_columns = (
            "id", "kind", "province_id", "ward_id", "code", "name", "search_text",
            "created_at", "updated_at",
        )  # fmt: skip

        # Residential areas, spread evenly over the wards.
        area_count = max(WARDS, n // HOUSEHOLDS_PER_AREA)
        area_ids = next_ids("registry_entity", area_count)
        area_ward = [wards[i % WARDS] for i in range(area_count)]
        copy_rows(
            "registry_entity",
            entity_columns,
            (
                (pk, Kind.COMMUNITY, province.pk, ward.pk, f"TDP{i:04d}", f"Tổ dân phố {i}",
                 f"to dan pho {i} tdp{i:04d}", now, now)
                for i, (pk, ward) in enumerate(zip(area_ids, area_ward, strict=True), 1)
            ),
        )  # fmt: skip
        copy_rows(
            "registry_community",
            ("entity_id", "area_type"),
            ((pk, "to_dan_pho") for pk in area_ids),
        )

        # Households, each in a random area (and so in that area's ward).
        surnames = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ"]
        given = ["Văn An", "Thị Bình", "Đức Cường", "Thị Dung", "Minh Hải", "Thu Hà", "Quang Huy"]
        family_ids = next_ids("registry_entity", n)
        homes = [rng.randrange(area_count) for _ in range(n)]
        heads = [f"{rng.choice(surnames)} {rng.choice(given)}" for _ in range(n)]
        copy_rows(
            "registry_entity",
            entity_columns,
            (
                (pk, Kind.FAMILY, province.pk, area_ward[a].pk, f"HGD{i:07d}", head,
                 fold(f"{head} HGD{i:07d}"), now, now)
                for i, (pk, a, head) in enumerate(zip(family_ids, homes, heads, strict=True), 1)
            ),
        )  # fmt: skip
        copy_rows(
            "registry_family",
            ("entity_id", "members", "community_id", "clan_id"),
            (
                (pk, rng.randint(1, 8), area_ids[a], None)
                for pk, a in zip(family_ids, homes, strict=True)
            ),
        )

        criteria_load_defaults()

        if patterns:
            pool = [EVIDENCE[evidence_kind](rng) for _ in range(patterns)]
            evidence = [rng.choice(pool) for _ in range(n)]
        else:
            evidence = [EVIDENCE[evidence_kind](rng) for _ in range(n)]
        states = ["submitted" if rng.random() < SUBMITTED_SHARE else "registered" for _ in range(n)]
        copy_rows(
            "titles_registration",
            (
                "entity_id", "year", "kind", "ward_id", "province_id", "state", "outstanding",
                "evidence", "evidence_self_assessed", "rejection_reason", "version",
                "created_at", "updated_at",
            ),
            (
                (pk, YEAR, Kind.FAMILY, area_ward[a].pk, province.pk, state, False,
                 json.dumps(ev, ensure_ascii=False), False, "", 1, now, now)
                for pk, a, state, ev in zip(family_ids, homes, states, evidence, strict=True)
            ),
        )  # fmt: skip
    with raw_cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_initial_state")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_initial_state AS SELECT id, state FROM titles_registration"
        )
        # Registrations are entered over the year and autovacuum has long visited them when
        # the evaluation runs; a table just filled by COPY has not been (no hint bits, no
        # visibility map, and autovacuum would start on it in the middle of the first run).
        cursor.execute("VACUUM ANALYZE")
    signatures = {tuple(sorted(ev.items())) for ev in evidence}
    return {"areas": area_count, "distinct_evidence": len(signatures)}


def reset_registrations() -> None:
    """Put the registrations back as built: their states, no result, no event, no stored
    result or outcome. Then VACUUM ANALYZE, so the next run is a fresh evaluation of the same
    data again."""
    with raw_cursor() as cursor:
        cursor.execute(
            """UPDATE titles_registration AS r SET state = b.state, points = NULL,
                   passed = NULL, eval_outstanding = NULL, evaluation_id = NULL,
                   evaluated_at = NULL
               FROM bench_initial_state AS b WHERE b.id = r.id"""
        )
        cursor.execute("TRUNCATE titles_registrationevent")
        # No registration points at a stored result any more. The service never deletes one,
        # so `evaluation_id` has no index, and the foreign-key check would scan the table once
        # per row deleted: the bench skips it (replica mode, for this statement only).
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM titles_evaluationresult")
        cursor.execute("DELETE FROM titles_criterionoutcome")
        cursor.execute("COMMIT")
        cursor.execute(
            "VACUUM ANALYZE titles_registration, titles_registrationevent, "
            "titles_evaluationresult, titles_criterionoutcome"
        )


def checkpoint() -> None:
    """Every timed run starts right after a checkpoint, so each pays the same full-page
    writes."""
    with raw_cursor() as cursor:
        cursor.execute("CHECKPOINT")


def stored_results() -> tuple[int, int, int]:
    """(distinct results stored, distinct criterion outcomes, registrations pointing at a
    result)."""
    with raw_cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM titles_evaluationresult),"
            " (SELECT count(*) FROM titles_criterionoutcome),"
            " (SELECT count(*) FROM titles_registration WHERE evaluation_id IS NOT NULL)"
        )
        return cursor.fetchone()


def _proc_stat(path: Path) -> tuple[str, list[str]] | None:
    """(command name, the fields after it) of one /proc/PID/stat, or None if it is gone."""
    try:
        stat = path.read_text()
    except OSError:
        return None
    return stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1].split()


def backend_cpu_seconds() -> float | None:
    """CPU time of this connection's PostgreSQL backend so far, if it runs on this machine."""
    from django.db import connection

    connection.ensure_connection()
    stat = _proc_stat(Path(f"/proc/{connection.connection.info.backend_pid}/stat"))
    if stat is None:
        return None
    fields = stat[1]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def server_cpu_seconds() -> float | None:
    """CPU time of the whole PostgreSQL server so far, if it runs on this machine: each live
    server process's, plus what its ended processes spent (the postmaster's reaped children),
    so the backends of worker connections closed during a run are counted. Includes the
    server's own background work (WAL writer, checkpointer, autovacuum)."""
    processes = {}
    for path in Path("/proc").glob("[0-9]*/stat"):
        stat = _proc_stat(path)
        if stat is not None and stat[0] == "postgres":
            processes[int(path.parent.name)] = stat[1]
    if not processes:
        return None
    ticks = 0
    for fields in processes.values():
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
        if int(fields[1]) not in processes:  # the postmaster: its parent is no server process
            ticks += int(fields[13]) + int(fields[14])  # cutime + cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def python_cpu_seconds() -> float:
    """CPU time of this process and of its ended children (the evaluation's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed_run(label: str, workers: int) -> dict:
    """One end-to-end evaluation: wall clock, and the CPU the Python processes and the
    database server spent (on a shared machine, CPU seconds vary less than the wall clock)."""
    from titles.services.evaluate import registrations_evaluate

    server_before = server_cpu_seconds()
    cpu_before = python_cpu_seconds()
    started = time.perf_counter()
    run = registrations_evaluate(year=YEAR, workers=workers)
    seconds = time.perf_counter() - started
    python_cpu = python_cpu_seconds() - cpu_before
    server_after = server_cpu_seconds()
    database_cpu = None if server_before is None else server_after - server_before
    rows = len(run.rows)
    figures = {
        "run": label,
        "evaluated": rows,
        "seconds": round(seconds, 2),
        "per_second": round(rows / seconds),
        "python_cpu": round(python_cpu, 2),
        "database_cpu": None if database_cpu is None else round(database_cpu, 2),
        "passed": sum(r.passed for r in run.rows),
        "outstanding": sum(r.outstanding for r in run.rows),
        "missing_some": sum(bool(r.missing) for r in run.rows),
        "changed_meanwhile": run.changed_meanwhile,
    }
    print(
        f"{label}: {rows:,} evaluations in {seconds:.2f} s = {rows / seconds:,.0f}/s; "
        f"CPU: Python {python_cpu:.2f} s, database server "
        f"{'n/a' if database_cpu is None else f'{database_cpu:.2f} s'}\n"
        f"  {figures['passed']:,} passed, {figures['outstanding']:,} outstanding, "
        f"{figures['missing_some']:,} with missing evidence, "
        f"{run.changed_meanwhile} changed meanwhile"
    )
    return figures


# The service's steps, by the name of the function in titles.services.evaluate that does it.
STEPS = {
    "load": ("_load_chunk",),
    "rules": ("_evaluate_rows",),
    "store results": ("_store_results",),
    "write rows and events": ("_write_results",),
}


def breakdown_run() -> None:
    """Run once more, in one process, with each step wrapped in a timer (wall clock, and the
    CPU of this process and of its database backend); what is left is the loop itself."""
    from titles.services import evaluate as service

    wall: collections.Counter = collections.Counter()
    python: collections.Counter = collections.Counter()
    database: collections.Counter = collections.Counter()
    originals = {}

    def timer(step: str, function):
        def timed(*args, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            backend = backend_cpu_seconds() or 0.0
            try:
                return function(*args, **kwargs)
            finally:
                wall[step] += time.perf_counter() - started
                python[step] += time.process_time() - cpu
                database[step] += (backend_cpu_seconds() or 0.0) - backend

        return timed

    for step, names in STEPS.items():
        for name in names:
            if hasattr(service, name):
                originals[name] = getattr(service, name)
                setattr(service, name, timer(step, originals[name]))
    if not originals:
        print("breakdown: the service has none of the expected steps; skipped")
        return
    try:
        figures = timed_run("breakdown run (timers on, one process)", workers=1)
    finally:
        for name, function in originals.items():
            setattr(service, name, function)
    for step in STEPS:
        print(
            f"  {step:<14} {wall[step]:6.2f} s wall, Python CPU {python[step]:5.2f} s, "
            f"database CPU {database[step]:5.2f} s"
        )
    other = figures["seconds"] - sum(wall.values())
    other_python = figures["python_cpu"] - sum(python.values())
    other_database = (figures["database_cpu"] or 0) - sum(database.values())
    print(
        f"  {'other':<14} {other:6.2f} s wall, Python CPU {other_python:5.2f} s, database CPU "
        f"{other_database:5.2f} s (the loop, overrides, output rows, commits; the server's "
        "background processes)"
    )


def main() -> None:
    args = parse_args()
    name = ensure_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from titles.services import evaluate as service

    call_command("migrate", verbosity=0)
    if args.workers is None:
        args.workers = settings.EVALUATE_WORKERS
    if args.chunk is not None:
        service.CHUNK = args.chunk
    print(
        f"database {name} (PostgreSQL {connection.pg_version // 10000}), "
        f"DEBUG={settings.DEBUG}, chunk {service.CHUNK:,}, {args.workers} worker "
        f"process(es), {os.cpu_count()} CPUs"
    )
    empty_tables()
    started = time.perf_counter()
    built = build(args.registrations, args.seed, args.patterns, args.evidence)
    print(
        f"built {args.registrations:,} households in {built['areas']:,} areas of {WARDS} wards, "
        f"{args.registrations:,} family registrations for {YEAR} "
        f"({built['distinct_evidence']:,} distinct evidence entries as typed) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    fresh = []
    for i in range(1, args.fresh + 1):
        if i > 1:
            reset_registrations()
        checkpoint()
        connection.queries_log.clear()
        fresh.append(
            timed_run(f"fresh run {i} (every registration evaluated and written)", args.workers)
        )
        if i == 1:
            results, outcomes, pointing = stored_results()
            print(
                f"  {results:,} distinct results ({outcomes:,} distinct criterion outcomes) "
                f"stored for {pointing:,} registrations"
            )
            checkpoint()
            connection.queries_log.clear()
            timed_run("re-evaluation (nothing changed: nothing written)", args.workers)
    rates = sorted(run["per_second"] for run in fresh)
    print(
        f"fresh runs: median {statistics.median(rates):,.0f}/s "
        f"(runs: {', '.join(f'{r:,}' for r in rates)}); Python CPU median "
        f"{statistics.median(run['python_cpu'] for run in fresh):.2f} s, database backend CPU "
        f"median {statistics.median(run['database_cpu'] or 0 for run in fresh):.2f} s"
    )
    if args.breakdown:
        reset_registrations()
        checkpoint()
        connection.queries_log.clear()
        breakdown_run()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the Python process: {peak:,.0f} MiB")
    if args.drop:
        drop_database()
        print(f"database {name} dropped")


if __name__ == "__main__":
    main()
