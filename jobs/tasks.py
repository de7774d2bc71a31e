"""The one task the job library runs: a job, by id (JSON arguments, never model instances)."""

from django_tasks import task

from jobs import services


@task()
def run_job(job_id: int) -> None:
    services.run(job_id=job_id)
