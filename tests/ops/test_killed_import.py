"""An import killed halfway leaves the database exactly as it was.

`manage.py import_registry` and `manage.py import_registrations` run as real processes against a
database shared with the test (PostgreSQL: the test database itself; SQLite: a file copy of it,
since the test database lives in memory). The test waits until the import is demonstrably
writing inside its transaction, well into it, kills it with SIGKILL, and compares every table
with the snapshot taken before: same row count, same checksum of the rows. Then the same import
runs again and succeeds with every row created.

"Demonstrably writing, well into it":
- PostgreSQL: the import's session (found by its application_name) has a transaction id (it has
  written) and holds a RowExclusiveLock on a table the import writes late (households after
  their entity rows; registration events after the registrations), so the rows of the tables
  written before have all been sent. Were they committed on their own, the snapshot would differ.
- SQLite (WAL mode): the import process holds SQLite's write lock (taken at a transaction's
  first write and kept to its commit or rollback; read here with F_GETLK, without taking it) and
  has written at least MIN_FRAMES pages to the write-ahead log. An import that committed in
  chunks would have committed some by then. (SQLite cannot show which table is being written:
  an import committing once per table is caught by the PostgreSQL run, not by this one.)
"""

from __future__ import annotations

import csv
import fcntl
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

from registry.models import Family
from tests.factories import make_clan, make_community
from tests.ops.dbstate import PROJECT, database_url, manage, manage_env, table_state
from tests.titles.factories import FAMILY_DOC, load

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 12_000  # a few seconds of work: long enough to be caught writing
AREAS = 20
CLANS = 5
YEAR = 2025
APP_NAME = f"killed-import-test-{os.getpid()}"  # one per test process (xdist workers)
# SQLite: 4 KiB pages in the log before the kill. The imports below spill 470 (households) and
# 1,170 (registrations) uncommitted pages before their commit with SQLite's default cache.
MIN_FRAMES = 200
WAIT = 180  # seconds an import may take to reach its writes on a busy machine
POLL = 0.005


@dataclass
class Live:
    """The database the import processes share with the test."""

    url: str
    vendor: str
    path: Path | None = None  # SQLite's file
    _kept: object = field(default=None, repr=False)

    def connect(self):
        if self.vendor == "postgresql":
            import psycopg

            # Autocommit: the statistics views are read afresh by every statement, not once
            # per transaction.
            return psycopg.connect(
                self.url.replace("postgres://", "postgresql://", 1), autocommit=True
            )
        return sqlite3.connect(self.path)

    def snapshot(self) -> dict[str, tuple]:
        conn = self.connect()
        try:
            return table_state(conn.cursor(), self.vendor)
        finally:
            conn.close()

    def scalar(self, sql: str, *params, keep: bool = False):
        """The first value `sql` returns; `keep` reuses one connection (for polling)."""
        conn = self._kept if keep and self._kept is not None else self.connect()
        try:
            cursor = conn.cursor()
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
        finally:
            if keep:
                self._kept = conn
            else:
                conn.close()

    def close(self) -> None:
        if self._kept is not None:
            self._kept.close()
            self._kept = None


def go_live(tmp_path: Path) -> Live:
    """The test database as a separate process can open it (after the in-process set-up)."""
    if connection.vendor == "postgresql":
        return Live(url=database_url(connection.settings_dict), vendor="postgresql")
    path = tmp_path / "live.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return Live(url=f"sqlite:///{path}", vendor="sqlite", path=path)


# --- Watching SQLite ---------------------------------------------------------------------------

# SQLite's WAL write lock is byte 120 of the -shm file (the first of its lock bytes), an fcntl
# lock of the writing connection. F_GETLK names a conflicting holder without locking anything.
_WAL_WRITE_LOCK = 120
_FLOCK = "=hh4xqqi4x"  # struct flock on Linux x86-64: type, whence, start, len, pid


def sqlite_write_lock_holder(path: Path) -> int | None:
    """The pid of the process holding the write lock of the database at `path`, if any."""
    try:
        fd = os.open(f"{path}-shm", os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, _WAL_WRITE_LOCK, 1, 0)
        kind, _whence, _start, _len, pid = struct.unpack(
            _FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, query)
        )
    finally:
        os.close(fd)
    return None if kind == fcntl.F_UNLCK else pid


