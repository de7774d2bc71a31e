"""gunicorn's settings for learnsociety (`gunicorn learnsociety.wsgi`, read from this directory).

Long work runs as background jobs (`manage.py jobs_worker`), so a request only reads, writes a
little or enqueues: 30 seconds is ample and a request past it is a bug to log, not to wait for.
Every value can be overridden with gunicorn's own environment variable (GUNICORN_CMD_ARGS) or on
the command line.
"""

import multiprocessing
import os

# The web server's database connections plan no parallel queries. Its requests are short and
# many at once: each parallel query starts extra server processes whose CPU, under load on a
# small machine, is taken from the other requests (50 users at Hanoi scale: p95 1.2 s with
# them, 0.72 s without). Commands and the jobs worker keep the default, parallel plans for their
# long aggregates. README: "PostgreSQL settings". A PG_OPTIONS set beforehand is kept.
os.environ.setdefault("PG_OPTIONS", "-c jit=off -c max_parallel_workers_per_gather=0")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: two per core plus one (the usual rule for work that waits on the database).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGHUP or SIGTERM, workers finish the requests in hand for up to this long.
graceful_timeout = 30
keepalive = 5
# Recycle each worker after 5,000 to 7,500 requests: memory a request grew is handed back. Not
# more often: a new worker spends about a second of CPU importing the app before it serves, and
# workers that share the load evenly reach their count together (at 1,000 ± 100, 200 users saw
# all five restart within seconds of each other, every two minutes).
max_requests = 5000
max_requests_jitter = 2500
# The app logs every request it finds slow, in JSON with its request id; gunicorn's access log
# is off unless asked for (GUNICORN_CMD_ARGS="--access-logfile -").
accesslog = None
errorlog = "-"
loglevel = "info"
# Behind the TLS proxy on the same machine: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
