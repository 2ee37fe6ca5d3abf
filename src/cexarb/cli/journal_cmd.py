"""`cexarb journal ...`: the journal's database (migrate; `follow` joins with the fleet)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
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


@journal_app.command("follow")
def follow_command(
    journal: JournalUrl,
    coordinator: Annotated[
        str,
        typer.Option("--coordinator", help="The fleet's Redis: redis://HOST:PORT/DB (rediss:// for TLS)."),
    ],
    fleet: Annotated[
        str, typer.Option("--fleet", help="The fleet's name (as its members were given).")
    ] = "default",
    consumer: Annotated[
        str, typer.Option("--consumer", help="This follower's name in the consumer group (one per process).")
    ] = "follower",
    duration: Annotated[
        float, typer.Option("--duration", help="Stop after N seconds (0: until Ctrl-C).")
    ] = 0.0,
) -> None:
    """Write the fleet's event stream into the journal until Ctrl-C.

    Every member's orders, fills, decisions and kill-switch events, each written once: the
    stream is read through a consumer group and an entry is acknowledged only once the
    journal holds it; a follower that dies is replaced by starting it again.

      cexarb journal follow --coordinator redis://127.0.0.1:6379/0 --journal postgresql://db/journal
    """
    from cexarb.coord.keys import check_name, check_url
    from cexarb.coord.keys import redact_url as redact_redis
    from cexarb.journal import Journal
    from cexarb.journal.fleet import follow_into

    async def go() -> tuple[int, str]:
        check_url(coordinator)
        check_name("fleet", fleet)
        j = Journal.open(journal, spool_path=_spool_for(journal))
        await j.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        if duration > 0:
            loop.call_later(duration, stop.set)
        typer.echo(f"following fleet {fleet} on {redact_redis(coordinator)} into {redact_url(journal)}")
        try:
            handled = await follow_into(coordinator, fleet, j, stop, consumer=consumer)
        finally:
            await j.close()
        return handled, j.run_id

    with typed_errors_exit():
        handled, _ = asyncio.run(go())
        typer.echo(f"journal {redact_url(journal)}: {handled} events followed")


def _spool_for(url: str) -> Path:
    path = Path(url) if "://" not in url else None
    return (path or Path("cexarb-follow")).with_suffix(".spool")
