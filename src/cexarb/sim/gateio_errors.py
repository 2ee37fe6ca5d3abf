"""Gate error replies: `{"label": ..., "message": ...}` with the HTTP status Gate uses.

The core raises SimReject(reason, detail); `reject_error` turns a reason into Gate's label for spot or
futures. Reasons are matched by name so this table does not depend on the core's import graph.
"""

from __future__ import annotations

import msgspec
from aiohttp import web


class GateError(Exception):
    """A Gate API error reply waiting to be sent."""

    def __init__(self, status: int, label: str, message: str) -> None:
        super().__init__(f"{label}: {message}")
        self.status = status
        self.label = label
        self.message = message

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        return error_response(self.status, self.label, self.message, headers)


def error_response(
    status: int, label: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = msgspec.json.encode({"label": label, "message": message})
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


# reason name -> (http status, spot label, futures label)
_REJECTS: dict[str, tuple[int, str, str]] = {
    "UNKNOWN_SYMBOL": (400, "INVALID_CURRENCY_PAIR", "CONTRACT_NOT_FOUND"),
    "INVALID_PRICE": (400, "INVALID_PRECISION", "INVALID_PARAM_VALUE"),
    "INVALID_QUANTITY": (400, "INVALID_PRECISION", "INVALID_PARAM_VALUE"),
    "BELOW_MIN_QUANTITY": (400, "INVALID_PARAM_VALUE", "SIZE_TOO_SMALL"),
    "BELOW_MIN_NOTIONAL": (400, "INVALID_PARAM_VALUE", "INVALID_PARAM_VALUE"),
    "INSUFFICIENT_BALANCE": (400, "BALANCE_NOT_ENOUGH", "INSUFFICIENT_AVAILABLE"),
    "POST_ONLY_WOULD_TAKE": (400, "POC_FILL_IMMEDIATELY", "ORDER_POC_IMMEDIATE"),
    "FOK_NOT_FILLED": (400, "FOK_NOT_FILL", "FOK_NOT_FILL"),
    "REDUCE_ONLY_VIOLATED": (400, "INVALID_PARAM_VALUE", "INCREASE_POSITION"),
    "DUPLICATE_CLIENT_ID": (400, "REPEATED_CREATION", "REPEATED_CREATION"),
    "ORDER_NOT_FOUND": (404, "ORDER_NOT_FOUND", "ORDER_NOT_FOUND"),
    "INVALID_LEVERAGE": (400, "INVALID_PARAM_VALUE", "LEVERAGE_TOO_HIGH"),
    "WITHDRAW_INVALID_ASSET": (400, "INVALID_CURRENCY", "INVALID_CURRENCY"),
    "WITHDRAW_INVALID_NETWORK": (400, "INVALID_PARAM_VALUE", "INVALID_PARAM_VALUE"),
    "WITHDRAW_INVALID_ADDRESS": (400, "INVALID_PARAM_VALUE", "INVALID_PARAM_VALUE"),
    "WITHDRAW_BELOW_MINIMUM": (400, "AMOUNT_TOO_LITTLE", "AMOUNT_TOO_LITTLE"),
    "MATCHING_PAUSED": (503, "TOO_BUSY", "TOO_BUSY"),
}

_MESSAGES = {
    "ORDER_NOT_FOUND": "Order not found",
    "BALANCE_NOT_ENOUGH": "Not enough balance",
    "INSUFFICIENT_AVAILABLE": "insufficient available balance",
    "POC_FILL_IMMEDIATELY": "Order would match and take immediately so its cancelled",
    "ORDER_POC_IMMEDIATE": "order would take immediately",
    "TOO_BUSY": "Server is too busy, please try again later",
    "REPEATED_CREATION": "Repeated creation: text already used",
}


def reject_error(reason: object, detail: str, *, futures: bool) -> GateError:
    """Gate's reply for a core rejection (`reason` is a RejectReason member or its name)."""
    name = getattr(reason, "name", str(reason))
    status, spot_label, futures_label = _REJECTS.get(
        name, (400, "INVALID_PARAM_VALUE", "INVALID_PARAM_VALUE")
    )
    label = futures_label if futures else spot_label
    message = detail or _MESSAGES.get(label, name.lower().replace("_", " "))
    return GateError(status, label, message)


def bad_param(message: str) -> GateError:
    return GateError(400, "INVALID_PARAM_VALUE", message)


def missing_param(name: str) -> GateError:
    return GateError(400, "MISSING_REQUIRED_PARAM", f"Missing required parameter: {name}")


TEXT_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-.")
# Gate allows at most 28 bytes after the "t-" prefix.
TEXT_MAX_AFTER_PREFIX = 28


def validate_text(text: str) -> None:
    """Client order id rules of Gate's `text`: 't-' prefix, <= 28 bytes after it, [0-9A-Za-z_.-]."""
    rest = text[2:]
    if (
        not text.startswith("t-")
        or not rest
        or len(rest.encode()) > TEXT_MAX_AFTER_PREFIX
        or not TEXT_CHARS.issuperset(rest)
    ):
        raise GateError(
            400,
            "INVALID_PARAM_VALUE",
            "Invalid text: must start with 't-', at most 28 characters after it, only 0-9 A-Z a-z _ - .",
        )
