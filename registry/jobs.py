"""The registry's background job: checking or importing a spreadsheet uploaded on the import
page, for every kind of file registered in `registry.imports.kinds` (the registry's own and the
apps'). Registered when the app starts (`RegistryConfig.ready`).

The file is stored with the job (`jobs.models.JobInput`); the task gets the job's id only. The
import is the kind's own, all-or-nothing as from the command; the job page shows its report.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from jobs.kinds import JobContext, JobRefused, Outcome, ResultView, register
from registry import uploads
from registry.imports.kinds import registered_kind

IMPORT = "registry.import"
RESULT = ResultView(template="registry/_import_job.html", context=uploads.import_result_context)


@register(IMPORT, result=RESULT)
def import_file(*, job: JobContext, kind: str, dry_run: bool, title: str = "") -> Outcome:
    """Check (`dry_run`) or import the job's file as a file of `kind`."""
    registered = registered_kind(kind)
    if registered is None:
        raise JobRefused(_("This kind of file can no longer be imported."))
    return uploads.import_job(
        job,
        dry_run=dry_run,
        subject=registered.label,
        page_url=reverse("registry_import"),
        done_url=registered.done_url(),
        run=registered.run,
    )
