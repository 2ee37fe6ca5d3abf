"""Redis for the fleet tests: the server to use, a throwaway one, a fleet name per test.

Order (as every service test): CEXARB_TEST_REDIS_URL, else the local server on
127.0.0.1:6379, else a throwaway `redis-server` from PATH, else skip with one line;
with CEXARB_REQUIRE_SERVICES=1 that skip is a failure. Tests that restart a server
start their own on a free port: the machine's 6379 is shared and never restarted.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest
import redis

LOCAL_URL = "redis://127.0.0.1:6379/0"


def unavailable(reason: str):
    """Skip, or fail when the run requires its services."""
    if os.environ.get("CEXARB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"Redis required (CEXARB_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(f"no Redis: {reason}")


def reachable(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayRedis:
    """A private redis-server on its own port, nothing persisted; can be stopped and started
    again on the same port (a restart that loses every key, as the shared server would)."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cexarb-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    @property
    def available(self) -> bool:
        return self.binary is not None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not reachable(self.url):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def server_url() -> tuple[str, ThrowawayRedis | None]:
    """The URL of a server to use, and the throwaway one started for it (to destroy)."""
    env = os.environ.get("CEXARB_TEST_REDIS_URL")
    if env:
        if not reachable(env):
            unavailable(f"CEXARB_TEST_REDIS_URL={env} does not answer")
        return env, None
    if reachable(LOCAL_URL):
        return LOCAL_URL, None
    server = ThrowawayRedis()
    if not server.available:
        unavailable("nothing on 127.0.0.1:6379 and no redis-server on PATH")
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        server.destroy()
        unavailable(f"throwaway redis-server failed to start: {exc}")
    return server.url, server


def new_fleet() -> str:
    return "t" + uuid.uuid4().hex[:12]


def drop_fleet(url: str, fleet: str) -> None:
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            keys = list(client.scan_iter(match=f"cexarb:{{{fleet}}}:*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
    except (redis.RedisError, OSError):
        pass
