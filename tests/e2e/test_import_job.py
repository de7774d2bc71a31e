"""The registry's import as a background job in a real browser, at a phone's and a desktop's
width: the upload answers with the job's page at once, its bar follows the rows of a workbook
of a few thousand households as a real worker runs the check, without the page reloading; then
the check's report offers the import of the same file, which runs as a job too.

The jobs go through django-tasks' database backend, as in production, and a worker runs in a
thread of the test (django-tasks' own database worker, with the job worker's heartbeat thread,
which writes the progress on its own connection); it starts only once the job's page shows the
job waiting, so the bar is seen from its start. PostgreSQL only: the tests' SQLite database
lives in memory, shared by the threads through one cache with table locks that fail at once
(a file database in WAL mode, as deployed, lets the page read while the job writes).
"""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.conf import settings
from django.db import connections
from django.urls import reverse
from django_tasks_db.management.commands.db_worker import Worker
from openpyxl import Workbook
from playwright.sync_api import expect

from jobs import services as jobs
from jobs.models import Job, JobInput
from registry.models import Family
from tests.e2e.conftest import go_to_menu_item, login
from tests.factories import make_community

ROWS = 6000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Every count the bar shows in place is kept in the tab's session storage, which outlives the
# reload that shows the job's outcome: the test reads afterwards what the bar went through.
RECORD_COUNTS = """() => {
  const done = document.getElementById("job-done");
  const total = document.getElementById("job-total");
  const left = document.getElementById("job-left");
  new MutationObserver(() => {
    const seen = JSON.parse(sessionStorage.getItem("seen") || "[]");
    const bar = document.getElementById("job-bar").value;
    seen.push([done.textContent, total.textContent, bar, left.textContent]);
    sessionStorage.setItem("seen", JSON.stringify(seen));
  }).observe(done, {childList: true, characterData: true, subtree: true});
}"""


def _households_workbook(ward_code: str, area_code: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["Mã phường/xã", "Mã hộ", "Họ tên chủ hộ", "Số nhân khẩu", "Tổ dân phố"])
    for n in range(1, ROWS + 1):
        sheet.append([ward_code, f"HGD{n:05d}", f"Nguyễn Văn {n}", 1 + n % 6, area_code])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class WorkerThread:
    """`manage.py jobs_worker` in a thread: the database worker's loop and the heartbeat."""

    def __init__(self) -> None:
        self.worker = Worker(
            queue_names=["default"],
            interval=0.2,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="e2e-worker",
            excluded_queue_names=[],
        )
        self.thread = threading.Thread(target=self._run, name="e2e-jobs-worker", daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        finally:
            connections.close_all()

    def __enter__(self) -> WorkerThread:
        self.heartbeat = jobs.Heartbeat().start()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.worker.running = False
        self.thread.join(timeout=30)
        self.heartbeat.stop()


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="needs a database that several threads share: the tests run on SQLite in memory",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1366])
def test_an_import_job_shows_its_bar_then_its_report(
    page, vietnamese, live_server, settings, monkeypatch, ward_a, alice, width
):
    settings.TASKS = DATABASE_TASKS  # the `settings` fixture: restored after the test
    # A file of 6,000 rows is checked in well under the page's one-second poll on a fast
    # machine; each report of progress is held back a little so that the job lasts a few polls,
    # as a large file's does, and the page can be seen following it.
    report_progress = jobs._progress

    def held_back(job_id: int):
        progress = report_progress(job_id)

        def report(done: int, total: int | None) -> None:
            progress(done, total)
            if total and done < total:
                time.sleep(0.15)

        return report

    monkeypatch.setattr(jobs, "_progress", held_back)
    page.set_viewport_size({"width": width, "height": 900})
    make_community(ward_a, code="TDP1", name="Tổ dân phố 1")
    vietnamese.data |= {"alice", ward_a.name, "ho-gia-dinh.xlsx", "00070"}
    login(page, live_server, "alice")
    go_to_menu_item(page, reverse("registry_import"))
    page.select_option("select[name=kind]", "families")
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "ho-gia-dinh.xlsx",
                "mimeType": XLSX,
                "buffer": _households_workbook(ward_a.code, "TDP1"),
            }
        ],
    )
    page.locator("form.stacked button[type=submit]").click()

    # The upload stored the file and queued the check; no worker has taken it yet.
    page.wait_for_url("**/jobs/*/")
    check = Job.objects.get(owner=alice)
    assert page.url.endswith(reverse("job_status", args=[check.pk]))
    assert check.state == Job.State.QUEUED and JobInput.objects.filter(job=check).exists()
    expect(page.locator("#job-state")).to_have_text("Đang chờ bắt đầu")
    expect(page.locator("main h1")).to_contain_text("ho-gia-dinh.xlsx")
    vietnamese.check()

    page.evaluate(RECORD_COUNTS)

    with WorkerThread():
        # Then the check's report: every household would be created, nothing written yet.
        report = page.locator("section.report")
        expect(report).to_have_class("report ok", timeout=60_000)
        expect(page.locator("#job-state")).to_have_text("Xong")
        expect(page.locator("#job-bar")).to_have_attribute("value", "100")
        expect(report.locator(".counts div").nth(0).locator("dd")).to_have_text("6.000")
        expect(report.locator(".counts div").nth(1).locator("dd")).to_have_text("6.000")
        assert not Family.objects.exists()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        vietnamese.check()
        # On the way the bar moved in place, counting the file's rows: it stood part-way at
        # least once
        seen = page.evaluate("JSON.parse(sessionStorage.getItem('seen') || '[]')")
        # (a reload would have dropped the observer), with the total and the time left.
        under_way = [(bar, left) for done, total, bar, left in seen if 0 < int(done) < ROWS]
        assert under_way and all(str(ROWS) in total for _d, total, _b, _l in seen if total), seen
        assert any(0 < bar < 100 and "còn khoảng" in left for bar, left in under_way), seen

        # The same file is imported, without choosing it again, as a job of its own.
        report.locator("form.confirm button[type=submit]").click()
        page.wait_for_url(lambda url: not url.endswith(f"/jobs/{check.pk}/"))
        expect(report).to_have_class("report ok", timeout=60_000)
        expect(page.locator("#job-state")).to_have_text("Xong")
        expect(report.locator(".counts div").nth(1).locator("dd")).to_have_text("6.000")
        vietnamese.check()

    assert Family.objects.filter(entity__ward=ward_a).count() == ROWS
    assert not JobInput.objects.exists()
    page.locator(".job-links a.primary").click()
    page.wait_for_url(f"**{reverse('entity_list', args=['families'])}")
