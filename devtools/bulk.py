"""The bulk-load toolkit of the demo generators: for development only, never production.

Loading a province of demonstration data (Hanoi: 8 million entities, as many registrations)
row by row through the ORM takes hours. These tools make it minutes, at a price no shared
production database may pay: they drop foreign keys and indexes inside the loading transaction
(exclusive locks on the tables until it ends), lock tables to draw blocks of ids, write with
COPY, and make rows in a forked process.
"""

from __future__ import annotations

import contextlib
import multiprocessing

from django.db import connection
from django.utils import timezone

BATCH_SIZE = 2000


@contextlib.contextmanager
def quiet_cursor():
    """A cursor that does not log its queries.

    With DEBUG on, Django's cursor keeps the text of the last 9,000 queries with their values
    interpolated; for these multi-row INSERTs that is hundreds of megabytes and a third of the
    time. Errors are still translated to Django's (IntegrityError from the triggers...).
    """
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection.create_cursor()
    try:
        with connection.wrap_database_errors:
            yield cursor
    finally:
        cursor.close()


def analyze(*tables: type) -> None:
    """PostgreSQL: refresh the planner's statistics of tables a bulk load has just filled.

    Inside the loading transaction too (ANALYZE counts the transaction's own rows): the queries
    that follow in it (tallies, evaluation, summaries) would otherwise be planned for the
    tables as they were before, possibly empty.
    """
    if connection.vendor != "postgresql":
        return
    with quiet_cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


BULK_MEMORY = "1GB"
"""Memory a bulk load's one-off statements may use (for its transaction only): building an index
(maintenance_work_mem in `indexes_built_at_end`) and checking a foreign key over a whole table
(work_mem in `foreign_keys_checked_at_end`), so that millions of keys sort or hash in memory."""


@contextlib.contextmanager
def foreign_keys_checked_at_end(*tables: type):
    """PostgreSQL bulk load: check these tables' foreign keys once, at the end, for all rows.

    A foreign key is otherwise checked row by row (an SPI query per row and key, queued until
    the commit for Django's deferred keys): about 5 µs each, 40 million of them for Hanoi's
    registry. So the keys are dropped inside the loading transaction and added back when the
    rows are in, which validates every row of the table in one join per key; a dangling
    reference fails the whole load (IntegrityError), as a row-level check would. The drop
    takes an exclusive lock on the tables until the transaction ends: other sessions wait for
    the load (this is for generating demonstration data, not for a shared production database).
    The checks already queued in the transaction run first (a table with pending checks cannot
    be altered); Django's keys are all deferred, as the transaction finds them again after.
    SQLite checks its foreign keys at commit anyway: nothing to do there.
    """
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    names = [model._meta.db_table for model in tables]
    with quiet_cursor() as cursor:
        cursor.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
               FROM pg_constraint
               WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
               ORDER BY conrelid::regclass::text, conname""",
            [names],
        )
        keys = cursor.fetchall()
        qn = connection.ops.quote_name
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, _definition in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")
    yield
    with quiet_cursor() as cursor:
        # Each check is a join of the whole table with the one it references: given room
        # (for this transaction only), it hashes in memory instead of in batches on disk.
        cursor.execute("SELECT set_config('work_mem', %s, true)", [BULK_MEMORY])
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {qn(name)} {definition}")
        cursor.execute("RESET work_mem")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextlib.contextmanager
def indexes_built_at_end(*tables: type):
    """PostgreSQL bulk load: build these tables' secondary B-tree indexes once, at the end.

    A B-tree index is otherwise updated row by row, a descent of its tree per row; building it
    over the loaded table sorts the rows once instead. So the B-tree indexes that back no
    constraint (primary keys and unique constraints are kept: they still refuse a duplicate
    the moment it is written) are dropped inside the loading transaction and created again,
    with the same definitions, on the way out. GIN indexes (the trigram index of the search
    text) are kept: their pending list already batches the inserts, and a build from scratch
    measured no faster (47 s for Hanoi's 8.3 million entities), while it would run with
    nothing else to do. Like `foreign_keys_checked_at_end`, the drop locks the tables until
    the transaction ends, which is for generating demonstration data, not for a shared
    production database; if the load fails, the transaction rolls back and the indexes are as
    they were. SQLite: nothing to do.
    """
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    names = [model._meta.db_table for model in tables]
    with quiet_cursor() as cursor:
        cursor.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i
               WHERE i.indrelid = ANY(%s::regclass[])
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                 AND (SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
                      WHERE c.oid = i.indexrelid) = 'btree'
               ORDER BY i.indrelid::regclass::text, 1""",
            [names],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with quiet_cursor() as cursor:
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [BULK_MEMORY])
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")


