"""A job's input file: stored with the job, read by its function, deleted when the job ends
unless the job keeps it for the one that follows (a clean dry run, then its import), which takes
it over once; an expired or someone else's file cannot be taken over. And the import pipeline's
progress in rows, which the jobs' bar and the commands' terminal bar show."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from jobs import services as jobs
from jobs.kinds import InputFile, Outcome, register
from jobs.models import Job, JobInput
from registry.imports.pipeline import rows_progress
from registry.imports.report import ImportReport, RowError, report_as_json, report_from_json
from registry.models import Community

READ = "tests.read_input"


@register(READ)
def _read_input(*, job, keep: bool = False, fail: bool = False) -> Outcome:
    stored = jobs.input_read(job)
    if fail:
        raise RuntimeError("broken")
    return Outcome(
        summary={"read": stored.content.decode(), "name": stored.filename}, keep_input=keep
    )


def _start(user, keep: bool = False, fail: bool = False) -> Job:
    return jobs.start(
        kind=READ,
        user=user,
        args={"keep": keep, "fail": fail},
        input=InputFile(filename="a.csv", content=b"rows"),
    )


def test_the_job_reads_its_file_which_is_then_deleted(alice):
    job = _start(alice)
    assert job.state == Job.State.DONE
    assert job.result["summary"] == {"read": "rows", "name": "a.csv"}
    assert not JobInput.objects.exists()


def test_a_failed_job_deletes_its_file(alice):
    job = _start(alice, fail=True)
    assert job.state == Job.State.FAILED
    assert not JobInput.objects.exists()


def test_a_kept_file_is_taken_over_once_by_the_job_that_follows(alice):
    first = _start(alice, keep=True)
    assert jobs.input_kept(job_id=first.pk)
    second = jobs.start(kind=READ, user=alice, args={"keep": False}, input_of=first.pk)
    assert second.result["summary"]["read"] == "rows"
    assert not JobInput.objects.exists()
    with pytest.raises(jobs.InputGone):
        jobs.start(kind=READ, user=alice, args={"keep": False}, input_of=first.pk)
    assert Job.objects.count() == 2  # the refused start wrote nothing


def test_someone_elses_or_an_expired_file_cannot_be_taken_over(alice, eve):
    first = _start(alice, keep=True)
    with pytest.raises(jobs.InputGone):
        jobs.start(kind=READ, user=eve, args={"keep": False}, input_of=first.pk)
    JobInput.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert not jobs.input_kept(job_id=first.pk)
    with pytest.raises(jobs.InputGone):
        jobs.start(kind=READ, user=alice, args={"keep": False}, input_of=first.pk)
    # Any start purges what has expired.
    _start(alice)
    assert not JobInput.objects.exists()


def test_a_job_whose_file_is_gone_says_so(alice):
    job = Job.objects.create(kind=READ, owner=alice, args={"keep": False})
    jobs.run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.errors == ["The file of this job is no longer kept; choose it again."]


def test_a_stale_job_loses_its_file(alice, settings):
    job = Job.objects.create(
        kind=READ,
        owner=alice,
        state=Job.State.RUNNING,
        heartbeat_at=timezone.now() - dt.timedelta(seconds=settings.JOB_STALE_SECONDS + 1),
    )
    JobInput.objects.create(
        job=job, filename="a.csv", content=b"x", expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert jobs.fail_stale() == 1
    assert not JobInput.objects.exists()
    assert jobs.fail_stale() == 0


# --- progress in rows ---------------------------------------------------------------------------


def test_rows_progress_takes_each_step_as_a_quarter_of_the_rows():
    seen: list[tuple[int, int | None]] = []
    progress = rows_progress(lambda done, total: seen.append((done, total)))
    progress("read", 400, 400)
    progress("parse", 200, 400)
    progress("parse", 400, 400)
    progress("check", 400, 400)
    progress("write", 400, 400)
    progress("parse", 0, 0)  # an empty file says nothing
    assert seen == [(100, 400), (150, 400), (200, 400), (300, 400), (400, 400)]


def test_the_report_survives_its_json():
    report = ImportReport(kind="families", dry_run=True, rows=3, created=2, notes=["n"])
    report.errors.append(RowError(4, "community", "unknown", header="Tổ dân phố"))
    again = report_from_json(report_as_json(report))
    assert again == report and again.errors[0].shown == "Tổ dân phố"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_draws_a_bar_on_a_terminal_only(ward_a, tmp_path):
    path = tmp_path / "areas.csv"
    path.write_text("ward,code,name\n00070,T1,Tổ 1\n00070,T2,Tổ 2\n", encoding="utf-8")
    out, terminal = io.StringIO(), _Terminal()
    call_command("import_registry", str(path), "--kind", "communities", stdout=out, stderr=terminal)
    assert "[" + "#" * 30 + "] 2 / 2" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r")  # erased, the summary stands alone
    assert "2 created" in out.getvalue()
    assert Community.objects.count() == 2

    piped = io.StringIO()
    call_command(
        "import_registry", str(path), "--kind", "communities", stdout=io.StringIO(), stderr=piped
    )
    assert piped.getvalue() == ""
