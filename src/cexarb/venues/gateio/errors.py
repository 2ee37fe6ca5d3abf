"""Gate error labels -> typed errors of cexarb.model.errors.

REST errors are `{"label": ..., "message"|"detail": ...}` with an HTTP status; WS errors are
`{"code": 1..4, "message": ...}` where code 4 (auth) may embed a REST-style label.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

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
    RateLimitError,
    TimestampError,
    WithdrawalError,
)

VENUE = "gateio"

_LABELS: dict[str, type[ExchangeError]] = {
    # clock
    "REQUEST_EXPIRED": TimestampError,
    "INVALID_TIMESTAMP": TimestampError,
    # credentials and permissions
    "INVALID_KEY": AuthenticationError,
    "INVALID_SIGNATURE": AuthenticationError,
    "INVALID_CREDENTIALS": AuthenticationError,
    "MISSING_REQUIRED_HEADER": AuthenticationError,
    "AUTHENTICATION_FAILED": AuthenticationError,
    "IP_FORBIDDEN": AuthenticationError,
    "READ_ONLY": AuthenticationError,
    "FORBIDDEN": AuthenticationError,
    "USER_NOT_FOUND": AuthenticationError,
    # rate limits
    "TOO_MANY_REQUESTS": RateLimitError,
    "TOO_FAST": RateLimitError,
    # balance / margin
    "BALANCE_NOT_ENOUGH": InsufficientBalance,
    "INSUFFICIENT_AVAILABLE": InsufficientBalance,
    "MARGIN_BALANCE_NOT_ENOUGH": InsufficientBalance,
    # minimums
    "AMOUNT_TOO_LITTLE": BelowMinimum,
    "SIZE_TOO_SMALL": BelowMinimum,
    # prices
    "PRICE_TOO_DEVIATED": InvalidPrice,
    "PRICE_OVER_LIQUIDATION": InvalidPrice,
    "PRICE_OVER_BANKRUPT": InvalidPrice,
    # post-only
    "POC_FILL_IMMEDIATELY": PostOnlyWouldTake,
    "ORDER_POC_IMMEDIATE": PostOnlyWouldTake,
    # unknown or no longer open orders
    "ORDER_NOT_FOUND": OrderNotFound,
    "CLIENT_ID_NOT_FOUND": OrderNotFound,
    "ORDER_CLOSED": OrderNotFound,
    "ORDER_CANCELLED": OrderNotFound,
    "ORDER_FINISHED": OrderNotFound,
    # other order-parameter problems
    "AMOUNT_TOO_MUCH": InvalidOrder,
    "SIZE_TOO_LARGE": InvalidOrder,
    "INVALID_PARAM_VALUE": InvalidOrder,
    "INVALID_ARGUMENT": InvalidOrder,
    "MISSING_REQUIRED_PARAM": InvalidOrder,
    "INVALID_REQUEST_BODY": InvalidOrder,
    "INVALID_PRECISION": InvalidOrder,
    "INVALID_CURRENCY_PAIR": InvalidOrder,
    "INVALID_CURRENCY": InvalidOrder,
    "CONTRACT_NOT_FOUND": InvalidOrder,
    "CONTRACT_IN_DELISTING": InvalidOrder,
    "TOO_MANY_ORDERS": InvalidOrder,
    "REPEATED_CREATION": InvalidOrder,
    "INCREASE_POSITION": InvalidOrder,
    "LEVERAGE_TOO_HIGH": InvalidOrder,
    "LEVERAGE_TOO_LOW": InvalidOrder,
    "RISK_LIMIT_EXCEEDED": InvalidOrder,
    "LIQUIDATE_IMMEDIATELY": InvalidOrder,
    "POSITION_EMPTY": InvalidOrder,
    "POSITION_HOLDING": InvalidOrder,
    "POSITION_IN_LIQUIDATION": InvalidOrder,
    "POSITION_CROSS_MARGIN": InvalidOrder,
    # venue trouble
    "SERVER_ERROR": NetworkError,
    "INTERNAL": NetworkError,
    "TOO_BUSY": NetworkError,
}

_HINTS: dict[str, str] = {
    "ORDER_CLOSED": "the order is no longer open (filled or cancelled); query it for its final state",
    "ORDER_CANCELLED": "the order is already cancelled; query it for its final state",
    "ORDER_FINISHED": "the order is already finished; query it for its final state",
    "USER_NOT_FOUND": "the futures account is not initialised: transfer USDT to it first",
    "INCREASE_POSITION": "a reduce-only order would increase the position; check the position side and size",
    "REPEATED_CREATION": "an order with this client id already exists; query it instead of resending",
}


class _ErrorBody(msgspec.Struct):
    label: str = ""
    message: str = ""
    detail: str = ""


_decode_body = msgspec.json.Decoder(_ErrorBody)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    for key, val in headers.items():
        if key.lower() == lower:
            return val
    return None


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait: Retry-After, else Gate's absolute X-Gate-RateLimit-Reset-Timestamp."""
    raw = _header(headers, "Retry-After")
    try:
        if raw is not None:
            return max(0.0, float(raw))
        reset = _header(headers, "X-Gate-RateLimit-Reset-Timestamp")
        if reset is not None:
            reset_s = float(reset)
            if reset_s > 1e11:  # ms
                reset_s /= 1000.0
            return max(0.0, reset_s - time.time())
    except ValueError:
        return None
    return None


def _refine(cls: type[ExchangeError], label: str, message: str) -> type[ExchangeError]:
    """Gate reports some specific problems under generic labels; the message says which."""
    if cls is InvalidOrder:
        text = message.lower()
        if "too small" in text or "minimum" in text:
            return BelowMinimum
        if label == "INVALID_PRECISION" and "price" in text:
            return InvalidPrice
    return cls


def error_from_label(
    label: str,
    message: str,
    http_status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> ExchangeError:
    cls = _LABELS.get(label)
    if cls is None:
        if label.startswith("WITHDRAW"):
            cls = WithdrawalError
        elif http_status == 429:
            cls = RateLimitError
        elif http_status in (401, 403):
            cls = AuthenticationError
        elif http_status is not None and http_status >= 500:
            cls = NetworkError
        else:
            cls = ExchangeError
    cls = _refine(cls, label, message)
    text = f"{label}: {message}" if message else (label or f"HTTP {http_status}")
    kwargs: dict = {"venue": VENUE, "code": label or None, "http_status": http_status}
    if label in _HINTS:
        kwargs["hint"] = _HINTS[label]
    if cls is RateLimitError:
        return RateLimitError(text, retry_after=_retry_after(headers), **kwargs)
    return cls(text, **kwargs)


def parse_error(
    status: int, body: bytes | str | Mapping | None, headers: Mapping[str, str] | None = None
) -> ExchangeError:
    """An HTTP error reply -> typed error carrying label, message and HTTP status."""
    label = message = ""
    if isinstance(body, Mapping):
        label = str(body.get("label") or "")
        message = str(body.get("message") or body.get("detail") or "")
    elif body:
        try:
            parsed = _decode_body.decode(body)
            label, message = parsed.label, parsed.message or parsed.detail
        except (msgspec.DecodeError, msgspec.ValidationError):
            raw = body if isinstance(body, str) else body.decode("utf-8", "replace")
            message = raw.strip()[:200]
    return error_from_label(label, message, status, headers)


def map_http_error(status: int, body: bytes, headers: Mapping[str, str]) -> ExchangeError:
    """The transport's ErrorMapper for Gate."""
    return parse_error(status, body, headers)


_WS_CODE_CLASS: dict[int, type[ExchangeError]] = {
    1: InvalidOrder,  # invalid request body format
    2: InvalidOrder,  # invalid argument (e.g. unknown currency pair)
    3: NetworkError,  # server error
    4: AuthenticationError,
}


def ws_error(code: int, message: str, channel: str = "") -> ExchangeError:
    """A WS subscribe/unsubscribe error; code 4 messages may embed a REST-style label."""
    if "{" in message:
        try:
            inner = _decode_body.decode(message[message.index("{") :])
            if inner.label:
                err = error_from_label(inner.label, inner.message or inner.detail)
                if not isinstance(err, AuthenticationError) and code == 4:
                    err = AuthenticationError(str(err.message), venue=VENUE, code=inner.label)
                err.message = f"{channel}: {err.message}" if channel else err.message
                return err
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
            pass
    cls = _WS_CODE_CLASS.get(code, ExchangeError)
    prefix = f"{channel}: " if channel else ""
    return cls(f"{prefix}{message}", venue=VENUE, code=code)
