"""Reading the page of a job a confirmed action started (jobs run in-process in tests)."""

from __future__ import annotations

import re
from html import unescape

from django.urls import reverse

from jobs.models import Job


def job_page(client, response, *, state: str = Job.State.DONE):
    """The job page `response` redirected to, once its job (the newest) ran to `state`."""
    job = Job.objects.latest("pk")
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == reverse("job_status", args=[job.pk])
    assert job.state == state, job.errors
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page


def job_links(page) -> list[str]:
    """Where the finished job's page leads: the result's links, then back to the list."""
    block = re.search(r'<p class="job-links">(.*?)</p>', page.content.decode(), flags=re.S)
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', block.group(1))]


def job_notes(page) -> list[str]:
    """What the finished job says it did."""
    found = re.findall(r'<p class="notice">(.*?)</p>', page.content.decode(), flags=re.S)
    return [unescape(note) for note in found]


def job_errors(page) -> list[str]:
    block = re.search(r'<ul class="errors" role="alert">(.*?)</ul>', page.content.decode(), re.S)
    return [unescape(e) for e in re.findall(r"<li>(.*?)</li>", block.group(1), flags=re.S)]
