"""What "the database is the same" means for the operations tests, and how a command is run
against a database of the test's choosing.

`table_state` reads every table of the database through a DB-API connection and gives, per
table, its row count and a SHA-256 of its rows in a fixed order; two databases with equal states
hold the same rows, down to every timestamp. It works on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_names(cursor, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    else:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )  # sqlite_sequence included: a rolled-back insert must not move it either
    return [name for (name,) in cursor.fetchall()]


def table_state(cursor, vendor: str, tables: list[str] | None = None) -> dict[str, tuple]:
    """{table: (row count, sha256 of the rows ordered by every column)}."""
    state = {}
    for table in tables if tables is not None else table_names(cursor, vendor):
        cursor.execute(f"SELECT * FROM {_quote(table)} LIMIT 0")  # noqa: S608 - catalogue names
        width = len(cursor.description)
        order = ", ".join(str(i) for i in range(1, width + 1))
        cursor.execute(f"SELECT * FROM {_quote(table)} ORDER BY {order}")  # noqa: S608
        digest = hashlib.sha256()
        count = 0
        for row in cursor.fetchall():
            digest.update(repr(row).encode())
            digest.update(b"\n")
            count += 1
        state[table] = (count, digest.hexdigest())
    return state


def database_url(settings_dict: dict, name: str | None = None) -> str:
    """A DATABASE_URL for the database of `settings_dict` (or another on the same server)."""
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{name or settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{name or settings_dict['NAME']}"


def manage_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a `manage.py` run against `url` with the real settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="learnsociety.settings", **extra)
    return env


def manage(*args: str, url: str, timeout: float = 300, **popen) -> subprocess.CompletedProcess:
    """Run `python manage.py ARGS` in a new process against the database at `url`."""
    return subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(PROJECT / "manage.py"), *args],
        cwd=PROJECT,
        env=manage_env(url),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **popen,
    )
