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
from django.db import close_old_connections, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jobs.kinds import InputFile, JobContext, JobRefused, function_of
from jobs.models import Job, JobInput, JobOutput, WorkerBeat

logger = logging.getLogger(__name__)

# Progress is written at most this often (and always when the job reaches its total).
_PROGRESS_EVERY = 0.5
# Ids of the jobs this process is running; the heartbeat thread keeps them alive.
_running: set[int] = set()
# In a worker, the latest progress of each running job, for the heartbeat thread to write.
_pending_progress: dict[int, tuple[int, int | None]] = {}
# In a worker, the latest progress of each running job, kept until it finishes: the heartbeat
# may have taken the last report from `_pending_progress` and not yet written it when the job
# ends, and its write (of a running job only) then comes too late.
_reported_progress: dict[int, tuple[int, int | None]] = {}
_pending_lock = threading.Lock()
# The heartbeat of this process, when it is a worker.
_heartbeat: Heartbeat | None = None


class InputGone(Exception):
    """The earlier job's file is no longer kept (imported already, or expired)."""


@transaction.atomic
def start(
    *,
    kind: str,
    user,
    args: dict[str, Any],
    scope_id: int | None = None,
    input: InputFile | None = None,
    input_of: int | None = None,
) -> Job:
    """A new job for `user`, queued; `args` are JSON values passed to the kind's function as
    keyword arguments; `scope_id` the administrative unit it works on.

    The file it works on (`input_read`) is `input`, stored with the job, or the one the same
    owner's earlier job `input_of` kept (`Outcome.keep_input`), moved to the new job so that it
    serves once; InputGone, and nothing written, when that one is no longer kept.
    """
    from jobs.tasks import run_job  # the task module imports this one

    function_of(kind)  # an unknown kind fails here, before anything is written
    now = timezone.now()
    JobInput.objects.filter(expires_at__lt=now).delete()
    job = Job(
        kind=kind,
        owner=user,
        scope_id=scope_id,
        args=args,
        language=get_language() or settings.LANGUAGE_CODE,
    )
    job.full_clean()
    job.save()
    if input is not None:
        JobInput.objects.create(
            job=job,
            filename=input.filename,
            content=input.content,
            expires_at=now + dt.timedelta(hours=settings.JOB_INPUT_HOURS),
        )
    elif input_of is not None:
        moved = JobInput.objects.filter(
            job_id=input_of, job__owner=user, job__state=Job.State.DONE, expires_at__gte=now
        ).update(job=job)
        if not moved:
            raise InputGone
    run_job.enqueue(job_id=job.pk)
    job.refresh_from_db()  # an immediate backend has already run it
    return job


def input_read(job: JobContext) -> InputFile:
    """The file the running job works on; JobRefused when it is no longer kept."""
    stored = JobInput.objects.filter(job_id=job.job_id).first()
    if stored is None:
        raise JobRefused(_("The file of this job is no longer kept; choose it again."))
    return InputFile(filename=stored.filename, content=bytes(stored.content))


def input_kept(*, job_id: int) -> bool:
    """Whether a finished job still keeps its file for a job to follow from it."""
    return JobInput.objects.filter(job_id=job_id, expires_at__gte=timezone.now()).exists()


