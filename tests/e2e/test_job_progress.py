"""A background job's page in a real browser on a phone: the bar moves as the job reports its
progress, without the page reloading, and when the job is done the page offers its file.

The report job is run here in the test's own thread, as a worker would run it; before that the
worker's first progress report is written by hand, so the moving bar is seen for certain.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from jobs import services as jobs
from jobs.models import Job
from tests.e2e.conftest import login
from tests.factories import make_community, make_family
from titles.jobs import REPORT


@pytest.mark.django_db(transaction=True)
def test_the_job_page_moves_its_bar_and_reaches_done(page, live_server, carol, ward_a):
    make_family(ward_a, code="HGD1", community=make_community(ward_a, code="TDP1"))
    job = Job.objects.create(
        kind=REPORT,
        owner=carol,
        language="vi",
        args={"unit_code": "01", "year": 2025, "file_format": "xlsx", "level": "ward"},
    )
    login(page, live_server, "carol")
    page.goto(f"{live_server.url}{reverse('job_status', args=[job.pk])}")
    expect(page.locator("#job-state")).to_have_text("Đang chờ bắt đầu")
    page.evaluate("window.notReloaded = true")

    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING,
        done=4,
        total=10,
        started_at=timezone.now() - dt.timedelta(seconds=8),
        heartbeat_at=timezone.now(),
    )
    expect(page.locator("#job-done")).to_have_text("4", timeout=15_000)
    expect(page.locator("#job-bar")).to_have_attribute("value", "40")
    expect(page.locator("#job-state")).to_have_text("Đang chạy")
    expect(page.locator("#job-left")).to_contain_text("giây")  # about 12 s at this pace
    assert page.evaluate("window.notReloaded === true")  # moved in place

    Job.objects.filter(pk=job.pk).update(state=Job.State.QUEUED, done=0, total=None)
    jobs.run(job_id=job.pk)  # as the worker would
    download = page.locator("#job-download")
    expect(download).to_be_visible(timeout=15_000)
    expect(page.locator("#job-state")).to_have_text("Xong")
    expect(page.locator("#job-bar")).to_have_attribute("value", "100")
    with page.expect_download() as caught:
        download.click()
    assert caught.value.suggested_filename == "bao-cao-hoc-tap-01-2025.xlsx"
