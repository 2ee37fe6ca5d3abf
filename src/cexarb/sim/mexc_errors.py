"""MEXC spot error replies: the `{"code":..,"msg":..}` body, its HTTP status, and the
mapping from the simulator core's reject reasons to MEXC's codes.

Codes follow the MEXC spot v3 API docs, "Error Code" section
(mexcdevelop.github.io/apidocs/spot_v3_en/#error-code). Where the docs have no code for a
case (post-only crossing, duplicate client id, FOK not filled) the Binance-compatible
code MEXC v3 inherited is used (-2010 "new order rejected"); those are marked below.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

_JSON = "application/json"


class MexcApiError(Exception):
    """Raised anywhere in a request handler; the app turns it into MEXC's error reply."""

    def __init__(self, code: int, msg: str, *, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = msgspec.json.encode({"code": self.code, "msg": self.msg, "_extend": None})
        return web.Response(status=self.status, body=body, content_type=_JSON, headers=self.headers)


# --- request / auth errors ---------------------------------------------------------------


def api_key_required() -> MexcApiError:
    return MexcApiError(400, "api key required")


def invalid_signature() -> MexcApiError:
    # Also MEXC's answer for an unknown or expired key (mexc_spot.md §4, [ccxt]).
    return MexcApiError(700002, "Signature for this request is not valid.")


def invalid_content_type() -> MexcApiError:
    # Enforced since 2024-02-22 on signed POST/PUT/DELETE: https://www.mexc.com/support/articles/17827791513387
    # (reply as quoted in mexcdevelop/mexc-api-sdk#68 and ccxt/ccxt#21367).
    return MexcApiError(700013, "Invalid content Type.")


def timestamp_outside_window() -> MexcApiError:
    return MexcApiError(700003, "Timestamp for this request is outside of the recvWindow.")


def recv_window_too_large() -> MexcApiError:
    return MexcApiError(700005, "recvWindow must less than 60000")


def order_id_required() -> MexcApiError:
    return MexcApiError(
        700004, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
    )


def bad_param(name: str, why: str = "") -> MexcApiError:
    detail = f" '{name}'" + (f": {why}" if why else "")
    return MexcApiError(730002, f"Your input param is invalid.{detail}")


def illegal_characters(name: str) -> MexcApiError:
    return MexcApiError(
        700008, f"Illegal characters found in parameter '{name}'; legal range is '^[\\w\\-]{{1,32}}$'."
    )


def bad_combination(why: str) -> MexcApiError:
    return MexcApiError(-1128, f"Combination of optional parameters invalid. {why}".strip())


def bad_symbol() -> MexcApiError:
    return MexcApiError(10007, "bad symbol")


def not_found() -> MexcApiError:
    return MexcApiError(404, "Not Found", status=404)


def too_many_requests(retry_after: float) -> MexcApiError:
    seconds = max(1, int(retry_after + 0.999))
    return MexcApiError(429, "Too Many Requests", status=429, headers={"Retry-After": str(seconds)})


def record_not_found() -> MexcApiError:
    return MexcApiError(22222, "record does not exist")


def listen_key_not_found() -> MexcApiError:
    # Not documented; MEXC's generic "input param invalid" code.
    return MexcApiError(730002, "Your input param is invalid. listenKey does not exist")


def too_many_listen_keys(limit: int) -> MexcApiError:
    return MexcApiError(730002, f"Your input param is invalid. at most {limit} valid listen keys per account")


# --- core rejects ----------------------------------------------------------------------

# RejectReason member name -> (code, msg). Keyed by name so this table does not depend on
# the core's enum object identity. `{detail}` is filled with the core's explanation.
_REJECTS: dict[str, tuple[int, str]] = {
    "UNKNOWN_SYMBOL": (10007, "bad symbol"),
    "INVALID_PRICE": (30087, "Order price exceeds allowed range ({detail})"),
    "INVALID_QUANTITY": (10096, "amount decimal places is too long ({detail})"),
    "BELOW_MIN_QUANTITY": (30002, "The minimum transaction volume cannot be less than:{detail}"),
    "BELOW_MIN_NOTIONAL": (30002, "The minimum transaction volume cannot be less than:{detail}"),
    "INSUFFICIENT_BALANCE": (10101, "Insufficient balance"),
    # -2010 NEW_ORDER_REJECTED: Binance-compatible, not in MEXC's published table (unconfirmed).
    "POST_ONLY_WOULD_TAKE": (-2010, "Order would immediately match and take."),
    "FOK_NOT_FILLED": (-2010, "Order would not be fully filled (FILL_OR_KILL)."),
    "DUPLICATE_CLIENT_ID": (-2010, "Duplicate order sent."),
    "REDUCE_ONLY_VIOLATED": (30004, "Insufficient position"),
    "ORDER_NOT_FOUND": (-2011, "Unknown order sent."),
    "INVALID_LEVERAGE": (730002, "Your input param is invalid. ({detail})"),
    "WITHDRAW_INVALID_ASSET": (10232, "The currency not exist"),
    "WITHDRAW_INVALID_NETWORK": (730002, "Your input param is invalid. network ({detail})"),
    "WITHDRAW_INVALID_ADDRESS": (
        10212,
        "This withdrawal address is not on the commonly used address list or has been invalidated",
    ),
    "WITHDRAW_BELOW_MINIMUM": (10097, "amount is error ({detail})"),
    "MATCHING_PAUSED": (30000, "Trading is suspended for the requested symbol"),
}


def from_reject(
    reason_name: str, detail: str, *, side: str | None = None, querying: bool = False
) -> MexcApiError:
    """MEXC's reply for a core rejection.

    `side="SELL"` turns an insufficient balance into MEXC's "Insufficient position" (30004,
    selling more base than held); `querying=True` turns a missing order into the query
    endpoint's "Order does not exist." (-2013) instead of the cancel endpoint's -2011.
    """
    if reason_name == "INSUFFICIENT_BALANCE" and side == "SELL":
        return MexcApiError(30004, "Insufficient position")
    if reason_name == "ORDER_NOT_FOUND" and querying:
        return MexcApiError(-2013, "Order does not exist.")
    code, template = _REJECTS.get(reason_name, (-1, "Unknown error ({detail})"))
    return MexcApiError(code, template.format(detail=detail))
