"""A job whose worker is killed mid-way (SIGKILL: no clean-up of any kind) keeps nothing of
what it wrote, and is marked failed by the stale-heartbeat rule when the next worker starts.

A real worker process (`manage.py jobs_worker`, django-tasks' database backend) runs against a
database file of its own, migrated for the test; the job is a test-only kind (registered below,
imported by the worker) that writes rows in one transaction, slowly, and leaves a marker file
half-way so the test knows when to kill it. The result is read straight from the file.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from jobs.kinds import JobContext, Outcome, register

SLOW_KIND = "tests.slow_groups"
GROUP_PREFIX = "killed-job-"
ROWS = 40
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
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], env=env, cwd=BASE_DIR, text=True, capture_output=True,
        check=True, timeout=180, **kwargs,
    )  # fmt: skip


@pytest.fixture
def worker_env(tmp_path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "learnsociety.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "JOB_HEARTBEAT_SECONDS": "1",
        "JOB_STALE_SECONDS": "3",
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
    }
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=BASE_DIR, check=True,
        timeout=300,
    )  # fmt: skip
    return env


def _read(db: Path, sql: str, *params):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def test_a_job_killed_mid_way_keeps_nothing_and_is_marked_failed(tmp_path, worker_env):
    db = tmp_path / "jobs.sqlite3"
    marker = tmp_path / "half-way"
    started = _django(
        "from django.contrib.auth import get_user_model\n"
        "from jobs import services\n"
        "user = get_user_model().objects.create_user('worker-test')\n"
        f"job = services.start(kind={SLOW_KIND!r}, user=user, "
        f"args={{'rows': {ROWS}, 'marker': {str(marker)!r}, 'pause': 0.15}})\n"
        "print(job.pk, job.state)\n",
        worker_env,
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
        env=worker_env, cwd=BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert worker.poll() is None, worker.stderr.read().decode()
            assert time.monotonic() < deadline, "the job never got half-way"
            time.sleep(0.05)
        assert _read(db, "SELECT state FROM jobs_job WHERE id = ?", job_id) == [("running",)]
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == -signal.SIGKILL

    # Nothing the job wrote is there: its transaction died with the process.
    assert _read(db, "SELECT count(*) FROM auth_group WHERE name LIKE ?", GROUP_PREFIX + "%") == [
        (0,)
    ]
    # Until its heartbeat is stale the job still says it is running (its worker might be slow).
    assert _read(db, "SELECT state FROM jobs_job WHERE id = ?", job_id) == [("running",)]
    time.sleep(int(worker_env["JOB_STALE_SECONDS"]) + 1)
    # The next worker, as it starts, marks it failed (and, with no job queued, stops).
    _django(
        "from django.core.management import call_command\n"
        "call_command('jobs_worker', '--batch', '--no-startup-delay')\n",
        worker_env,
    )
    [(state, errors, finished_at, output)] = _read(
        db,
        "SELECT state, errors, finished_at, (SELECT count(*) FROM jobs_joboutput WHERE job_id = "
        "jobs_job.id) FROM jobs_job WHERE id = ?",
        job_id,
    )
    assert state == "failed"
    with translation.override("vi"):  # the worker runs with the product's language
        assert json.loads(errors) == [gettext(STALE_MESSAGE)]
    assert finished_at is not None and output == 0
    assert _read(db, "SELECT count(*) FROM auth_group WHERE name LIKE ?", GROUP_PREFIX + "%") == [
        (0,)
    ]
