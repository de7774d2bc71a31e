"""Operations: /healthz, request ids, JSON logs with a line per slow request, the Redis cache,
gunicorn's configuration."""

from __future__ import annotations

import json
import logging
import os
import runpy
import socket
import sys
import uuid
from pathlib import Path

import environ
import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.utils import timezone

from jobs.models import WorkerBeat
from ops.logs import JsonFormatter, RequestIdFilter

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_answers_ok_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "worker": "in-process"},
    }
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_503_while_no_worker_is_alive(client, settings):
    settings.TASKS = DATABASE_BACKEND
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "silent"

    WorkerBeat.objects.create(worker="host:1", beat_at=timezone.now())
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_healthz_is_503_when_the_last_beat_is_stale(client, settings):
    settings.TASKS = DATABASE_BACKEND
    settings.JOB_STALE_SECONDS = 60
    WorkerBeat.objects.create(
        worker="host:1", beat_at=timezone.now() - timezone.timedelta(seconds=90)
    )
    assert client.get("/healthz").status_code == 503


@pytest.mark.django_db
def test_a_request_id_is_echoed_or_made(client):
    given = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")
    assert made["X-Request-ID"] != "<script>" and len(made["X-Request-ID"]) == 32
    assert client.get("/healthz")["X-Request-ID"] != made["X-Request-ID"]


@pytest.mark.django_db
def test_a_slow_request_is_logged_with_its_request_id(client, settings, caplog):
    settings.SLOW_REQUEST_MS = -1  # every request counts as slow
    with caplog.at_level(logging.WARNING, logger="learnsociety.requests"):
        client.get("/healthz", HTTP_X_REQUEST_ID="slow-1")
    [record] = [r for r in caplog.records if r.name == "learnsociety.requests"]
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING"
    assert line["path"] == "/healthz" and line["status"] == 200 and line["duration_ms"] >= 0
    assert line["message"].startswith("slow request: GET /healthz 200 in ")


@pytest.mark.django_db
def test_fast_requests_are_not_logged(client, settings, caplog):
    settings.SLOW_REQUEST_MS = 60_000
    with caplog.at_level(logging.WARNING, logger="learnsociety.requests"):
        client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "learnsociety.requests"]


def test_log_lines_are_json_with_the_traceback():
    try:
        raise ValueError("Không đọc được")
    except ValueError:
        record = logging.getLogger("tests.ops").makeRecord(
            "tests.ops", logging.ERROR, __file__, 1, "failed: %s", ("x",), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed: x" and line["request_id"] == "-"
    assert "ValueError: Không đọc được" in line["exception"]


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379")
def test_cache_url_redis_works():
    config = environ.Env.cache_url_config("redis://127.0.0.1:6379/15")
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    cache = RedisCache(config["LOCATION"], {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    cache.set("phường", {"mã": "00070"}, timeout=30)
    assert cache.get("phường") == {"mã": "00070"}
    cache.delete("phường")
    assert cache.get("phường") is None


def test_gunicorn_config_suits_the_jobs_design(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    config = runpy.run_path(str(PROJECT / "gunicorn.conf.py"))
    assert config["workers"] == 3
    assert config["timeout"] == 30 and config["graceful_timeout"] == 30
    assert config["max_requests"] > 0 and config["max_requests_jitter"] > 0
    monkeypatch.delenv("WEB_CONCURRENCY")
    assert runpy.run_path(str(PROJECT / "gunicorn.conf.py"))["workers"] >= 3


def test_the_web_server_s_connections_plan_no_parallel_queries(monkeypatch):
    """Short requests many at once: the web server's connections start no parallel query
    workers (set by its config before the app loads); an operator's own PG_OPTIONS wins."""
    monkeypatch.delenv("PG_OPTIONS", raising=False)
    runpy.run_path(str(PROJECT / "gunicorn.conf.py"))
    assert os.environ["PG_OPTIONS"] == "-c jit=off -c max_parallel_workers_per_gather=0"
    monkeypatch.setenv("PG_OPTIONS", "-c jit=off -c work_mem=64MB")
    runpy.run_path(str(PROJECT / "gunicorn.conf.py"))
    assert os.environ["PG_OPTIONS"] == "-c jit=off -c work_mem=64MB"


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    """JIT compilation cost most of a list query's time at province scale: the app's own
    connections turn it off (`PG_OPTIONS`), whatever the server's default."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
