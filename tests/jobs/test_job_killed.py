"""A job whose worker is killed mid-way (SIGKILL: no clean-up of any kind) keeps nothing of
what it wrote, and is marked failed by the stale-heartbeat rule when the next worker starts.

A real worker process (`manage.py jobs_worker`, django-tasks' database backend) runs against a
SQLite file of its own, migrated for the test, and, when the tests run on PostgreSQL, against
the test database; the job is a test-only kind (registered below, imported by the worker) that
writes rows in one transaction, slowly, and leaves a marker file half-way so the test knows when
to kill it. On PostgreSQL the test also sees the job's progress and heartbeat move while its
transaction is open (SQLite has one writer at a time: they wait for the job).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext

from jobs.kinds import JobContext, Outcome, register

SLOW_KIND = "tests.slow_groups"
GROUP_PREFIX = "killed-job-"
ROWS = 60
BASE_DIR = Path(settings.BASE_DIR)
STALE_MESSAGE = (
    "The worker running this job stopped before it finished; nothing it did was kept. Start it "
    "again."
)


@register(SLOW_KIND)
def _slow_groups(*, job: JobContext, rows: int, marker: str, pause: float) -> Outcome:
    """Write `rows` groups in one transaction, `pause` seconds apart; touch `marker` once a
    quarter are written (they are not committed: the transaction is still open)."""
    with transaction.atomic():
        for n in range(rows):
            Group.objects.create(name=f"{GROUP_PREFIX}{n:03d}")
            job.progress(n + 1, rows)
            if n + 1 == rows // 4:
                Path(marker).write_text("half-way")
            time.sleep(pause)
    return Outcome(summary={"title": "groups"})


def _django(code: str, env: dict, **kwargs):
    """Run `code` in a new Python process with Django set up and this module's kind known."""
    script = (
        "import django; django.setup()\n"
        "import tests.jobs.test_job_killed  # registers the test-only kind\n" + code
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], env=env, cwd=BASE_DIR, text=True, capture_output=True,
        timeout=180, **kwargs,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


@dataclass
class WorkerDatabase:
    env: dict
    read: Callable[..., list[tuple]]  # (sql with %s placeholders, *params) -> rows
    vendor: str


def _env(database_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "learnsociety.settings",
        "DATABASE_URL": database_url,
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "JOB_HEARTBEAT_SECONDS": "1",
        "JOB_STALE_SECONDS": "3",
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def worker_db(request, tmp_path) -> WorkerDatabase:
    if request.param == "sqlite":
        db = tmp_path / "jobs.sqlite3"
        env = _env(f"sqlite:///{db}")
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=BASE_DIR, check=True,
            timeout=300,
        )  # fmt: skip

        def read_sqlite(sql: str, *params) -> list[tuple]:
            with sqlite3.connect(db) as sqlite:
                return sqlite.execute(sql.replace("%s", "?"), params).fetchall()

        return WorkerDatabase(env, read_sqlite, "sqlite")
    if connection.vendor != "postgresql":
        pytest.skip("the tests run on SQLite")
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = _env(f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}")

    def read_postgresql(sql: str, *params) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return WorkerDatabase(env, read_postgresql, "postgresql")


def _groups(worker_db: WorkerDatabase) -> int:
    sql = "SELECT count(*) FROM auth_group WHERE name LIKE %s"
    return worker_db.read(sql, GROUP_PREFIX + "%")[0][0]


def _job(worker_db: WorkerDatabase, job_id: str) -> tuple:
    return worker_db.read(
        "SELECT state, done, heartbeat_at, errors, finished_at, "
        "(SELECT count(*) FROM jobs_joboutput WHERE job_id = jobs_job.id) "
        "FROM jobs_job WHERE id = %s",
        int(job_id),
    )[0]


# Committed for real: on PostgreSQL the worker process shares the test database.
@pytest.mark.django_db(transaction=True)
def test_a_job_killed_mid_way_keeps_nothing_and_is_marked_failed(tmp_path, worker_db):
    env = worker_db.env
    marker = tmp_path / "half-way"
    started = _django(
        "from django.contrib.auth import get_user_model\n"
        "from jobs import services\n"
        "user = get_user_model().objects.create_user('worker-test')\n"
        f"job = services.start(kind={SLOW_KIND!r}, user=user, "
        f"args={{'rows': {ROWS}, 'marker': {str(marker)!r}, 'pause': 0.15}})\n"
        "print(job.pk, job.state)\n",
        env,
    )
    job_id, state = started.stdout.split()
    assert state == "queued"

    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable, "-c",
            "import django; django.setup()\n"
            "import tests.jobs.test_job_killed\n"
            "from django.core.management import call_command\n"
            "call_command('jobs_worker', '--interval', '0.1', '--no-startup-delay')\n",
        ],
        env=env, cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert worker.poll() is None, worker.stderr.read().decode()
            assert time.monotonic() < deadline, "the job never got half-way"
            time.sleep(0.05)
        assert _job(worker_db, job_id)[0] == "running"
        if worker_db.vendor == "postgresql":
            # Its progress and heartbeat are written beside its open transaction.
            first_beat = _job(worker_db, job_id)[2]
            deadline = time.monotonic() + 5
            while (
                _job(worker_db, job_id)[1] < ROWS // 4 or _job(worker_db, job_id)[2] == first_beat
            ):
                assert time.monotonic() < deadline, "no progress or heartbeat while running"
                time.sleep(0.1)
            assert _job(worker_db, job_id)[0] == "running"
            assert _groups(worker_db) == 0  # none committed yet
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == -signal.SIGKILL

    # Nothing the job wrote is there: its transaction died with the process.
    assert _groups(worker_db) == 0
    # Until its heartbeat is stale the job still says it is running (its worker might be slow).
    assert _job(worker_db, job_id)[0] == "running"
    time.sleep(int(env["JOB_STALE_SECONDS"]) + 1)
    # The next worker, as it starts, marks it failed (and, with no job queued, stops).
    _django(
        "from django.core.management import call_command\n"
        "call_command('jobs_worker', '--batch', '--no-startup-delay')\n",
        env,
    )
    state, _done, _beat, errors, finished_at, outputs = _job(worker_db, job_id)
    assert state == "failed"
    with translation.override("vi"):  # the worker runs with the product's language
        expected = [gettext(STALE_MESSAGE)]
    assert (errors if isinstance(errors, list) else json.loads(errors)) == expected
    assert finished_at is not None and outputs == 0
    assert _groups(worker_db) == 0
