"""A background job as its owner sees it: what, for whom, how far, and what came of it.

The job library (django-tasks) only runs a function; this record is what a page polls. It is
written by `jobs.services` alone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="jobs",
        verbose_name=_("owner"),
    )
    # The unit the job works on (a province or ward), for the audit and the admin; scoping of who
    # may see the job is by owner.
    scope = models.ForeignKey(
        "registry.AdministrativeUnit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit"),
    )
    args = models.JSONField(_("arguments"), default=dict)
    # The owner's language when they started it: the job's messages and files are in it.
    language = models.CharField(_("language"), max_length=10, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.QUEUED)
    done = models.PositiveBigIntegerField(_("done"), default=0)
    total = models.PositiveBigIntegerField(_("total"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Written by the running job's worker every few seconds; a running job whose heartbeat is
    # older than JOB_STALE_SECONDS lost its worker and is failed (jobs.services.jobs_fail_stale).
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_recent"),
            models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)


class JobOutput(models.Model):
    """The file a job made, kept in the database with the job (backed up with everything else),
    written in the same transaction that marks the job done."""

    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="output")
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=120)
    content = models.BinaryField(_("content"))

    class Meta:
        verbose_name = _("job output")
        verbose_name_plural = _("job outputs")

    def __str__(self) -> str:
        return self.filename


class JobInput(models.Model):
    """The file a job works on (an uploaded spreadsheet), kept in the database for the worker,
    which may run on another machine: the task itself carries only the job's id.

    Deleted when its job ends, or kept (a successful dry run, for the import that follows) until
    `expires_at`; `jobs.services.start` moves it to the job that follows and purges expired ones.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="inputs")
    filename = models.CharField(_("file name"), max_length=200)
    content = models.BinaryField(_("content"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("job input")
        verbose_name_plural = _("job inputs")

    def __str__(self) -> str:
        return self.filename


class WorkerBeat(models.Model):
    """One row per running worker process, touched every few seconds: /healthz reads it."""

    worker = models.CharField(max_length=120, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.worker
