"""A journal URL per test: SQLite in tmp_path, or a fresh schema on the real PostgreSQL."""

from __future__ import annotations

import pytest

from tests.journal import pg


@pytest.fixture
async def pg_url():
    """A URL with a schema of its own on the test PostgreSQL (dropped afterwards)."""
    url, throwaway = await pg.server_url()
    schema = pg.new_schema()
    try:
        yield pg.with_schema(url, schema)
    finally:
        await pg.drop_schema(url, schema)
        if throwaway is not None:
            throwaway.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journal.db'}"
    return request.getfixturevalue("pg_url")
