"""The backup procedure of the README ("Operations: backup and restore"), run for real.

Data is made through the services (registry entities, registrations with evidence, an
evaluation, an approval, a rejection and a decision), then the documented commands run as
written: pg_dump in custom format, createdb, pg_restore into the fresh database, `migrate
--check` and `rollup --verify` against it. Every table must hold the same rows in both databases
(count and a checksum of the ordered rows), sequences must stand where they stood, and the
schema's triggers, constraints and indexes must all be there.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from registry.models import Kind
from registry.services.entities import entity_create
from tests.factories import make_clan, make_community, make_family
from tests.ops.dbstate import database_url, manage, table_state
from tests.titles.factories import FAMILY_DOC, load
from titles.models import Registration, State
from titles.services.evaluate import registrations_evaluate
from titles.services.registrations import evidence_save, registration_create
from titles.services.review import decision_issue, registration_approve, registration_reject

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pg_dump/pg_restore are PostgreSQL's; the SQLite copy is sqlite3's .backup",
)

YEAR = 2025


def _major(version_output: str) -> int:
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", version_output)
    assert match, version_output
    return int(match.group(1))


def pg_tool(name: str, server_major: int) -> str:
    """The `name` binary of the server's major version or newer, as the README says."""
    candidates = [Path(f"/usr/lib/postgresql/{server_major}/bin/{name}")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run(  # noqa: S603
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        candidates.append(Path(bindir) / name)
    if shutil.which(name):
        candidates.append(Path(shutil.which(name)))
    for path in candidates:
        if path.is_file():
            version = subprocess.run(  # noqa: S603
                [str(path), "--version"], capture_output=True, text=True, check=False
            ).stdout
            if _major(version) >= server_major:
                return str(path)
    pytest.fail(f"no {name} of PostgreSQL {server_major} or newer (install postgresql-client)")


def schema_state(conn) -> dict[str, list]:
    """What a restore must bring back besides the rows: triggers, constraints, indexes, the
    functions the triggers call, and where every sequence stands."""
    queries = {
        "triggers": "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND NOT t.tgisinternal",
        # By name and type: PostgreSQL may print a restored CHECK's expression differently.
        "constraints": "SELECT c.conrelid::regclass::text, c.conname, c.contype "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = 'public'",
        # Up to a partial index's predicate, which may be printed differently too.
        "indexes": "SELECT tablename, indexname, split_part(indexdef, ' WHERE ', 1), "
        "indexdef LIKE '% WHERE %' FROM pg_indexes WHERE schemaname = 'public'",
        "functions": "SELECT p.proname, md5(p.prosrc) FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
        "sequences": "SELECT sequencename, last_value FROM pg_sequences "
        "WHERE schemaname = 'public'",
    }
    with conn.cursor() as cursor:
        state = {}
        for what, sql in queries.items():
            cursor.execute(sql)
            state[what] = sorted(cursor.fetchall(), key=repr)
    return state


def database_state(url: str) -> tuple[dict, dict]:
    # A plain psycopg connection on both sides, so values come back as the same Python types.
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        with conn.cursor() as cursor:
            rows = table_state(cursor, "postgresql")
        return rows, schema_state(conn)


def make_data(ward, *, staff, official, admin) -> dict[str, int]:
    """A ward's year through the services: what a backup has to carry."""
    load(FAMILY_DOC)
    community = make_community(ward, code="TDP01", name="Tổ dân phố Hàng Bạc")
    clan = make_clan(ward, code="DH01", name="Dòng họ Nguyễn", head_name="Nguyễn Văn Cả")
    families = [
        make_family(
            ward,
            code=f"HGD{n:02d}",
            head_name=f"Nguyễn Thị Hoà {n}",
            members=2 + n,
            community=community,
            clan=clan if n % 2 else None,
        )
        for n in range(8)
    ]
    entity_create(
        kind=Kind.UNIT,
        ward=ward,
        code="DV01",
        name="Trường THCS Chu Văn An",
        unit_type="school",
        staff=40,
    )
    entity_create(
        kind=Kind.CITIZEN,
        ward=ward,
        code="CD01",
        name="Lê Văn Đức",
        birth_year=1980,
        family=families[0],
        unit=None,
    )
    for n, family in enumerate(families):
        registration = registration_create(user=admin, entity=family.entity, year=YEAR)
        evidence_save(
            registration=registration,
            values={"F1": "có" if n != 3 else "không", "F2": str(n % 4), "F3": str(10 + n * 2)},
            user=staff,
        )
    registrations_evaluate(year=YEAR, user=staff)
    evaluated = list(Registration.objects.filter(year=YEAR, state=State.EVALUATED).order_by("pk"))
    passed = [r for r in evaluated if r.passed]
    failed = [r for r in evaluated if not r.passed]
    assert len(passed) >= 3 and failed, [(r.points, r.passed) for r in evaluated]
    approved = [registration_approve(registration=r, user=official) for r in passed[:3]]
    registration_reject(registration=failed[0], user=official, reason="Thiếu minh chứng F1")
    decision_issue(
        user=official,
        ward=ward,
        year=YEAR,
        number="123/QĐ-UBND",
        date=datetime.date(YEAR, 12, 10),
        registrations=approved,
    )
    return {
        "recognized": Registration.objects.filter(state=State.RECOGNIZED).count(),
        "rejected": Registration.objects.filter(state=State.REJECTED).count(),
    }


@pytest.mark.django_db(transaction=True)
def test_dump_and_restore_give_the_same_database(ward_a, alice, bob, dave, tmp_path):
    made = make_data(ward_a, staff=alice, official=bob, admin=dave)
    assert made == {"recognized": 3, "rejected": 1}

    settings = connection.settings_dict
    source_url = database_url(settings)
    restored_name = f"{settings['NAME']}_restored"
    restored_url = database_url(settings, restored_name)
    server_major = connection.connection.info.server_version // 10000
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    host = settings.get("HOST") or "127.0.0.1"
    port = str(settings.get("PORT") or 5432)
    user = settings.get("USER") or "postgres"

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(  # noqa: S603 - PostgreSQL's own tools
            args, capture_output=True, text=True, env=env, timeout=300, check=False
        )
        assert done.returncode == 0, f"{args[0]} failed: {done.stderr}"
        return done

    dump = tmp_path / "learnsociety.dump"
    run(
        pg_tool("dropdb", server_major),
        "--if-exists",
        "--force",
        "-h",
        host,
        "-p",
        port,
        "-U",
        user,
        restored_name,
    )
    try:
        # The README's commands, as written there.
        run(
            pg_tool("pg_dump", server_major),
            "--format=custom",
            "--no-owner",
            "--no-acl",
            f"--file={dump}",
            source_url,
        )
        listing = run(pg_tool("pg_restore", server_major), "--list", str(dump)).stdout
        assert "TABLE DATA public titles_registration" in listing
        run(pg_tool("createdb", server_major), "-h", host, "-p", port, "-U", user, restored_name)
        run(
            pg_tool("pg_restore", server_major),
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={restored_url}",
            str(dump),
        )

        source_rows, source_schema = database_state(source_url)
        restored_rows, restored_schema = database_state(restored_url)
        assert source_rows["titles_registration"][0] == 8
        assert source_rows["titles_decision"][0] == 1
        assert source_rows["registry_entity"][0] == 12  # area, clan, 8 households, unit, citizen
        assert restored_rows == source_rows
        for what in source_schema:
            assert restored_schema[what] == source_schema[what], what
        assert source_schema["triggers"], "the same-ward triggers are part of the schema"

        checked = manage("migrate", "--check", url=restored_url)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        verified = manage("rollup", "--verify", url=restored_url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # "No difference: N summary rows checked." in the settings' language (Vietnamese).
        checked_rows = re.search(r"\d+", verified.stdout)
        assert checked_rows and int(checked_rows.group()) > 0, verified.stdout
    finally:
        connection.close()
        run(
            pg_tool("dropdb", server_major),
            "--if-exists",
            "--force",
            "-h",
            host,
            "-p",
            port,
            "-U",
            user,
            restored_name,
        )
