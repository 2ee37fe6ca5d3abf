"""What a composite's collaborators (state repair, lost-place resolution) ask of it.

They never see the composite itself: only these callables, so each runs in a test with
plain functions in their place.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from cexarb.model import Execution, Order


@dataclass(frozen=True, slots=True)
class Emitter:
    """The composite's side: merge and announce an order, announce a fill, run and count
    background work, and whether it has been closed."""

    venue: str
    # Merge an order into the tracker and tell the listeners; returns the merged order (None: older).
    apply_order: Callable[[Order], Order | None]
    execution: Callable[[Execution], None]
    spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task]
    count_error: Callable[[BaseException], None]
    closed: Callable[[], bool]
