"""Where the journal's rows go: SQLite (embedded default) or PostgreSQL, same schema.

A backend writes a batch in one transaction with INSERT ... ON CONFLICT DO NOTHING
(a batch written twice is written once), applies the migrations, and reads events
back for the report. Losing the database raises `JournalUnavailable`; the writer
spools and retries. SQLite runs in one dedicated thread (a sqlite3 connection
belongs to the thread that opened it), so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cexarb.journal.events import Event, RunStarted
from cexarb.journal.schema import (
    LATEST_VERSION,
    MIGRATIONS,
    SCHEMA_VERSION_TABLE,
    TABLE_BY_NAME,
    TABLES,
    Table,
    rows_by_table,
)
from cexarb.model.errors import JournalError, JournalUnavailable


class Backend(Protocol):
    url: str  # as shown to people: password redacted

    async def connect(self) -> None: ...

    async def migrate(self) -> int: ...

    async def write(self, batch: list[Event]) -> None: ...

    async def read(self, table: str, run_ids: Sequence[str]) -> list[Event]: ...

    async def runs(self, since: float = 0.0) -> list[RunStarted]: ...

    async def close(self) -> None: ...


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def open_backend(url: str) -> Backend:
    """A backend for `sqlite:///path`, a plain file path, or `postgresql://...[?schema=NAME]`."""
    scheme = urlsplit(url).scheme
    if scheme in ("postgresql", "postgres"):
        from cexarb.journal.postgres import PostgresBackend

        return PostgresBackend(url)
    if scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////abs/path.db, as SQLAlchemy writes them
        return SqliteBackend(Path(url.removeprefix("sqlite:///")))
    if scheme in ("", "file") or len(scheme) == 1:  # a path (a Windows drive letter is a 1-letter scheme)
        return SqliteBackend(Path(url.removeprefix("file://")))
    raise JournalError(
        f"unsupported journal URL scheme {scheme!r} in {redact_url(url)}",
        hint="use a file path, sqlite:///path.db or postgresql://user@host:port/db",
    )


def insert_sql(table: Table, placeholder) -> str:
    values = ", ".join(placeholder(i + 1) for i in range(len(table.columns)))
    key = ", ".join(table.key)
    return (
        f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({values}) "
        f"ON CONFLICT ({key}) DO NOTHING"
    )


def select_sql(table: Table, n_runs: int, placeholder) -> str:
    ids = ", ".join(placeholder(i + 1) for i in range(n_runs))
    order = "ts, seq" if "seq" in table.columns else "ts"
    return f"SELECT {', '.join(table.columns)} FROM {table.name} WHERE run_id IN ({ids}) ORDER BY {order}"


def not_migrated(url: str) -> JournalError:
    return JournalError(
        f"{url} has no journal tables", hint=f"run `cexarb journal migrate --journal {url}`, or check the URL"
    )


def check_version(version: int) -> None:
    if version > LATEST_VERSION:
        raise JournalError(
            f"the journal's schema is at version {version}, newer than this cexarb knows ({LATEST_VERSION})",
            hint="upgrade cexarb, or point --journal at another database",
        )


class SqliteBackend:
    """The embedded journal: one file, WAL mode, written from one thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self._conn: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="journal-sqlite")
        self._inserts = {t: insert_sql(t, lambda i: "?") for t in TABLES.values()}

    async def _call(self, fn, *args) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise not_migrated(self.url) from exc
            # A locked, full or vanished disk: the writer spools until it works again.
            raise JournalUnavailable(f"sqlite journal {self.path}: {exc}") from exc

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=5000")
            self._conn = conn
        return self._conn

    async def connect(self) -> None:
        await self._call(self._db)

    def _migrate(self) -> int:
        db = self._db()
        db.execute(SCHEMA_VERSION_TABLE)
        version = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        check_version(version)
        for number, statements in MIGRATIONS:
            if number <= version:
                continue
            db.execute("BEGIN IMMEDIATE")
            try:
                for sql in statements:
                    db.execute(sql)
                db.execute("INSERT INTO schema_version VALUES (?, ?)", (number, time.time()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            version = number
        return version

    async def migrate(self) -> int:
        return await self._call(self._migrate)

    def _write(self, batch: list[Event]) -> None:
        db = self._db()
        db.execute("BEGIN")
        try:
            for table, rows in rows_by_table(batch).items():
                db.executemany(self._inserts[table], rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def write(self, batch: list[Event]) -> None:
        await self._call(self._write, batch)

    def _read(self, name: str, run_ids: Sequence[str]) -> list[Event]:
        table = TABLE_BY_NAME[name]
        rows = self._db().execute(select_sql(table, len(run_ids), lambda i: "?"), tuple(run_ids))
        return [table.from_row(r) for r in rows]

    async def read(self, table: str, run_ids: Sequence[str]) -> list[Event]:
        return await self._call(self._read, table, list(run_ids)) if run_ids else []

    def _runs(self, since: float) -> list[RunStarted]:
        table = TABLES[RunStarted]
        sql = f"SELECT {', '.join(table.columns)} FROM runs WHERE ts >= ? ORDER BY ts"
        return [table.from_row(r) for r in self._db().execute(sql, (since,))]

    async def runs(self, since: float = 0.0) -> list[RunStarted]:
        return await self._call(self._runs, since)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        await self._call(self._close)
        self._thread.shutdown(wait=False)


def split_schema(url: str) -> tuple[str, str]:
    """(`url` without a `schema=` query parameter, that schema or "")."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), "")
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema
