"""What the Gate spot and futures front-ends share: the venue event subscription, the account
detail reply, and the request checks both markets make the same way (JSON object bodies, the
order `text`, the `status` of an order listing, WS payloads naming markets)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from cexarb.sim.gateio_errors import GateError, bad_param, missing_param, validate_text
from cexarb.sim.gateio_rest import api_key, json_body
from cexarb.sim.gateio_ws import ALL, ERR_BAD_ARGUMENT, GateWsHub, WsError

log = logging.getLogger(__name__)


class GateFront:
    """Base of a Gate front-end serving one SimVenue; subclasses set `hub` and `_event_handlers`
    (venue event class name -> push method) and call `serve_events(app)` when building the app."""

    label = "gate"  # names the front-end in logs
    venue: Any
    hub: GateWsHub
    _event_handlers: dict[str, Callable[[Any], None]]
    _unsubscribe: Callable[[], None] | None = None

    def serve_events(self, app: web.Application) -> None:
        app.on_startup.append(self._start)
        app.on_shutdown.append(self._stop)

    async def _start(self, app: web.Application) -> None:
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

    async def account_detail(self, request: web.Request) -> Any:
        uid = self.uid(api_key(request))
        return {"user_id": uid, "ip_whitelist": [], "currency_pairs": [], "key": {"mode": 1}, "tier": 0}

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
