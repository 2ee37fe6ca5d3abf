"""HTTP and WebSocket clients, rate limits and the venue clock."""

from cexarb.transport.clock import Clock
from cexarb.transport.http import (
    ErrorMapper,
    HttpClient,
    HttpStats,
    PreparedRequest,
    Signer,
    Written,
    encode_params,
)
from cexarb.transport.ratelimit import RateLimiter
from cexarb.transport.stats import StreamStats
from cexarb.transport.ws import WsClient

__all__ = [
    "Clock",
    "ErrorMapper",
    "HttpClient",
    "HttpStats",
    "PreparedRequest",
    "RateLimiter",
    "Signer",
    "StreamStats",
    "WsClient",
    "Written",
    "encode_params",
]
