"""Which asyncio event loop the processes run on: uvloop where it is installed (Linux, a
dependency there), else the standard loop.

uvloop's loop (libuv, sockets and timers in C) cost the client 23-26 % less CPU per event
in `python -m bench --loop both` (docs/performance.md, round 3, with the rows where it was
not faster); nothing in cexarb depends on which loop runs. CEXARB_LOOP=asyncio (or
`choice="asyncio"`) selects the standard loop, e.g. to compare or to rule the loop out.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextvars
import os
import sys
from asyncio.tasks import _enter_task, _leave_task
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


def start_eager(coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
    """Run `coro` now, up to its first real wait, and return the task that runs the rest.

    `create_task` runs nothing before the loop's next pass; on the hot path (a decision
    made while a frame is handled) that pass is what an order waits for before it is
    written. This is Python 3.12's eager task start (`eager_start=True`), with the same
    rules on 3.11: while the coroutine runs now it is its task's (`current_task()`,
    `asyncio.timeout` and cancellation see the new task, not the caller's), in a copy of
    the caller's context that the task keeps, and what it raises is the task's, never the
    caller's. Must be called with the loop running."""
    loop = asyncio.get_running_loop()
    if sys.version_info >= (3, 12):
        return asyncio.Task(coro, loop=loop, name=name, eager_start=True)  # type: ignore[call-arg]
    context = contextvars.copy_context()
    rest = _Resumed(coro)
    task = loop.create_task(rest, name=name, context=context)
    caller = asyncio.current_task(loop)
    if caller is not None:
        _leave_task(loop, caller)
    _enter_task(loop, task)
    try:
        context.run(rest.first_step)
    finally:
        _leave_task(loop, task)
        if caller is not None:
            _enter_task(loop, caller)
    return task


class _Resumed(collections.abc.Coroutine):
    """A coroutine whose first step already ran (`first_step`): the task that owns it picks
    up from that step's outcome, then drives the coroutine as usual."""

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self._coro = coro
        # (yielded, None) while waiting on what the first step yielded; (None, exc) once it
        # ended (StopIteration carries its result); None after the task took it.
        self._first: tuple[Any, BaseException | None] | None = None

    def first_step(self) -> None:
        try:
            self._first = (self._coro.send(None), None)
        except BaseException as exc:  # noqa: BLE001 - the task's outcome, raised to its awaiters
            self._first = (None, exc)

    def send(self, value: Any) -> Any:
        first = self._first
        if first is None:
            return self._coro.send(value)
        self._first = None
        yielded, ended = first
        if ended is not None:
            raise ended
        return yielded  # the future the coroutine waits on: the task now waits on it

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        first = self._first
        if first is not None:
            self._first = None
            yielded, ended = first
            if ended is not None:
                raise ended  # it ended before the task ran: that outcome stands
            if isinstance(yielded, asyncio.Future):
                yielded.cancel()  # what a task does to the future it waits on when cancelled
        if val is None and tb is None:
            return self._coro.throw(typ)
        return self._coro.throw(typ, val, tb)

    def close(self) -> None:
        self._coro.close()

    def __await__(self):
        raise TypeError("a started coroutine's rest runs in its task; await the task")
