"""How a command ends on a typed error: one line on stderr and an exit code, no traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

from cexarb.model.errors import (
    ConfigError,
    CoordinatorUnavailable,
    ExchangeError,
    InitializationError,
    JournalError,
    NetworkError,
)

# Ctrl-C: the exit status a shell gives a program killed by SIGINT (128 + 2).
INTERRUPTED = 130
# A command that cannot reach a venue: the operator's next step, not a library's retry advice.
_UNREACHABLE_HINT = "check the URL in the config and that the venue (or `cexarb sim`) is running"


def describe(exc: ExchangeError) -> str:
    """The operator's one line for `exc`: the root cause, with a hint that fits a command.

    A failed initialize wraps the error that stopped it; the wrapper's advice ("initialize
    again") is for library callers, so the cause is shown instead."""
    while isinstance(exc, InitializationError) and isinstance(exc.__cause__, ExchangeError):
        exc = exc.__cause__
    if isinstance(exc, InitializationError):
        return exc.message
    hint = (
        _UNREACHABLE_HINT if isinstance(exc, NetworkError) and "cannot connect" in exc.message else exc.hint
    )
    code = f" (code={exc.code})" if exc.code is not None else ""
    venue = f"{exc.venue}: " if exc.venue and exc.venue not in exc.message else ""
    return f"{venue}{exc.message}{code} -> {hint}"


@contextlib.contextmanager
def typed_errors_exit() -> Iterator[None]:
    """Exit 2 on bad configuration, 1 on an exchange, journal or coordinator error, each with its
    message; 130 on Ctrl-C (everything opened was closed on the way out)."""
    try:
        yield
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(INTERRUPTED) from None
    except ConfigError as exc:
        typer.echo(f"error: bad configuration: {exc}", err=True)
        raise typer.Exit(2) from None
    except ExchangeError as exc:
        typer.echo(f"error: {describe(exc)}", err=True)
        raise typer.Exit(1) from None
    except JournalError as exc:
        typer.echo(f"error: journal: {exc}", err=True)
        raise typer.Exit(1) from None
    except CoordinatorUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
