"""Reading jobs: a user sees their own jobs only; anyone else's is 404."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone

from jobs.models import Job, JobOutput, WorkerBeat
from jobs.services import stale_before


def job_of(*, user, pk: int) -> Job:
    return get_object_or_404(Job.objects.filter(owner=user), pk=pk)


def done_job_of(*, user, kind: str, pk: Any) -> Job | None:
    """The user's finished job of `kind` with the id `pk` (as posted: any text), else None."""
    text = str(pk)
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        return None
    return Job.objects.filter(owner=user, kind=kind, state=Job.State.DONE, pk=int(text)).first()


def output_of(*, user, pk: int) -> JobOutput:
    return get_object_or_404(
        JobOutput.objects.filter(job__owner=user, job__state=Job.State.DONE), job_id=pk
    )


def seconds_left(job: Job) -> int | None:
    """Time left at the pace so far; None until there is a pace to go by."""
    if job.state != Job.State.RUNNING or not job.total or not job.done or not job.started_at:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    return max(0, round(elapsed / job.done * (job.total - job.done)))


def worker_alive() -> bool | None:
    """Whether a worker said it was alive within JOB_STALE_SECONDS; None when jobs run
    in-process (the immediate backend) and no worker is needed."""
    if settings.TASKS["default"]["BACKEND"].endswith("ImmediateBackend"):
        return None
    return WorkerBeat.objects.filter(beat_at__gte=stale_before()).exists()
