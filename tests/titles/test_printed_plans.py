"""A decision's page reads its own registrations, not the ward's nor every entity (PostgreSQL).

A ward of thousands of households, a decision recognising some of them and many registrations of
the ward outside it, analysed so that the planner chooses as it would on a real database: the
query that finds a page (first, and further on by cursor) reads `titles_registration` through
the decision's index and each row's entity by its key, with no sequential scan, no COUNT and no
OFFSET.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager

import pytest
from django.db import connection
from django.urls import reverse

from registry.models import Entity, Family, Kind
from registry.text import fold, sort_key
from tests.factories import make_community
from titles.models import Decision, Registration, State

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="query plans are PostgreSQL's"
)

YEAR = 2025
HOUSEHOLDS = 4000
RECOGNISED = 600


@pytest.fixture
def decision(ward_a):
    area = make_community(ward_a, code="TDP1", name="Tổ 1")
    names = [f"Nguyễn Văn {i:05d}" for i in range(HOUSEHOLDS)]
    entities = Entity.objects.bulk_create(
        Entity(
            kind=Kind.FAMILY,
            province=ward_a.parent,
            ward=ward_a,
            code=f"F{i:05d}",
            name=name,
            sort_key=sort_key(name),
            search_text=fold(name),
        )
        for i, name in enumerate(names)
    )
    Family.objects.bulk_create(Family(entity=e, members=4, community_id=area.pk) for e in entities)
    decision = Decision.objects.create(
        ward=ward_a, province=ward_a.parent, year=YEAR, number="1", date=datetime.date(YEAR, 12, 1)
    )
    Registration.objects.bulk_create(
        Registration(
            entity=e,
            year=YEAR,
            kind=Kind.FAMILY,
            ward=ward_a,
            province=ward_a.parent,
            passed=True,
            state=State.RECOGNIZED if i < RECOGNISED else State.REGISTERED,
            decision=decision if i < RECOGNISED else None,
        )
        for i, e in enumerate(entities)
    )
    with connection.cursor() as cursor:
        for table in ("registry_entity", "registry_family", "titles_registration"):
            cursor.execute(f"ANALYZE {table}")
    return decision


@contextmanager
def _queries():
    """Every query run inside, with its parameters."""
    statements: list[tuple[str, tuple]] = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield statements


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_decision_pages_read_the_decisions_rows_by_index(client, bob, decision):
    client.force_login(bob)
    url = reverse("decision_detail", args=[decision.pk])
    with _queries() as first:
        page = client.get(url)
    assert page.status_code == 200
    with _queries() as later:
        assert client.get(url, {"cursor": page.context["page"].next_cursor}).status_code == 200
    for queries in (first, later):
        assert not any("OFFSET" in sql for sql, _ in queries)
        # The counts by title are summed from the ward's counts, never counted from the
        # decision's registrations.
        assert not any(
            "COUNT(" in sql and 'FROM "titles_registration"' in sql for sql, _ in queries
        ), queries
        assert any('FROM "titles_registrationcount"' in sql for sql, _ in queries)
        # The page's keys: the decision's registrations' title, sort key and id, nothing else.
        [(sql, params)] = [
            (sql, params)
            for sql, params in queries
            if sql.startswith(
                'SELECT "titles_registration"."kind" AS "kind", '
                '"titles_registration"."sort_key" AS "sort_key", '
                '"titles_registration"."id" AS "pk" FROM "titles_registration"'
            )
        ]
        plan = _plan(sql, params)
        assert "Seq Scan on titles_registration" not in plan, plan
        assert "reg_ward" not in plan, plan  # not the ward's registrations
        assert "reg_decision" in plan, plan