def run(*, job_id: int) -> None:
    """Run a queued job to its end: done with its outcome, or failed with a message.

    The job's own writes are its function's business (a service's `transaction.atomic`); the
    outcome, its file and the "done" mark are written in one transaction, so a job killed before
    it has neither, and `fail_stale` marks it failed once its heartbeat stops. Its progress is
    written beside that transaction (see `_progress`), never inside it.
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
                context = JobContext(job_id=job_id, user=job.owner, progress=_progress(job_id))
                outcome = function_of(job.kind)(job=context, **job.args)
            except JobRefused as exc:
                _fail(job_id, [str(exc)])
                return
            except Exception:
                logger.exception("job %s (%s) failed", job_id, job.kind)
                _fail(job_id, [_("The job stopped because of an error in the application.")])
                return
        with _pending_lock:
            _pending_progress.pop(job_id, None)
            last = _reported_progress.pop(job_id, None)
        with transaction.atomic():
            # It did finish: this wins over a "worker stopped" mark made while its heartbeat
            # could not be written (a database busy with the job's own transaction).
            finished = Job.objects.filter(
                pk=job_id, state__in=[Job.State.RUNNING, Job.State.FAILED]
            ).update(
                state=Job.State.DONE,
                finished_at=timezone.now(),
                heartbeat_at=timezone.now(),
                errors=[],
                result={"summary": outcome.summary, "notes": outcome.notes},
                **({"done": last[0], "total": last[1]} if last is not None else {}),
            )
            if not outcome.keep_input:
                JobInput.objects.filter(job_id=job_id).delete()
            if finished and outcome.output is not None:
                JobOutput.objects.create(
                    job_id=job_id,
                    filename=outcome.output.filename,
                    content_type=outcome.output.content_type,
                    content=outcome.output.content,
                )
    finally:
        _running.discard(job_id)
        with _pending_lock:
            _pending_progress.pop(job_id, None)
            _reported_progress.pop(job_id, None)


def _fail(job_id: int, errors: list[str]) -> None:
    Job.objects.filter(pk=job_id, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
        state=Job.State.FAILED, finished_at=timezone.now(), errors=errors
    )
    JobInput.objects.filter(job_id=job_id).delete()


def _progress(job_id: int):
    """The job's `progress(done, total)`.

    In a worker the heartbeat thread writes it, on its own connection: the job's function runs
    its writes in a transaction, and progress written inside it would be invisible to the page
    until the end (PostgreSQL) and would lock the job's row, so that the heartbeat waited for
    the job to end and a live job looked dead. Run in-process (the immediate backend), it is
    written at once.
    """
    last = 0.0

    def progress(done: int, total: int | None) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < _PROGRESS_EVERY and done != total:
            return
        last = now
        done = max(0, min(done, total)) if total is not None else max(0, done)
        heartbeat = _heartbeat
        if heartbeat is not None:
            with _pending_lock:
                _pending_progress[job_id] = _reported_progress[job_id] = (done, total)
            heartbeat.wake()
            return
        Job.objects.filter(pk=job_id, state=Job.State.RUNNING).update(
            done=done, total=total, heartbeat_at=timezone.now()
        )

    return progress


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
    # Read first: on SQLite an UPDATE waits for the write lock that a running job's transaction
    # holds, and the job page asks this on every poll.
    stale = list(jobs.values_list("pk", flat=True))
    if not stale:
        return 0
    JobInput.objects.filter(job_id__in=stale).delete()
    return jobs.filter(pk__in=stale).update(
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
    and the jobs it is running are alive, and writes their progress as soon as it is reported
    (its own database connection, outside the jobs' transactions)."""

    def __init__(self) -> None:
        self.name = worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jobs-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        global _heartbeat
        _heartbeat = self
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        global _heartbeat
        _heartbeat = None
        self._stop.set()
        self._wake.set()
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

    def write_progress(self) -> None:
        self.write(self.take_progress())

    @staticmethod
    def take_progress() -> dict[int, tuple[int, int | None]]:
        """The progress reported since the last call, by job."""
        with _pending_lock:
            pending = dict(_pending_progress)
            _pending_progress.clear()
        return pending

    @staticmethod
    def write(pending: dict[int, tuple[int, int | None]]) -> None:
        """Write reported progress, of the jobs still running only."""
        now = timezone.now()
        for job_id, (done, total) in pending.items():
            Job.objects.filter(pk=job_id, state=Job.State.RUNNING).update(
                done=done, total=total, heartbeat_at=now
            )

    def _loop(self) -> None:
        next_beat = 0.0
        while not self._stop.is_set():
            try:
                close_old_connections()
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + settings.JOB_HEARTBEAT_SECONDS
                    self.beat()
                self.write_progress()
            except Exception:  # a busy database must not stop the heartbeat for good
                logger.warning("job worker heartbeat failed", exc_info=True)
            self._wake.wait(max(0.0, next_beat - time.monotonic()))
            self._wake.clear()
        connections.close_all()
