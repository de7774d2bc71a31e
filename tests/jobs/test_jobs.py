"""Background jobs: the reports page starts one and shows its progress page, which offers the
file when it is done; only the owner sees a job; a job that fails or whose worker dies is marked
failed with a message and leaves no file. Jobs run in-process here (the immediate backend)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from jobs import services as jobs
from jobs.kinds import Outcome, Output, register
from jobs.models import Job, JobOutput
from tests.factories import make_community, make_family

YEAR = 2025


@register("tests.count")
def _count(*, job, upto: int, fail_at: int | None = None) -> Outcome:
    for done in range(1, upto + 1):
        if done == fail_at:
            raise RuntimeError("broken half-way")
        job.progress(done, upto)
    return Outcome(
        output=Output(filename="count.txt", content_type="text/plain", content=b"%d" % upto),
        summary={"title": "Counting"},
        notes=["counted"],
    )


@pytest.fixture
def ward_data(ward_a):
    area = make_community(ward_a, code="TDP01", name="Tổ dân phố 1")
    make_family(ward_a, code="HGD01", community=area)
    return ward_a


def _start_report(client, user, **data):
    client.force_login(user)
    data.setdefault("year", YEAR)
    return client.post(reverse("report_download"), data)


def test_the_reports_page_makes_the_workbook_as_a_job(client, carol, ward_data):
    response = _start_report(client, carol, unit="01", format="xlsx")
    job = Job.objects.get(owner=carol)
    assert response.status_code == 302
    assert response["Location"] == reverse("job_status", args=[job.pk])
    assert job.state == Job.State.DONE and job.done == job.total and job.total > 1

    page = client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "bao-cao-hoc-tap-01-2025.xlsx" in text
    assert 'data-poll-url=""' in text  # finished: nothing left to poll

    download = client.get(reverse("job_download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="bao-cao-hoc-tap-01-2025.xlsx"'
    book = load_workbook(io.BytesIO(download.content))
    # The titles' sheets, then those the other areas of work register (registry.sections).
    assert book.sheetnames == [
        "Tổng hợp",
        "Gia đình học tập",
        "Dòng họ học tập",
        "Cộng đồng học tập",
        "Đơn vị học tập",
        "Công dân học tập",
        "Nhóm - Bình dân học vụ số",
        "Programmes",
    ]


def test_the_roll_up_csv_as_a_job(client, alice, ward_data):
    _start_report(client, alice, unit="00070", format="csv", level="community")
    job = Job.objects.get(owner=alice)
    download = client.get(reverse("job_download", args=[job.pk]))
    text = download.content.decode("utf-8")
    assert text.startswith("\ufeffunit_code,unit_name,year,kind")
    assert "00070/TDP01" in text
    assert download["Content-Type"] == "text/csv; charset=utf-8"


def test_a_report_outside_the_scope_starts_no_job(client, alice, ward_data, ward_b):
    response = _start_report(client, alice, unit="00004", format="xlsx")
    assert response.status_code == 404
    assert not Job.objects.exists()


def test_bad_report_parameters_start_no_job(client, carol, ward_data):
    response = _start_report(client, carol, unit="01", year="abc")
    assert response.status_code == 400
    assert "Enter a whole number." in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.parametrize("name", ["job_status", "job_progress", "job_download"])
def test_only_the_owner_sees_a_job(client, alice, eve, carol, name):
    job = jobs.start(kind="tests.count", user=alice, args={"upto": 3})
    for outsider in (eve, carol):
        client.force_login(outsider)
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    client.force_login(alice)
    assert client.get(reverse(name, args=[job.pk])).status_code == 200
    client.logout()
    assert client.get(reverse(name, args=[job.pk])).status_code == 302


def test_progress_is_reported_as_json(client, alice):
    job = jobs.start(kind="tests.count", user=alice, args={"upto": 7})
    client.force_login(alice)
    state = client.get(reverse("job_progress", args=[job.pk])).json()
    assert state == {
        "state": "done",
        "state_label": "Done",
        "done": 7,
        "total": 7,
        "percent": 100,
        "seconds_left": None,
        "finished": True,
    }
    assert JobOutput.objects.get(job=job).filename == "count.txt"


def test_a_running_job_shows_its_bar_and_time_left(client, alice):
    job = Job.objects.create(
        kind="tests.count",
        owner=alice,
        state=Job.State.RUNNING,
        done=25,
        total=100,
        started_at=timezone.now() - dt.timedelta(seconds=30),
        heartbeat_at=timezone.now(),
    )
    client.force_login(alice)
    state = client.get(reverse("job_progress", args=[job.pk])).json()
    assert state["percent"] == 25 and not state["finished"]
    assert 80 <= state["seconds_left"] <= 100  # 30 s for a quarter: about 90 s for the rest
    page = client.get(reverse("job_status", args=[job.pk])).content.decode()
    assert f'data-poll-url="{reverse("job_progress", args=[job.pk])}"' in page
    assert '<progress id="job-bar" max="100" value="25">' in page


def test_a_job_that_fails_half_way_keeps_no_file_and_says_so(client, alice):
    job = jobs.start(kind="tests.count", user=alice, args={"upto": 10, "fail_at": 5})
    assert job.state == Job.State.FAILED
    assert job.errors == ["The job stopped because of an error in the application."]
    assert not JobOutput.objects.exists()
    client.force_login(alice)
    page = client.get(reverse("job_status", args=[job.pk])).content.decode()
    assert "The job stopped because of an error in the application." in page
    assert client.get(reverse("job_download", args=[job.pk])).status_code == 404


def test_a_job_whose_worker_died_is_marked_failed(client, alice, settings):
    """A worker killed mid-job stops its heartbeat: the job is failed when next looked at."""
    settings.JOB_STALE_SECONDS = 60
    job = Job.objects.create(
        kind="tests.count",
        owner=alice,
        state=Job.State.RUNNING,
        done=3,
        total=10,
        started_at=timezone.now() - dt.timedelta(minutes=5),
        heartbeat_at=timezone.now() - dt.timedelta(seconds=61),
    )
    alive = Job.objects.create(
        kind="tests.count",
        owner=alice,
        state=Job.State.RUNNING,
        heartbeat_at=timezone.now() - dt.timedelta(seconds=30),
    )
    client.force_login(alice)
    state = client.get(reverse("job_progress", args=[job.pk])).json()
    assert state["state"] == "failed" and state["finished"]
    job.refresh_from_db()
    assert "stopped before it finished" in job.errors[0]
    assert jobs.fail_stale() == 0  # the live one is left alone
    alive.refresh_from_db()
    assert alive.state == Job.State.RUNNING


def test_an_unknown_kind_writes_nothing(alice):
    with pytest.raises(ValueError, match="unknown job kind"):
        jobs.start(kind="no.such", user=alice, args={})
    assert not Job.objects.exists()


@pytest.mark.vietnamese
def test_the_job_page_is_in_vietnamese(client, alice):
    job = jobs.start(kind="tests.count", user=alice, args={"upto": 2})
    client.force_login(alice)
    page = client.get(reverse("job_status", args=[job.pk])).content.decode()
    assert "Xong" in page
    assert "Tải về count.txt" in page


class LateHeartbeat(jobs.Heartbeat):
    """A worker's heartbeat that takes each report of progress at once and writes it only when
    told: as the heartbeat thread does when a job ends while it is writing the last report."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[dict] = []

    def wake(self) -> None:
        self.taken.append(self.take_progress())


def test_a_job_that_ends_while_its_last_progress_is_being_written_shows_it_all(
    client, alice, monkeypatch
):
    heartbeat = LateHeartbeat()
    monkeypatch.setattr(jobs, "_heartbeat", heartbeat)
    job = jobs.start(kind="tests.count", user=alice, args={"upto": 7})
    assert job.state == Job.State.DONE
    assert heartbeat.taken[-1] == {job.pk: (7, 7)}  # the last report was taken, not written
    for pending in heartbeat.taken:  # and is written late: a finished job is left as it is
        heartbeat.write(pending)
    client.force_login(alice)
    state = client.get(reverse("job_progress", args=[job.pk])).json()
    assert (state["done"], state["total"], state["percent"]) == (7, 7, 100)
