"""Benchmark: a workbook of IMPORT_MAX_ROWS households imported through the web page as a job.

What a ward's staff waits for on the registry's import page, against a running server and a
real worker, as in production:

    # the data: any generated database, e.g.
    #   manage.py migrate; load_divisions --province 01; load_criteria --defaults;
    #   load_targets --defaults; generate_demo --province 01 --households 20000 --seed 1
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_hanoi SECRET_KEY=...
    DEBUG=0 SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 \\
        .venv/bin/python manage.py runserver 127.0.0.1:8000 --noreload &
        # (or gunicorn with the same settings)
    .venv/bin/python manage.py jobs_worker &   # (with `collectstatic` run once, DEBUG being off)
    .venv/bin/python bench/import_job.py [--url http://127.0.0.1:8000] [--province 01]
        [--rows 200000] [--dry-run-only]

The server must answer plain HTTP (SECURE_SSL_REDIRECT and the secure cookies off) and share
the script's database and SECRET_KEY: the script makes the user's session in the database, as
logging in does, and the session is signed with the key. It adds a user
`bench-import-staff` (the `grant` command) as staff of the demo ward (the ward with the most
households, as `generate_demo` picks it) if missing, writes a workbook of `--rows` households
of that ward (new codes `BJ<run>-<n>`, each in one of the ward's residential areas), then, as that
user over HTTP:

1. POSTs it to the import page (the dry run's job starts) and times the POST;
2. polls the job's `/jobs/<id>/progress/` once a second, timing every poll, until it finishes;
3. confirms the import of the checked file (a second job) and polls it the same way.

It prints the upload POST's time, the dry run's and the import's time (from the POST to the
poll that saw the job finished), the slowest and median poll, every distinct percentage the bar
showed (proof that it moves) and the longest it stood still, and the households written.
Unless `--dry-run-only`, the run leaves its households in the database (a second run adds new
ones).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "learnsociety.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from devtools.registry_demo import demo_ward  # noqa: E402
from jobs.models import Job, WorkerBeat  # noqa: E402
from registry.models import AdministrativeUnit, Entity, Kind  # noqa: E402

USERNAME = "bench-import-staff"
HEADER = ["Mã phường/xã", "Mã hộ", "Họ tên chủ hộ", "Số nhân khẩu", "Tổ dân phố"]
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
JOB_PATH = re.compile(r"/jobs/(\d+)/$")


def _staff(ward: AdministrativeUnit):
    User = get_user_model()
    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        call_command("grant", USERNAME, "staff", ward.code, stdout=io.StringIO())
        user = User.objects.get(username=USERNAME)
    return user


def workbook(*, ward_code: str, areas: list[str], rows: int, tag: str) -> bytes:
    """`rows` new households of the ward, as a ward's staff would write them (no formulas)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for n in range(1, rows + 1):
        sheet.append(
            [ward_code, f"BJ{tag}-{n:06d}", f"Nguyễn Văn {n}", 1 + n % 6, areas[n % len(areas)]]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _session(user, base: str) -> requests.Session:
    """An HTTP session logged in as `user` (a session made in the database, as a login makes)."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    host = base.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    session.cookies.set(
        settings.SESSION_COOKIE_NAME,
        client.cookies[settings.SESSION_COOKIE_NAME].value,
        domain=host,
    )
    return session


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, allow_redirects=False)
    if page.status_code != 200:
        sys.exit(f"GET {url} answered {page.status_code}: is the server up, on plain HTTP?")
    found = CSRF_FIELD.search(page.text)
    if found is None:
        sys.exit(f"GET {url}: no form on the page")
    return found.group(1)


def _job_of(response: requests.Response, what: str) -> int:
    found = JOB_PATH.search(response.headers.get("Location", ""))
    if response.status_code != 302 or found is None:
        sys.exit(f"{what} answered {response.status_code} without a job: {response.text[:500]}")
    return int(found.group(1))


def follow(session: requests.Session, base: str, job_id: int, started: float) -> dict:
    """Poll the job's progress once a second until it finishes: its time from `started`, each
    poll's time, and the percentages seen."""
    polls: list[float] = []
    percents: list[int] = []
    moved = started  # when the bar last moved
    still = 0.0  # the longest it stood still while the job ran
    while True:
        begin = time.perf_counter()
        state = session.get(f"{base}/jobs/{job_id}/progress/").json()
        polls.append(time.perf_counter() - begin)
        if state["percent"] is not None and (not percents or percents[-1] != state["percent"]):
            percents.append(state["percent"])
            still = max(still, begin - moved)
            moved = begin
        if state["finished"]:
            return {
                "seconds": time.perf_counter() - started,
                "polls": polls,
                "percents": percents,
                "still": still,
                "state": state["state"],
            }
        time.sleep(max(0.0, 1.0 - (time.perf_counter() - begin)))


def _print_job(name: str, run: dict) -> None:
    polls = run["polls"]
    print(
        f"{name}: {run['seconds']:.1f} s ({run['state']}); {len(polls)} polls, "
        f"max {max(polls) * 1000:.0f} ms, median {statistics.median(polls) * 1000:.0f} ms"
    )
    print(f"  percentages seen: {run['percents']}")
    print(f"  longest the bar stood still: {run['still']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--province", default="01")
    parser.add_argument("--rows", type=int, default=settings.IMPORT_MAX_ROWS)
    parser.add_argument("--dry-run-only", action="store_true", help="check the file, write nothing")
    args = parser.parse_args()
    base = args.url.rstrip("/")

    province = AdministrativeUnit.objects.get(
        level=AdministrativeUnit.Level.PROVINCE, code=args.province, valid_to__isnull=True
    )
    ward = demo_ward(province)
    if ward is None:
        sys.exit(f"Province {province.code} has no data (generate_demo).")
    areas = list(
        Entity.objects.filter(kind=Kind.COMMUNITY, ward=ward)
        .order_by("code")
        .values_list("code", flat=True)
    )
    if not areas:
        sys.exit(f"Ward {ward.code} has no residential area.")
    alive = timezone.now() - timezone.timedelta(seconds=3 * settings.JOB_HEARTBEAT_SECONDS)
    if not WorkerBeat.objects.filter(beat_at__gte=alive).exists():
        sys.exit("No job worker is running (manage.py jobs_worker).")
    session = _session(_staff(ward), base)

    tag = timezone.now().strftime("%H%M%S")
    begin = time.perf_counter()
    data = workbook(ward_code=ward.code, areas=areas, rows=args.rows, tag=tag)
    print(
        f"workbook: {args.rows:,} households of ward {ward.code} in {len(areas)} areas, "
        f"{len(data) / 1024 / 1024:.1f} MB, written in {time.perf_counter() - begin:.1f} s"
    )
    if len(data) > settings.IMPORT_MAX_BYTES:
        sys.exit("The workbook is over IMPORT_MAX_BYTES; fewer --rows.")

    page = f"{base}/registry/import/"
    token = _csrf(session, page)
    started = time.perf_counter()
    response = session.post(
        page,
        data={"csrfmiddlewaretoken": token, "step": "check", "kind": "families"},
        files={"file": (f"ho-gia-dinh-{tag}.xlsx", data)},
        headers={"Referer": page},
        allow_redirects=False,
    )
    posted = time.perf_counter() - started
    check_id = _job_of(response, "The upload")
    print(f"upload POST: {posted * 1000:.0f} ms (job {check_id})")
    check = follow(session, base, check_id, started)
    _print_job("dry run", check)
    summary = Job.objects.get(pk=check_id).result.get("summary", {})
    report = summary.get("report") or {}
    if check["state"] != Job.State.DONE or report.get("errors"):
        errors = report.get("errors") or Job.objects.get(pk=check_id).errors
        sys.exit(f"The dry run refused the file: {str(errors)[:500]}")
    if args.dry_run_only:
        return

    token = _csrf(session, page)
    started = time.perf_counter()
    response = session.post(
        page,
        data={"csrfmiddlewaretoken": token, "step": "confirm", "job": check_id},
        headers={"Referer": page},
        allow_redirects=False,
    )
    print(f"confirm POST: {(time.perf_counter() - started) * 1000:.0f} ms")
    imported = follow(session, base, _job_of(response, "The confirmation"), started)
    _print_job("import", imported)
    written = Entity.objects.filter(
        kind=Kind.FAMILY, ward=ward, code__startswith=f"BJ{tag}-"
    ).count()
    print(f"households written: {written:,} of {args.rows:,}")
    everything = check["polls"] + imported["polls"]
    print(
        f"polls in all: {len(everything)}, max {max(everything) * 1000:.0f} ms, "
        f"median {statistics.median(everything) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
