"""`cexarb journal ...`: the journal's database (migrate; `follow` joins with the fleet)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cexarb.cli.exits import typed_errors_exit
from cexarb.journal.backends import open_backend, redact_url

journal_app = typer.Typer(no_args_is_help=True, help="The journal's database.", rich_markup_mode=None)

JournalUrl = Annotated[
    str,
    typer.Option("--journal", "-j", help="Journal URL: a SQLite file path, sqlite:///..., postgresql://..."),
]


@journal_app.command("migrate")
def migrate_command(journal: JournalUrl) -> None:
    """Create or upgrade the journal's tables to this version's schema (safe to run again)."""

    async def go() -> int:
        backend = open_backend(journal)
        try:
            return await backend.migrate()
        finally:
            await backend.close()

    with typed_errors_exit():
        version = asyncio.run(go())
        typer.echo(f"journal {redact_url(journal)}: schema version {version}")
