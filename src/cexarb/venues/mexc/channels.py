"""MEXC spot WebSocket channel names and the JSON control frames (client -> server)."""

from __future__ import annotations

import msgspec

PING = '{"method":"PING"}'
# Documented per-connection subscription limit (mexc_spot.md section 5).
MAX_TOPICS_PER_CONNECTION = 30

PRIVATE_CHANNELS = (
    "spot@private.orders.v3.api.pb",
    "spot@private.deals.v3.api.pb",
    "spot@private.account.v3.api.pb",
)


def public_channels(venue_symbol: str, interval: str = "100ms") -> list[str]:
    """Aggregated depth, book ticker and deals of one symbol (interval "100ms" or "10ms")."""
    return [
        f"spot@public.aggre.depth.v3.api.pb@{interval}@{venue_symbol}",
        f"spot@public.aggre.bookTicker.v3.api.pb@{interval}@{venue_symbol}",
        f"spot@public.aggre.deals.v3.api.pb@{interval}@{venue_symbol}",
    ]


def subscription(channels: list[str] | tuple[str, ...]) -> str:
    return msgspec.json.encode({"method": "SUBSCRIPTION", "params": list(channels)}).decode()


def unsubscription(channels: list[str] | tuple[str, ...]) -> str:
    return msgspec.json.encode({"method": "UNSUBSCRIPTION", "params": list(channels)}).decode()


class ControlReply(msgspec.Struct):
    """`{"id":0,"code":0,"msg":"..."}`: subscription acks, PONG, and errors (code != 0)."""

    id: int | str | None = None
    code: int | None = 0
    msg: str | None = None


_decode_control = msgspec.json.Decoder(ControlReply).decode


def decode_control(text: str | bytes) -> ControlReply | None:
    """The control reply of a text frame, None if the frame is not such JSON."""
    try:
        return _decode_control(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
