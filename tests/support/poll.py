"""The one way a test waits: poll a condition, never a fixed sleep as a barrier."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def eventually(
    predicate: Callable[[], bool | Awaitable[bool]],
    *,
    timeout: float = 30.0,
    what: str | Callable[[], object] = "condition",
    interval: float = 0.01,
) -> bool:
    """Poll `predicate` (plain or async) until it holds; return True, or fail naming `what`.

    The timeout only stops a broken build from hanging: no timing is asserted, so it is generous.
    Returning True lets `assert await eventually(...)` read as the assertion it is. `what` may be a
    callable, called only on timeout, to report the state that was still wrong (e.g. a book diff).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return True
        if loop.time() > deadline:
            detail = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout}s waiting for {detail}")
        await asyncio.sleep(interval)
