"""PostgreSQL for the journal tests: the server to use, a throwaway one, a schema per test.

Order (as every service test): CEXARB_TEST_POSTGRES_URL, else the local server on
127.0.0.1:5432 (trust auth, database `test`), else a throwaway server started with
initdb/pg_ctl from PATH or /usr/lib/postgresql/*/bin, else skip with one line; with
CEXARB_REQUIRE_SERVICES=1 that skip is a failure.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import asyncpg
import pytest

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/test"


def unavailable(reason: str):
    """Skip, or fail when the run requires its services."""
    if os.environ.get("CEXARB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"PostgreSQL required (CEXARB_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(f"no PostgreSQL: {reason}")


async def reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """A private server in a temp dir on an ephemeral port, for tests that stop and
    restart it (the shared one must stay up for everyone else)."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        self.dir = Path(tempfile.mkdtemp(prefix="cexarb-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl)

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._run(
            self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self.pg_ctl, "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


async def server_url() -> tuple[str, ThrowawayPostgres | None]:
    """The URL of a server to use, and the throwaway one started for it (to destroy)."""
    env = os.environ.get("CEXARB_TEST_POSTGRES_URL")
    if env:
        if not await reachable(env):
            unavailable(f"CEXARB_TEST_POSTGRES_URL={env} does not answer")
        return env, None
    if await reachable(LOCAL_URL):
        return LOCAL_URL, None
    pg = ThrowawayPostgres()
    if not pg.available:
        unavailable("nothing on 127.0.0.1:5432 and no initdb/pg_ctl on PATH or in /usr/lib/postgresql")
    try:
        await asyncio.to_thread(pg.init)
        await asyncio.to_thread(pg.start)
    except (subprocess.CalledProcessError, OSError) as exc:
        pg.destroy()
        unavailable(f"throwaway server failed to start: {exc}")
    return pg.url, pg


def with_schema(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"schema={schema}"


def new_schema() -> str:
    return "t_" + uuid.uuid4().hex[:12]


async def drop_schema(url: str, schema: str) -> None:
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()