class BulkWriter:
    """Bulk writes of plain tuples, for the demo data of the registry and of the titles.

    Django's bulk_create spends most of its time building model instances and preparing each
    value in Python (measured: 80% of a run on SQLite), and psycopg re-parses every long
    INSERT in Python. So SQLite gets plain multi-row INSERT ... VALUES ... RETURNING, and
    PostgreSQL COPY with ids drawn from the table's sequence first (`next_ids`). Values always
    travel as parameters or COPY data; only quoted table and column names from the models'
    metadata are part of the SQL. Every trigger, constraint and foreign key still applies to
    every row.
    """

    def __init__(self):
        self.now = connection.ops.adapt_datetimefield_value(timezone.now())
        self.max_params = connection.features.max_query_params or 65_535
        self.copy = connection.vendor == "postgresql"

    @staticmethod
    def _columns(model, fields: list[str] | tuple[str, ...]) -> str:
        qn = connection.ops.quote_name
        return ", ".join(qn(model._meta.get_field(f).column) for f in fields)

    def insert(
        self, model, fields: list[str], rows: list[tuple], returning: tuple[str, ...] = ()
    ) -> list[tuple]:
        """Insert `rows` (values in the order of `fields`); with `returning` (SQLite only),
        those columns of the rows inserted, in no promised order."""
        if not rows:
            return []
        table = connection.ops.quote_name(model._meta.db_table)
        columns = self._columns(model, fields)
        if self.copy:
            with (
                quiet_cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return []
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        tail = f" RETURNING {self._columns(model, returning)}" if returning else ""
        per_statement = max(1, min(BATCH_SIZE, self.max_params // len(fields)))
        returned: list[tuple] = []
        with quiet_cursor() as cursor:
            for start in range(0, len(rows), per_statement):
                batch = rows[start : start + per_statement]
                values = ", ".join([one] * len(batch))
                sql = f"INSERT INTO {table} ({columns}) VALUES {values}{tail}"  # noqa: S608
                cursor.execute(sql, [value for row in batch for value in row])
                if returning:
                    returned.extend(cursor.fetchall())
        return returned

    def next_ids(self, model, n: int) -> list[int]:
        """PostgreSQL: `n` new consecutive ids from the table's sequence, for rows COPY writes
        with ids. One statement moves the sequence on by `n` (nextval row by row costs ~7 µs
        each: 8 million of them for Hanoi). A block is only safe if no other session draws from
        the sequence meanwhile, so the table is locked against writes first, until the end of
        the transaction (demo loads hold a stronger lock already)."""
        table = model._meta.db_table
        with quiet_cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN EXCLUSIVE MODE")
            cursor.execute(
                "SELECT setval(s, nextval(s) + %s - 1) FROM pg_get_serial_sequence(%s, %s) s",
                [n, table, model._meta.pk.column],
            )
            last = cursor.fetchone()[0]
        return list(range(last - n + 1, last + 1))


def in_background(items, depth: int = 4):
    """Iterate over `items` (a generator) made in a process of its own, `depth` items ahead.

    The demo's rows are made in pure Python and written by the database server: done in turn,
    each side waits for the other, and a thread would share the interpreter's lock with the
    writing one. So a forked child runs the generator and hands its items over a pipe while
    this process writes the previous ones. The generator must not touch the database (the
    child shares this process's connection socket, never to be used there); the child ends
    with os._exit, so nothing of that connection is closed on its way out. An exception in the
    generator is raised here; if the caller stops early (an error while writing), the child is
    stopped. Where fork is not available, the items are made in turn, in this process.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        yield from items
        return
    context = multiprocessing.get_context("fork")
    ahead = context.Queue(maxsize=depth)

    def run() -> None:
        try:
            for item in items:
                ahead.put(("item", item))
            ahead.put(("done", None))
        except BaseException as exc:  # handed to the caller, raised there
            ahead.put(("error", exc))
        ahead.close()
        ahead.join_thread()

    child = context.Process(target=run, name="demo-rows", daemon=True)
    child.start()
    try:
        while True:
            what, item = ahead.get()
            if what == "error":
                raise item
            if what == "done":
                return
            yield item
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        ahead.close()
