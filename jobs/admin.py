"""No admin pages for jobs: a job is its owner's, shown on its own page (`jobs.views`). The job
library's admin of its task rows (arguments, tracebacks of anyone's jobs) is removed too."""

from django.contrib import admin
from django_tasks_db.models import DBTaskResult

if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)
