"""What the Gate spot and futures front-ends share: the app (routes, WS paths, venue event
subscription), replies both serve alike (server time, account detail), and the request checks
both markets make the same way (JSON object bodies, the order `text`, the `status` of an order
listing, WS payloads naming markets)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from cexarb.sim.gateio_errors import GateError, bad_param, missing_param, validate_text
from cexarb.sim.gateio_rest import GateRoutes, api_key, json_body
from cexarb.sim.gateio_spot_codec import pair_id
from cexarb.sim.gateio_ws import ALL, ERR_BAD_ARGUMENT, GateWsHub, WsError

log = logging.getLogger(__name__)

API = "/api/v4"
# Route options of most endpoints: Gate's public and "other private" rate-limit pools.
PUBLIC = {"pool": "public", "signed": False}
SIGNED = {"pool": "default", "signed": True}

# Venue event class -> the method that pushes it; a front-end defines those its channels carry.
_PUSHERS = {
    "BookDeltaEvent": "_on_book_delta",
    "TickerEvent": "_on_ticker",
    "TradeEvent": "_on_trade",
    "OrderEvent": "_on_order",
    "FillEvent": "_on_fill",
    "BalanceEvent": "_on_balance",
    "PositionEvent": "_on_position",
    "FundingEvent": "_on_funding",
    "WalletEvent": "_on_wallet",
}


class GateFront:
    """Base of a Gate front-end serving one SimVenue. Subclasses set `hub`, declare their REST
    routes in `_routes`, and define the `_on_<event>` pushers of their channels."""

    label = "gate"  # names the front-end in logs
    futures = False
    ws_paths: tuple[str, ...] = ()
    market_param = ""  # the request field that names a market
    # How long after it finished an order is still found by its `text` (then only by its id).
    text_grace_ms = 0
    hub: GateWsHub
    _unsubscribe: Callable[[], None] | None = None

    def __init__(self, venue: Any) -> None:
        self.venue = venue
        self.by_name = {pair_id(s): m for s, m in venue.markets.items()}  # "BTC_USDT" -> market

    def unknown_market(self, name: str) -> GateError:
        raise NotImplementedError

    def market(self, name: str | None, *, required: bool = True) -> Any:
        """The market a request names; None when it names none and need not."""
        if not name:
            if required:
                raise missing_param(self.market_param)
            return None
        m = self.by_name.get(name)
        if m is None:
            raise self.unknown_market(name)
        return m

    def app(self) -> web.Application:
        """This front-end alone: its REST routes and its WebSocket on one app."""
        app = web.Application()
        self.install_rest(app)
        self.install_ws(app)
        return app

    def install_rest(self, app: web.Application) -> None:
        """Add the REST routes to `app` (which may hold another Gate front-end's routes too)."""
        routes = GateRoutes(self.venue, futures=self.futures)
        self._routes(routes)
        routes.install(app)

    def install_ws(self, app: web.Application) -> None:
        """Serve the WebSocket on `app`; the pushes run while that app does."""
        for path in self.ws_paths:
            app.router.add_get(path, self.hub.handle)
        app.on_startup.append(self._start)
        app.on_shutdown.append(self._stop)

    def _routes(self, routes: GateRoutes) -> None:
        raise NotImplementedError

    async def _start(self, app: web.Application) -> None:
        self._event_handlers = {
            event: getattr(self, name) for event, name in _PUSHERS.items() if hasattr(self, name)
        }
        self._unsubscribe = self.venue.subscribe(self._on_event)

    async def _stop(self, app: web.Application) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for conn in list(self.hub.conns):
            await conn.ws.close()

    def _on_event(self, event: Any) -> None:
        """Venue events -> pushes, synchronously and in event order."""
        handler = self._event_handlers.get(type(event).__name__)
        if handler is not None:
            try:
                handler(event)
            except Exception:  # never let a push bug break the venue operation that emitted it
                log.exception("%s push failed for %s", self.label, type(event).__name__)

    def uid(self, key: str) -> int:
        acct = self.venue.account(key)
        return acct.user_id if acct is not None else 0

    async def server_time(self, request: web.Request) -> Any:
        return {"server_time": self.venue.clock.now_ms()}

    def is_unified(self, key: str) -> bool:
        acct = self.venue.account(key)
        return bool(acct is not None and acct.unified)

    async def account_detail(self, request: web.Request) -> Any:
        """`key.mode`: 1 classic account, 2 unified account (gateapi-python docs/AccountDetailKey.md)."""
        key = api_key(request)
        mode = 2 if self.is_unified(key) else 1
        return {
            "user_id": self.uid(key),
            "ip_whitelist": [],
            "currency_pairs": [],
            "key": {"mode": mode},
            "tier": 0,
        }

    def order_by_text(self, key: str, text: str) -> Any:
        """The order whose client id is `text`, while Gate still finds it by `text`: open, or
        finished at most `text_grace_ms` ago; ORDER_NOT_FOUND otherwise."""
        acct = self.venue.account(key)
        oid = acct.client_ids.get(text) if acct is not None else None
        order = acct.orders.get(oid) if oid else None
        if order is None or (
            order.status.is_done and self.venue.clock.now_ms() - order.updated_at >= self.text_grace_ms
        ):
            raise GateError(404, "ORDER_NOT_FOUND", "Order not found")
        return order

    def finished_orders(self, key: str, m: Any) -> list[Any]:
        """The account's finished orders (of market `m` when given), newest update first."""
        orders = [
            o
            for o in self.venue.account(key).orders.values()
            if o.status.is_done and (m is None or o.symbol == m.symbol)
        ]
        orders.sort(key=lambda o: o.updated_at, reverse=True)
        return orders


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise GateError(400, "INVALID_REQUEST_BODY", "Request body must be a JSON object")
    return body


def order_text(body: dict[str, Any]) -> str:
    """The order's client id (`text`), checked against Gate's rules; "" when absent."""
    text = body.get("text") or ""
    if text:
        if not isinstance(text, str):
            raise bad_param("Invalid text")
        validate_text(text)
    return text


def listing_status(request: web.Request) -> str:
    """The required `status` of an order listing: "open" or "finished"."""
    status = request.query.get("status")
    if status not in ("open", "finished"):
        raise missing_param("status") if status is None else bad_param(f"Invalid status: {status}")
    return status


def ws_names(names: list[Any], known: Any, what: str, *, allow_all: bool) -> tuple[str, ...]:
    """A WS payload of market names, each in `known` (or `!all` where allowed)."""
    if not names:
        raise WsError(ERR_BAD_ARGUMENT, "payload required")
    for n in names:
        if not (allow_all and n == ALL) and n not in known:
            raise WsError(ERR_BAD_ARGUMENT, f"unknown {what}: {n}")
    return tuple(names)
