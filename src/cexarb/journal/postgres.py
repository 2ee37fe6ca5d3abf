"""The production journal: PostgreSQL through asyncpg.

asyncpg rather than psycopg 3: it is asyncio-native (no thread hop per batch), its
`executemany` pipelines a whole batch of INSERTs in one round trip, and its errors
tell a lost connection (class 08, 57P0x operator shutdown) from a bad statement,
which is exactly the line between "spool and retry" and "a bug". One connection is
enough: only the journal's drainer writes.

`?schema=NAME` in the URL keeps the tables in that schema (created on migrate);
tests use one per test so concurrent runs never meet.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import asyncpg

from cexarb.journal.backends import (
    check_version,
    insert_sql,
    not_migrated,
    redact_url,
    select_sql,
    split_schema,
)
from cexarb.journal.events import Event, RunStarted
from cexarb.journal.schema import (
    MIGRATIONS,
    SCHEMA_VERSION_TABLE,
    TABLE_BY_NAME,
    TABLES,
    rows_by_table,
)
from cexarb.model.errors import JournalError, JournalUnavailable

_CONNECT_TIMEOUT_S = 5.0
_COMMAND_TIMEOUT_S = 10.0
# What "the database went away" looks like (vs a statement the server refused).
_LOST = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
)
# Same key for every cexarb process: two migrating at once take turns.
_MIGRATE_LOCK = 0x63657861726200


def _placeholder(i: int) -> str:
    return f"${i}"


class PostgresBackend:
    def __init__(self, url: str) -> None:
        self._dsn, self.schema = split_schema(url)
        self.url = redact_url(url)
        self._conn: asyncpg.Connection | None = None
        self._inserts = {t: insert_sql(t, _placeholder) for t in TABLES.values()}

    async def _db(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            # The name lets an operator (or a test) find the journal's session in pg_stat_activity.
            settings = {"application_name": "cexarb-journal"}
            if self.schema:
                settings["search_path"] = self.schema
            try:
                self._conn = await asyncpg.connect(
                    self._dsn,
                    timeout=_CONNECT_TIMEOUT_S,
                    command_timeout=_COMMAND_TIMEOUT_S,
                    server_settings=settings,
                )
            except _LOST as exc:
                raise JournalUnavailable(f"postgres journal {self.url}: {exc!r}") from exc
            except asyncpg.PostgresError as exc:  # bad database, user or password
                raise JournalError(f"postgres journal {self.url}: {exc}") from exc
        return self._conn

    def _lost(self, exc: BaseException) -> JournalUnavailable:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()
        return JournalUnavailable(f"postgres journal {self.url}: {exc!r}")

    async def connect(self) -> None:
        await self._db()

    async def migrate(self) -> int:
        db = await self._db()
        try:
            if self.schema:
                await db.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            async with db.transaction():
                await db.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATE_LOCK)
                await db.execute(SCHEMA_VERSION_TABLE)
                version = await db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version")
                check_version(version)
                for number, statements in MIGRATIONS:
                    if number > version:
                        for sql in statements:
                            await db.execute(sql)
                        await db.execute("INSERT INTO schema_version VALUES ($1, $2)", number, time.time())
                        version = number
            return version
        except _LOST as exc:
            raise self._lost(exc) from exc

    async def write(self, batch: list[Event]) -> None:
        db = await self._db()
        try:
            async with db.transaction():
                for table, rows in rows_by_table(batch).items():
                    await db.executemany(self._inserts[table], rows)
        except _LOST as exc:
            raise self._lost(exc) from exc

    async def read(self, table: str, run_ids: Sequence[str]) -> list[Event]:
        if not run_ids:
            return []
        spec = TABLE_BY_NAME[table]
        db = await self._db()
        try:
            rows = await db.fetch(select_sql(spec, len(run_ids), _placeholder), *run_ids)
        except asyncpg.UndefinedTableError as exc:
            raise not_migrated(self.url) from exc
        except _LOST as exc:
            raise self._lost(exc) from exc
        return [spec.from_row(r) for r in rows]

    async def runs(self, since: float = 0.0) -> list[RunStarted]:
        spec = TABLES[RunStarted]
        db = await self._db()
        try:
            rows = await db.fetch(
                f"SELECT {', '.join(spec.columns)} FROM runs WHERE ts >= $1 ORDER BY ts", since
            )
        except asyncpg.UndefinedTableError as exc:
            raise not_migrated(self.url) from exc
        except _LOST as exc:
            raise self._lost(exc) from exc
        return [spec.from_row(r) for r in rows]

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=2.0)
            except Exception:
                conn.terminate()
