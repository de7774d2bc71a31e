"""A job's page: its progress while it runs (polled by static/js/jobs.js), then its outcome and
file. Only its owner sees it; anyone else gets 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from jobs import kinds, selectors, services
from jobs.models import Job


def _state(job: Job) -> dict:
    percent = None
    if job.total:
        percent = round(100 * job.done / job.total)
    elif job.state == Job.State.DONE:
        percent = 100
    return {
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "done": job.done,
        "total": job.total,
        "percent": percent,
        "seconds_left": selectors.seconds_left(job),
        "finished": job.finished,
    }


@login_required
@require_GET
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    services.fail_stale(job_id=pk)
    job = selectors.job_of(user=request.user, pk=pk)
    context = {
        "job": job,
        # The outcome's title, else the one the job was started with (a kind's `title` argument).
        "heading": job.result.get("summary", {}).get("title") or job.args.get("title", ""),
        "progress": _state(job),
        "has_output": job.state == Job.State.DONE and hasattr(job, "output"),
        "poll_url": reverse("job_progress", args=[job.pk]),
    }
    result_view = kinds.result_view_of(job.kind)
    if result_view is not None and job.state == Job.State.DONE:
        context.update(result_view.context(request, job), result_template=result_view.template)
    return render(request, "jobs/status.html", context)


@login_required
@require_GET
def job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    services.fail_stale(job_id=pk)
    return JsonResponse(_state(selectors.job_of(user=request.user, pk=pk)))


@login_required
@require_GET
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    output = selectors.output_of(user=request.user, pk=pk)
    response = HttpResponse(bytes(output.content), content_type=output.content_type)
    response["Content-Disposition"] = f'attachment; filename="{output.filename}"'
    return response


urlpatterns = [
    path("<int:pk>/", job_status, name="job_status"),
    path("<int:pk>/progress/", job_progress, name="job_progress"),
    path("<int:pk>/download/", job_download, name="job_download"),
]
