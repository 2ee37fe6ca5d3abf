"""The state of one stream as its composite sees it: one value instead of a set of flags."""

from __future__ import annotations

from enum import Enum


class StreamState(Enum):
    """NEW until the first connect; UP while it delivers; DOWN after a drop its transport
    reconnects by itself; LOST once it closed on its own (the composite must recreate it)."""

    NEW = "new"
    UP = "up"
    DOWN = "down"
    LOST = "lost"

    @property
    def broken(self) -> bool:
        """Dropped since it was last up (DOWN or LOST): its next connect is a reconnect."""
        return self is StreamState.DOWN or self is StreamState.LOST
