"""Starting, running and finishing jobs: the only writer of `Job` rows.

    from jobs import services as jobs
    job = jobs.start(kind="titles.report", user=request.user, args={...}, scope_id=unit.id)

`start` writes the job and enqueues its task in the caller's transaction: with the database
task backend the task row commits (or rolls back) with the job, so a rolled-back request leaves
neither. The worker (`manage.py jobs_worker`) runs `run`; in tests and with the immediate backend
it runs at once, in-process.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from typing import Any

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    close_old_connections,
    connection,
    connections,
    transaction,
)
from django.db.utils import load_backend
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jobs.kinds import JobContext, JobRefused, function_of
from jobs.models import Job, JobOutput, WorkerBeat

logger = logging.getLogger(__name__)

# Progress is written at most this often (and always when the job reaches its total).
_PROGRESS_EVERY = 0.5
# Ids of the jobs this process is running; the heartbeat thread keeps them alive.
_running: set[int] = set()


@transaction.atomic
def start(*, kind: str, user, args: dict[str, Any], scope_id: int | None = None) -> Job:
    """A new job for `user`, queued; `args` are JSON values passed to the kind's function as
    keyword arguments; `scope_id` the administrative unit it works on."""
    from jobs.tasks import run_job  # the task module imports this one

    function_of(kind)  # an unknown kind fails here, before anything is written
    job = Job(
        kind=kind,
        owner=user,
        scope_id=scope_id,
        args=args,
        language=get_language() or settings.LANGUAGE_CODE,
    )
    job.full_clean()
    job.save()
    run_job.enqueue(job_id=job.pk)
    job.refresh_from_db()  # an immediate backend has already run it
    return job


def run(*, job_id: int) -> None:
    """Run a queued job to its end: done with its outcome, or failed with a message.

    The job's own writes are its function's business (a service's `transaction.atomic`); the
    outcome, its file and the "done" mark are written in one transaction, so a job killed before
    it has neither, and `fail_stale` marks it failed once its heartbeat stops.
    """
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return
    job = Job.objects.select_related("owner").get(pk=job_id)
    _running.add(job_id)
    try:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            try:
                progress = _progress(job_id)
                context = JobContext(job_id=job_id, user=job.owner, progress=progress)
                outcome = function_of(job.kind)(job=context, **job.args)
            except JobRefused as exc:
                _fail(job_id, [str(exc)])
                return
            except Exception:
                logger.exception("job %s (%s) failed", job_id, job.kind)
                _fail(job_id, [_("The job stopped because of an error in the application.")])
                return
        with transaction.atomic():
            finished = Job.objects.filter(pk=job_id, state=Job.State.RUNNING).update(
                state=Job.State.DONE,
                finished_at=timezone.now(),
                heartbeat_at=timezone.now(),
                result={"summary": outcome.summary, "notes": outcome.notes},
                **progress.final(),
            )
            if finished and outcome.output is not None:
                JobOutput.objects.create(
                    job_id=job_id,
                    filename=outcome.output.filename,
                    content_type=outcome.output.content_type,
                    content=outcome.output.content,
                )
    finally:
        _running.discard(job_id)


def _fail(job_id: int, errors: list[str]) -> None:
    Job.objects.filter(pk=job_id, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
        state=Job.State.FAILED, finished_at=timezone.now(), errors=errors
    )


class _Progress:
    """A job's `progress(done, total)`: written at most every _PROGRESS_EVERY seconds, and the
    last figures kept for the job's end.

    A job that holds a transaction (an all-or-nothing action) must not write its own row in it:
    nobody would see the figures before it ends, and on PostgreSQL the row would stay locked
    against the heartbeat. There the figures go through a connection of their own, committed at
    once; SQLite has one writer at a time, so they are written in the job's transaction and show
    when it ends.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.last = 0.0
        self.figures: tuple[int, int | None] | None = None

    def __call__(self, done: int, total: int | None) -> None:
        done = max(0, min(done, total)) if total is not None else max(0, done)
        self.figures = (done, total)
        now = time.monotonic()
        if now - self.last < _PROGRESS_EVERY and done != total:
            return
        self.last = now
        if connection.in_atomic_block and connection.vendor == "postgresql":
            self._write_aside(done, total)
        else:
            Job.objects.filter(pk=self.job_id, state=Job.State.RUNNING).update(
                done=done, total=total, heartbeat_at=timezone.now()
            )

    def _write_aside(self, done: int, total: int | None) -> None:
        aside = load_backend(connection.settings_dict["ENGINE"]).DatabaseWrapper(
            dict(connection.settings_dict), DEFAULT_DB_ALIAS
        )
        try:
            with aside.cursor() as cursor:
                sql = (
                    f"UPDATE {Job._meta.db_table} SET done = %s, total = %s, "  # noqa: S608
                    "heartbeat_at = %s WHERE id = %s AND state = %s"
                )
                cursor.execute(
                    sql,
                    [done, total, timezone.now(), self.job_id, Job.State.RUNNING],
                )
        except DatabaseError:  # figures are a courtesy: never stop the job for them
            logger.warning("job %s: progress not written", self.job_id, exc_info=True)
        finally:
            aside.close()

    def final(self) -> dict[str, int | None]:
        """The last figures, for the update that finishes the job."""
        if self.figures is None:
            return {}
        return {"done": self.figures[0], "total": self.figures[1]}


def _progress(job_id: int) -> _Progress:
    return _Progress(job_id)


def stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.JOB_STALE_SECONDS)


def fail_stale(*, job_id: int | None = None) -> int:
    """Mark failed the running jobs whose worker stopped (no heartbeat for JOB_STALE_SECONDS).

    Whatever such a job wrote in its unfinished transaction was rolled back by the database when
    its connection died; its outcome was never written.
    """
    jobs = Job.objects.filter(state=Job.State.RUNNING, heartbeat_at__lt=stale_before())
    if job_id is not None:
        jobs = jobs.filter(pk=job_id)
    if not jobs.exists():
        # Read first: on SQLite an UPDATE waits for the write lock a running job may hold.
        return 0
    return jobs.update(
        state=Job.State.FAILED,
        finished_at=timezone.now(),
        errors=[
            _(
                "The worker running this job stopped before it finished; nothing it did was "
                "kept. Start it again."
            )
        ],
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat:
    """A thread of the worker process that says, every JOB_HEARTBEAT_SECONDS, that the worker
    and the jobs it is running are alive (its own database connection)."""

    def __init__(self) -> None:
        self.name = worker_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jobs-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            WorkerBeat.objects.filter(worker=self.name).delete()
        finally:
            connections.close_all()

    def beat(self) -> None:
        now = timezone.now()
        WorkerBeat.objects.update_or_create(worker=self.name, defaults={"beat_at": now})
        if _running:
            Job.objects.filter(pk__in=list(_running), state=Job.State.RUNNING).update(
                heartbeat_at=now
            )

    def _loop(self) -> None:
        while True:
            try:
                close_old_connections()
                self.beat()
            except Exception:  # a busy database must not stop the heartbeat for good
                logger.warning("job worker heartbeat failed", exc_info=True)
            if self._stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                break
        connections.close_all()
