from __future__ import annotations

import pytest

from tests.coord.redis_server import ThrowawayRedis, drop_fleet, new_fleet, server_url, unavailable


@pytest.fixture(scope="session")
def redis_url():
    url, throwaway = server_url()
    yield url
    if throwaway is not None:
        throwaway.destroy()


@pytest.fixture
def fleet(redis_url):
    """A fleet name (key prefix) of this test alone; its keys are deleted afterwards."""
    name = new_fleet()
    yield name
    drop_fleet(redis_url, name)


@pytest.fixture
def private_redis():
    """A redis-server of this test alone, which it may stop and start again."""
    server = ThrowawayRedis()
    if not server.available:
        unavailable("no redis-server on PATH for a server this test may restart")
    server.start()
    yield server
    server.destroy()
