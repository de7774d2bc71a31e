"""Benchmark: the province-wide exports as jobs, from the reports page's POST to the job's file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_hanoi \\
        .venv/bin/python bench/exports.py [--province 01] [--year 2026] [--runs 3]

The target (scale issue): a province's exports run as background jobs that finish in under a
minute. As the province viewer `bench-pages-viewer` (the `grant` command adds it if missing, as
`bench/pages.py` does), each export is asked for as the reports page asks for it: a POST of the
report form (Django's test client, DEBUG off, the database task backend: the POST writes the job
and its task and answers with the job's page), then the job is run in this process as the worker
(`manage.py jobs_worker`) runs it (`jobs.services.run`), its file stored with it. Timed: from the
POST to the job's file written (wall and this process's CPU), median of `--runs`. The exports: the
province's workbook (every title's sheet, the summary) and the roll-up CSV at province, ward and
residential-area level. Each job and its task row are deleted afterwards: the database is left as
it was.
"""

from __future__ import annotations

import argparse
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
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from jobs import services as jobs  # noqa: E402
from jobs.models import Job, JobOutput  # noqa: E402
from registry.models import AdministrativeUnit  # noqa: E402
from titles.models import Registration  # noqa: E402

# Plain static storage: the manifest storage would refuse {% static %} without collectstatic.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EXPORTS = (
    ("workbook (XLSX)", "xlsx", "ward"),
    ("roll-up CSV, province", "csv", "province"),
    ("roll-up CSV, communes/wards", "csv", "ward"),
    ("roll-up CSV, residential areas", "csv", "community"),
)
_JOB_PAGE = re.compile(r"/jobs/(\d+)/$")


def _viewer(province: AdministrativeUnit):
    User = get_user_model()
    username = "bench-pages-viewer"
    if not User.objects.filter(username=username).exists():
        call_command("grant", username, "viewer", province.code, verbosity=0)
    return User.objects.get(username=username)


def export_once(client: Client, *, province: str, year: int, file_format: str, level: str):
    """(wall seconds, CPU seconds, bytes, rows or None) of one export asked for and run."""
    tasks_before = set(DBTaskResult.objects.values_list("id", flat=True))
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.post(
        reverse("report_download"),
        {"unit": province, "year": year, "format": file_format, "level": level},
        secure=True,
    )
    found = _JOB_PAGE.search(response.get("Location", ""))
    if response.status_code != 302 or found is None:
        sys.exit(f"The report form answered {response.status_code}, not a job's page.")
    job_id = int(found.group(1))
    jobs.run(job_id=job_id)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    try:
        job = Job.objects.get(pk=job_id)
        if job.state != Job.State.DONE:
            sys.exit(f"Job {job_id} ended {job.state}: {job.errors}")
        content = JobOutput.objects.get(job_id=job_id).content
        rows = content.count(b"\n") - 1 if file_format == "csv" else None
        return wall, cpu, len(content), rows
    finally:
        Job.objects.filter(pk=job_id).delete()
        DBTaskResult.objects.exclude(id__in=tasks_before).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", default="01")
    parser.add_argument("--year", type=int, default=None, help="default: the latest with data")
    parser.add_argument("--runs", type=int, default=3)
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
    client = Client()
    client.force_login(_viewer(province))
    print(f"Province {province.code}, year {year}; median of {args.runs}.\n")
    print("| export | median s (wall) | min–max s | CPU s (this process) | size | rows |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, file_format, level in EXPORTS:
        runs = [
            export_once(
                client, province=province.code, year=year, file_format=file_format, level=level
            )
            for _ in range(args.runs)
        ]
        walls = [run[0] for run in runs]
        size, rows = runs[-1][2], runs[-1][3]
        print(
            f"| {label} | {statistics.median(walls):.2f} | {min(walls):.2f}–{max(walls):.2f} "
            f"| {statistics.median(run[1] for run in runs):.2f} | {size / 1024:,.1f} KB "
            f"| {'' if rows is None else f'{rows:,}'} |"
        )


if __name__ == "__main__":
    main()
