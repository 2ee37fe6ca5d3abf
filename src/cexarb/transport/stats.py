"""Counters a WebSocket client keeps; composites report them (re-exported by exchange.interfaces)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class StreamStats:
    """Counters a WebSocket client exposes; the composite reports them."""

    frames: int = 0
    bad_frames: int = 0
    reconnects: int = 0
    last_reconnect_ms: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
