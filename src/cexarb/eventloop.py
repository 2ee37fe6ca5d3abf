"""Which asyncio event loop the processes run on: uvloop where it is installed (Linux, a
dependency there), else the standard loop.

uvloop's loop (libuv, sockets and timers in C) cost the client 23-26 % less CPU per event
in `python -m bench --loop both` (docs/performance.md, round 3, with the rows where it was
not faster); nothing in cexarb depends on which loop runs. CEXARB_LOOP=asyncio (or
`choice="asyncio"`) selects the standard loop, e.g. to compare or to rule the loop out.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
CHOICES = ("auto", "uvloop", "asyncio")


def loop_factory(choice: str | None = None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the loop to run (None: asyncio's default).

    `choice` is "auto" (uvloop when importable), "uvloop" (required: ImportError without it)
    or "asyncio"; None reads CEXARB_LOOP (default "auto").
    """
    choice = (choice or os.environ.get("CEXARB_LOOP") or "auto").lower()
    if choice not in CHOICES:
        raise ValueError(f"event loop {choice!r}: use one of {', '.join(CHOICES)} (CEXARB_LOOP)")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise
        return None
    return uvloop.new_event_loop


def loop_name(choice: str | None = None) -> str:
    """ "uvloop" or "asyncio": what `run(..., choice)` would use here."""
    return "asyncio" if loop_factory(choice) is None else "uvloop"


def run(main: Coroutine[Any, Any, T], choice: str | None = None) -> T:
    """`asyncio.run(main)` on the chosen loop (see `loop_factory`)."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)
