"""`/healthz`: whether this instance can serve. No login, no session, a few cheap queries.

200 with `{"status": "ok", ...}` when the database answers, every migration is applied and a job
worker has said it is alive lately (or jobs run in-process); else 503 naming what failed.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from jobs.selectors import worker_alive

# Migrations cannot be un-applied under a running process: once all were applied, that is kept.
_migrated = False


def _database() -> bool:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _migrations_applied() -> bool:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrated


@transaction.non_atomic_requests  # a database that is down must be a 503, not a 500
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    database = _database()
    checks["database"] = "ok" if database else "unreachable"
    if database:
        try:
            checks["migrations"] = "ok" if _migrations_applied() else "pending"
        except Exception:
            checks["migrations"] = "unknown"
        try:
            alive = worker_alive()
            checks["worker"] = {True: "ok", False: "silent", None: "in-process"}[alive]
        except Exception:
            checks["worker"] = "unknown"
    healthy = all(value in ("ok", "in-process") for value in checks.values()) and len(checks) == 3
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page: Vietnamese first, with the request id to quote; no database, no context
    processors (whatever failed may be the database itself)."""
    try:
        content = loader.get_template("500.html").render({"request_id": getattr(request, "id", "")})
    except Exception:  # the template itself: say it plainly
        return HttpResponseServerError(
            "Lỗi máy chủ. Server error.", content_type="text/plain; charset=utf-8"
        )
    return HttpResponseServerError(content)
