"""`manage.py jobs_worker`: runs queued jobs (django-tasks' database worker) and says it is
alive every JOB_HEARTBEAT_SECONDS, for /healthz and for the jobs it runs.

Ctrl-C or SIGTERM stops it once the running job ends; a second one stops it at once (the job is
then failed by its stale heartbeat and its unfinished transaction rolled back). Options are
`db_worker`'s (`--queue-name`, `--interval`, `--batch`, ...).
"""

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from jobs import services


class Command(DatabaseWorkerCommand):
    help = "Run queued background jobs, with a heartbeat for /healthz."

    def handle(self, *args, **options):
        services.fail_stale()
        heartbeat = services.Heartbeat().start()
        try:
            return super().handle(*args, **options)
        finally:
            heartbeat.stop()
