"""How a command ends on a typed error: one line on stderr and an exit code, no traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

from cexarb.model.errors import ConfigError, ExchangeError, JournalError


@contextlib.contextmanager
def typed_errors_exit() -> Iterator[None]:
    """Exit 2 on bad configuration, 1 on an exchange or journal error, each with its message."""
    try:
        yield
    except ConfigError as exc:
        typer.echo(f"error: bad configuration: {exc}", err=True)
        raise typer.Exit(2) from None
    except ExchangeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except JournalError as exc:
        typer.echo(f"error: journal: {exc}", err=True)
        raise typer.Exit(1) from None