def wal_frames(path: Path) -> tuple[int, int]:
    """(frames, commit frames) in the current generation of a SQLite write-ahead log."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0, 0
    if len(data) < 32:
        return 0, 0
    page_size = struct.unpack(">I", data[8:12])[0]
    salts = data[16:24]
    frames = commits = 0
    offset = 32
    while offset + 24 + page_size <= len(data):
        header = data[offset : offset + 24]
        if header[8:16] != salts:  # a frame of an earlier generation: the log ends here
            break
        frames += 1
        if struct.unpack(">I", header[4:8])[0]:  # the database size after a commit, else 0
            commits += 1
        offset += 24 + page_size
    return frames, commits


def start(live: Live, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(PROJECT / "manage.py"), *args],
        cwd=PROJECT,
        env=manage_env(live.url, PGAPPNAME=APP_NAME),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def writing(live: Live, process: subprocess.Popen, late_table: str) -> str | None:
    """What shows the import well into its writes; None while it is not yet."""
    if live.vendor == "postgresql":
        held = live.scalar(
            "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
            "WHERE a.application_name = %s AND a.backend_xid IS NOT NULL AND l.granted "
            "AND l.mode = 'RowExclusiveLock' AND l.relation = %s::regclass",
            APP_NAME,
            late_table,
            keep=True,
        )
        return f"its transaction was writing {late_table}" if held else None
    if sqlite_write_lock_holder(live.path) != process.pid:
        return None
    frames, commits = wal_frames(Path(f"{live.path}-wal"))
    if frames < MIN_FRAMES:
        return None
    return f"it held the write lock with {frames} pages in the log, {commits} of them commits"


def kill_while_writing(live: Live, args: list[str], *, late_table: str) -> str:
    """Start `manage.py ARGS`, SIGKILL it once it is well into its writes; say what showed it."""
    process = start(live, args)
    deadline = time.monotonic() + WAIT
    try:
        while (seen := writing(live, process, late_table)) is None:
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(
                    f"the import ended (exit {process.returncode}) before it was seen well into "
                    f"its writes; make the file bigger.\n{out}\n{err}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"the import was not seen writing within {WAIT} s")
            time.sleep(POLL)
        process.send_signal(signal.SIGKILL)
    finally:
        live.close()
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the import ended before it was killed"
    if live.vendor == "postgresql":
        # The server notices the lost client and rolls back; wait until its session is gone.
        deadline = time.monotonic() + 30
        while live.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", APP_NAME
        ):
            assert time.monotonic() < deadline, "the killed import's session did not end"
            time.sleep(0.05)
    return seen


# --- The files ---------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def families_file(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "households.csv",
        ["ward", "code", "head_name", "members", "community", "clan"],
        (
            [
                "00070",
                f"HGD{n:06d}",
                f"Nguyễn Văn Hộ {n}",
                1 + n % 7,
                f"TDP{n % AREAS:02d}",
                f"DH{n % CLANS}" if n % 3 else "",
            ]
            for n in range(ROWS)
        ),
    )


def registrations_file(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "registrations.csv",
        ["kind", "ward", "code", "c.F1", "c.F2", "c.F3"],
        (["family", "00070", f"HGD{n:06d}", n % 2, n % 5, n % 31] for n in range(ROWS)),
    )


@pytest.fixture
def ward_with_areas(ward_a):
    load(FAMILY_DOC)
    for n in range(AREAS):
        make_community(ward_a, code=f"TDP{n:02d}", name=f"Tổ dân phố {n}")
    for n in range(CLANS):
        make_clan(ward_a, code=f"DH{n}", name=f"Dòng họ {n}")
    return ward_a


def count(live: Live, table: str) -> int:
    return live.scalar(f"SELECT count(*) FROM {table}")  # noqa: S608 - a fixed table name


# --- The tests ---------------------------------------------------------------------------------


def test_a_killed_registry_import_leaves_the_database_as_it_was(ward_with_areas, tmp_path):
    households = families_file(tmp_path)
    live = go_live(tmp_path)
    before = live.snapshot()
    assert before[Family._meta.db_table][0] == 0

    args = ["import_registry", str(households), "--kind", "families"]
    seen = kill_while_writing(live, args, late_table="registry_family")

    assert live.snapshot() == before, f"killed when {seen}, the database changed"
    rerun = manage(*args, url=live.url)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert count(live, "registry_family") == ROWS


def test_a_killed_registrations_import_leaves_the_database_as_it_was(ward_with_areas, tmp_path):
    households = families_file(tmp_path)
    registrations = registrations_file(tmp_path)
    live = go_live(tmp_path)
    loaded = manage("import_registry", str(households), "--kind", "families", url=live.url)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    before = live.snapshot()
    assert before["titles_registration"][0] == 0

    args = ["import_registrations", str(registrations), "--year", str(YEAR)]
    seen = kill_while_writing(live, args, late_table="titles_registrationevent")

    assert live.snapshot() == before, f"killed when {seen}, the database changed"
    rerun = manage(*args, url=live.url)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert count(live, "titles_registration") == ROWS
    assert count(live, "titles_registrationevent") == ROWS
