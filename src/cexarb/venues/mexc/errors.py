"""MEXC spot error codes -> typed errors of `cexarb.model.errors`.

MEXC answers `{"code": <int>, "msg": "..."}` (some gateways `{"success": false,
"code": ..., "message": ...}`); the HTTP status is normally 4xx for business
errors, 429 for rate limits, 418 for an IP ban and 5xx for venue failures
whose outcome is unknown. The body code wins over the HTTP status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from cexarb.model.errors import (
    AuthenticationError,
    BelowMinimum,
    ExchangeError,
    InsufficientBalance,
    InvalidOrder,
    InvalidPrice,
    NetworkError,
    OrderNotFound,
    PostOnlyWouldTake,
    ProtocolError,
    RateLimitError,
    TimestampError,
    WithdrawalError,
)
from cexarb.venues.mexc.spec import SPOT

VENUE = "mexc"

# code -> (error class, hint or None for the class's own hint)
_CODES: dict[int, tuple[type[ExchangeError], str | None]] = {
    429: (RateLimitError, None),
    # Credentials and permissions.
    700001: (AuthenticationError, f"the API key is malformed; check {SPOT.credentials_env[0]}"),
    700002: (AuthenticationError, "signature rejected: wrong secret, or the key expired"),
    602: (AuthenticationError, "signature rejected: wrong secret, or the key expired"),
    700006: (AuthenticationError, "this IP is not on the API key's whitelist"),
    700007: (AuthenticationError, "the API key lacks the permission this endpoint needs"),
    400: (AuthenticationError, "the venue wants an API key for this endpoint"),
    401: (AuthenticationError, "the API key has no authority for this request"),
    403: (AuthenticationError, "access denied for this API key"),
    # Clock.
    700003: (TimestampError, None),
    700005: (ExchangeError, "recvWindow must be below 60000 ms; lower recv_window_ms in the config"),
    # The request's format (since 2024-02-22 a signed write must say Content-Type: application/json).
    700013: (ProtocolError, "the venue refused the request's Content-Type; send application/json"),
    # Bad request parameters.
    700004: (InvalidOrder, "send orderId or origClientOrderId"),
    700008: (InvalidOrder, "a parameter holds characters the venue refuses; check the client order id"),
    730002: (InvalidOrder, "an input parameter is invalid; check the request"),
    26: (InvalidOrder, "the venue does not allow this operation"),
    # Symbols and trading state.
    10007: (InvalidOrder, "the symbol is not tradable via the API (see /api/v3/defaultSymbols)"),
    30014: (InvalidOrder, "invalid symbol; reload symbol info"),
    30021: (InvalidOrder, "invalid symbol; reload symbol info"),
    -1121: (InvalidOrder, "invalid symbol; reload symbol info"),
    730001: (InvalidOrder, "trading pair not found; reload symbol info"),
    30000: (InvalidOrder, "trading is suspended for this symbol"),
    30016: (InvalidOrder, "trading is disabled for this symbol or account"),
    30018: (InvalidOrder, "market orders are disabled for this symbol; use a limit order"),
    30019: (InvalidOrder, "API market orders are disabled for this symbol; use a limit order"),
    30029: (InvalidOrder, "the account has the maximum number of open orders (500); cancel some"),
    # Order sizing and price.
    30002: (BelowMinimum, None),
    30003: (InvalidOrder, "the order is above the maximum transaction volume; split it"),
    30087: (InvalidPrice, "the price is outside the range the venue allows; move it nearer the market"),
    10096: (InvalidOrder, "quantity or price has too many decimals; round to the symbol's step and tick"),
    2015: (InvalidOrder, "quantity or price has too many decimals; round to the symbol's step and tick"),
    # Balances.
    10101: (InsufficientBalance, None),
    30004: (InsufficientBalance, "not enough of the base asset to sell"),
    30005: (InsufficientBalance, "oversold: not enough of the base asset to sell"),
    -1128: (InvalidOrder, "a combination of optional parameters is invalid; check the request"),
    # Orders.
    -2011: (OrderNotFound, None),
    -2013: (OrderNotFound, None),
    # Binance-compatible "new order rejected" (not in MEXC's table): post-only crossing, FOK
    # not filled, duplicate client id. Refined by message below.
    -2010: (InvalidOrder, "the venue rejected the new order; see its message"),
    # Withdrawals (codes seen on the live venue; not in the spot document's table).
    10232: (WithdrawalError, "the asset does not exist or cannot be withdrawn"),
    10212: (WithdrawalError, "the address is not on the withdrawal allow-list or was invalidated"),
    10097: (WithdrawalError, "the amount is invalid (below the network minimum or bad precision)"),
    # Venue side failures (outcome of a write is unknown).
    500: (NetworkError, None),
    503: (NetworkError, None),
    504: (NetworkError, None),
}


def error_from_code(
    code: int | None, msg: str, http_status: int | None = None, retry_after: float | None = None
) -> ExchangeError:
    """The typed error for a MEXC code (None: use the HTTP status alone)."""
    text = msg or "MEXC error"
    if code == -2010 and "immediately match" in text:
        cls, hint = PostOnlyWouldTake, None
    elif code is not None and code in _CODES:
        cls, hint = _CODES[code]
    elif http_status in (429, 418):
        cls, hint = (
            RateLimitError,
            ("the IP is banned for a while (HTTP 418)" if http_status == 418 else None),
        )
    elif http_status == 403:
        # A bare 403 is MEXC's WAF limit, not a permissions problem.
        cls, hint = RateLimitError, "the venue's firewall (WAF) limited this IP; slow down"
    elif http_status is not None and http_status >= 500:
        cls, hint = NetworkError, None
    else:
        cls, hint = ExchangeError, None
    kw: dict[str, Any] = {"venue": VENUE, "code": code, "http_status": http_status, "hint": hint}
    if cls is RateLimitError:
        return RateLimitError(text, retry_after=retry_after, **kw)
    return cls(text, **kw)


def _decode_body(body: Any) -> Any:
    if isinstance(body, bytes | bytearray | str):
        if not body:
            return None
        try:
            return msgspec.json.decode(body)
        except msgspec.DecodeError:
            return None
    return body


def parse_error(status: int, body: Any, headers: Mapping[str, str] | None = None) -> ExchangeError:
    """Typed error from an HTTP status and the body (raw bytes/str or already decoded JSON)."""
    data = _decode_body(body)
    code: int | None = None
    msg = ""
    if isinstance(data, dict):
        raw_code = data.get("code")
        try:
            code = int(raw_code) if raw_code is not None else None
        except (TypeError, ValueError):
            code = None
        msg = str(data.get("msg") or data.get("message") or "")
    elif isinstance(body, bytes | bytearray):
        msg = body[:200].decode(errors="replace")
    elif isinstance(body, str):
        msg = body[:200]
    retry_after = None
    if headers:
        value = headers.get("Retry-After") or headers.get("retry-after")
        try:
            retry_after = float(value) if value is not None else None
        except ValueError:
            retry_after = None
    if not msg:
        msg = f"HTTP {status}"
    return error_from_code(code, msg, status, retry_after)


def http_error_mapper(status: int, body: bytes, headers: Mapping[str, str]) -> ExchangeError:
    """The transport's `ErrorMapper` for MEXC."""
    return parse_error(status, body, headers)
