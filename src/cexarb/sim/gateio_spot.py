"""Gate.io spot v4 front-end of the simulator: REST under /api/v4 and WebSocket v4 at /ws/v4/.

`create_app(venue)` serves one SimVenue as Gate spot does, so Gate clients (ccxt, the official SDK,
our connector) work against it with only the base URL changed. Quantities are base units except a
market buy's `amount`, which Gate states in quote.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cexarb.model import OrderStatus, OrderType, Side, TimeInForce, WithdrawalStatus
from cexarb.sim import gateio_fees
from cexarb.sim import gateio_spot_codec as codec
from cexarb.sim.gateio_errors import TEXT_CHARS, GateError, bad_param, missing_param
from cexarb.sim.gateio_front import (
    API,
    PUBLIC,
    SIGNED,
    GateFront,
    json_object,
    listing_status,
    order_text,
    ws_names,
)
from cexarb.sim.gateio_rest import GateRoutes, api_key, json_response, parse_number, query_bool, query_int
from cexarb.sim.gateio_ws import ALL, ERR_BAD_ARGUMENT, ChannelSpec, GateWsHub, WsError

WITHDRAW_STATUS = {
    WithdrawalStatus.PENDING: "REQUEST",
    WithdrawalStatus.PROCESSING: "PROCES",
    WithdrawalStatus.DONE: "DONE",
    WithdrawalStatus.FAILED: "FAIL",
    WithdrawalStatus.CANCELED: "CANCEL",
}


# What a create reply leaves out per `action_mode` (gateapi-python docs/Order.md: "ACK:
# Asynchronous mode, only returns key order fields; RESULT: No clearing information; FULL: Full
# mode (default)"). Which fields are "clearing" is unverified: the fills and fees.
_CLEARING = frozenset(
    {
        "left",
        "filled_amount",
        "fill_price",
        "filled_total",
        "avg_deal_price",
        "fee",
        "fee_currency",
        "point_fee",
        "gt_fee",
        "gt_maker_fee",
        "gt_taker_fee",
        "gt_discount",
        "rebated_fee",
        "rebated_fee_currency",
        "finish_as",
    }
)
_ACTION_FIELDS = {
    "FULL": frozenset(),
    "RESULT": _CLEARING,
    "ACK": _CLEARING | {"status", "amount", "price", "type", "side", "time_in_force", "iceberg", "account"},
}


class GateSpotFront(GateFront):
    label = "gate spot"
    ws_paths = ("/ws/v4/", "/ws/v4")

    market_param = "currency_pair"

    def __init__(self, venue: Any) -> None:
        super().__init__(venue)
        self._balance_seen: dict[tuple[str, str], tuple[float, float]] = {}
        self._update_ids: dict[tuple[str, str], int] = {}
        self._withdraw_texts: dict[str, str] = {}
        self._wallet_change: dict[tuple[str, str], str] = {}
        self.hub = GateWsHub(venue, "spot", self._channels())

    # ---- app -------------------------------------------------------------------------------------

    def _routes(self, routes: GateRoutes) -> None:
        routes.add("GET", f"{API}/spot/time", self.server_time, **PUBLIC)
        routes.add("GET", f"{API}/spot/currencies", self.currencies, **PUBLIC)
        routes.add("GET", f"{API}/spot/currency_pairs", self.currency_pairs, **PUBLIC)
        routes.add("GET", f"{API}/spot/currency_pairs/{{currency_pair}}", self.currency_pair, **PUBLIC)
        routes.add("GET", f"{API}/margin/currency_pairs", self.no_margin_pairs, **PUBLIC)
        routes.add("GET", f"{API}/spot/order_book", self.order_book, **PUBLIC)
        routes.add("GET", f"{API}/spot/tickers", self.tickers, **PUBLIC)
        routes.add("GET", f"{API}/spot/trades", self.trades, **PUBLIC)
        routes.add("GET", f"{API}/wallet/currency_chains", self.currency_chains, **PUBLIC)
        routes.add("GET", f"{API}/account/detail", self.account_detail, **SIGNED)
        routes.add("GET", f"{API}/spot/accounts", self.accounts, **SIGNED)
        routes.add("GET", f"{API}/unified/accounts", self.unified_accounts, **SIGNED)
        routes.add("GET", f"{API}/spot/fee", self.spot_fee, **SIGNED)
        routes.add("GET", f"{API}/wallet/fee", self.wallet_fee, **SIGNED)
        routes.add("POST", f"{API}/spot/orders", self.create_order, pool="orders", signed=True)
        routes.add("GET", f"{API}/spot/orders", self.list_orders, **SIGNED)
        routes.add("GET", f"{API}/spot/open_orders", self.open_orders, **SIGNED)
        routes.add("GET", f"{API}/spot/orders/{{order_id}}", self.get_order, **SIGNED)
        routes.add("DELETE", f"{API}/spot/orders/{{order_id}}", self.cancel_order, pool="cancel", signed=True)
        routes.add("DELETE", f"{API}/spot/orders", self.cancel_all, pool="cancel", signed=True)
        routes.add("GET", f"{API}/spot/my_trades", self.my_trades, **SIGNED)
        routes.add("POST", f"{API}/withdrawals", self.withdraw, pool="withdraw", signed=True)
        routes.add("GET", f"{API}/wallet/withdrawals", self.withdrawals, **SIGNED)
        routes.add("GET", f"{API}/wallet/withdraw_status", self.withdraw_status, **SIGNED)
        routes.add("GET", f"{API}/wallet/deposit_address", self.deposit_address, **SIGNED)
        routes.add("GET", f"{API}/wallet/deposits", self.deposits, **SIGNED)

    # ---- helpers ---------------------------------------------------------------------------------

    def unknown_market(self, pair: str) -> GateError:
        return GateError(400, "INVALID_CURRENCY_PAIR", f"Invalid currency pair: {pair}")

    def encode_order(self, o: Any, **kw: Any) -> dict[str, Any]:
        m = self.venue.markets[o.symbol]
        return codec.order(m, o, quote_amount=o.quote_quantity or None, **kw)

    def _lookup(self, key: str, order_id: str) -> dict[str, str]:
        """Gate's `{order_id}` is the exchange id, or the client `text` while the order is open
        ("Operations based on custom IDs can only be checked in pending orders. Only order ID
        can be used after the order is finished": Gate API v4 docs, GET /spot/orders/{order_id})."""
        if order_id.startswith("t-"):
            return {"order_id": self.order_by_text(key, order_id).order_id}
        return {"order_id": order_id}

    # ---- public REST -----------------------------------------------------------------------------

    async def currencies(self, request: web.Request) -> Any:
        assets = sorted({a for s in self.venue.markets for a in (s.base, s.quote)})
        out = []
        for asset in assets:
            nets = self.venue.network_config(asset)
            out.append(
                {
                    "currency": asset,
                    "name": asset,
                    "delisted": False,
                    "withdraw_disabled": not any(n.withdraw_enabled for n in nets),
                    "withdraw_delayed": False,
                    "deposit_disabled": False,
                    "trade_disabled": False,
                    "chain": nets[0].network if nets else "",
                    "chains": [
                        {
                            "name": n.network,
                            "addr": "",
                            "withdraw_disabled": not n.withdraw_enabled,
                            "withdraw_delayed": False,
                            "deposit_disabled": False,
                        }
                        for n in nets
                    ],
                }
            )
        return out

    async def currency_pairs(self, request: web.Request) -> Any:
        return [codec.currency_pair(m) for m in self.by_name.values()]

    async def currency_pair(self, request: web.Request) -> Any:
        return codec.currency_pair(self.market(request.match_info["currency_pair"]))

    async def no_margin_pairs(self, request: web.Request) -> Any:
        return []

    async def order_book(self, request: web.Request) -> Any:
        m = self.market(request.query.get("currency_pair"))
        limit = query_int(request, "limit", 10, 1, 1000)
        book = self.venue.snapshot(m.symbol, limit)
        return codec.order_book(m, book, self.venue.clock.now_ms(), query_bool(request, "with_id"))

    def _last_price(self, m: Any, bt: Any) -> float:
        trades = self.venue.recent_trades(m.symbol, 1)
        if trades:
            return trades[-1].price
        mid = bt.mid
        return mid if mid is not None else self.venue.mark_price(m.symbol)

    async def tickers(self, request: web.Request) -> Any:
        pair = request.query.get("currency_pair")
        markets = [self.market(pair)] if pair else list(self.by_name.values())
        out = []
        for m in markets:
            bt = self.venue.ticker(m.symbol)
            out.append(codec.ticker(m, bt, self._last_price(m, bt), single=bool(pair)))
        return out

    async def trades(self, request: web.Request) -> Any:
        m = self.market(request.query.get("currency_pair"))
        limit = query_int(request, "limit", 100, 1, 1000)
        trades = self.venue.recent_trades(m.symbol, limit)
        return [codec.public_trade_rest(m, t) for t in reversed(trades)]

    async def currency_chains(self, request: web.Request) -> Any:
        asset = request.query.get("currency")
        if not asset:
            raise missing_param("currency")
        return [
            {
                "chain": n.network,
                "name_cn": n.network,
                "name_en": n.network,
                "contract_address": "",
                "is_disabled": 0 if n.withdraw_enabled else 1,
                "is_deposit_disabled": 0,
                "is_withdraw_disabled": 0 if n.withdraw_enabled else 1,
                "decimal": "8",
            }
            for n in self.venue.network_config(asset.upper())
        ]

    # ---- private REST ----------------------------------------------------------------------------

    async def spot_fee(self, request: web.Request) -> Any:
        m = self.market(request.query.get("currency_pair"), required=False)
        return gateio_fees.spot_fee(self.venue, api_key(request), m)

    async def wallet_fee(self, request: web.Request) -> Any:
        m = self.market(request.query.get("currency_pair"), required=False)
        return gateio_fees.wallet_fee(self.venue, api_key(request), m)

    async def unified_accounts(self, request: web.Request) -> Any:
        """A unified account's balances (gateapi-python docs/UnifiedAccount.md, UnifiedBalance.md)."""
        key = api_key(request)
        if not self.is_unified(key):
            # unverified reply: what Gate answers a classic account here is not published
            raise GateError(400, "INVALID_PARAM_VALUE", "unified account not enabled")
        only = request.query.get("currency")
        balances = {}
        for asset, bal in sorted(self.venue.balances(key).items()):
            if only and asset != only:
                continue
            balances[asset] = {
                "available": codec.num(bal.available),
                "freeze": codec.num(bal.locked),
                "borrowed": "0",
                "negative_liab": "0",
                "futures_pos_liab": "0",
                "equity": codec.num(bal.available + bal.locked),
                "total_freeze": codec.num(bal.locked),
                "total_liab": "0",
            }
        return {
            "user_id": self.uid(key),
            "refresh_time": self.venue.clock.now_ms(),
            "locked": False,
            "balances": balances,
            "total": "0",
            "borrowed": "0",
            "unified_account_total": "0",
        }

    async def accounts(self, request: web.Request) -> Any:
        key = api_key(request)
        if self.is_unified(key):
            return []  # unverified: a unified account's funds are listed under /unified/accounts
        only = request.query.get("currency")
        out = []
        for asset, bal in sorted(self.venue.balances(key).items()):
            if only and asset != only:
                continue
            out.append(
                {
                    "currency": asset,
                    "available": codec.num(bal.available),
                    "locked": codec.num(bal.locked),
                    "update_id": self._update_ids.get((key, asset), 0),
                }
            )
        return out

    async def create_order(self, request: web.Request) -> Any:
        key = api_key(request)
        body = await json_object(request)
        m = self.market(body.get("currency_pair"))
        side_text = body.get("side")
        if side_text not in ("buy", "sell"):
            raise missing_param("side") if side_text is None else bad_param(f"Invalid side: {side_text}")
        side = Side.BUY if side_text == "buy" else Side.SELL
        if body.get("amount") is None:
            raise missing_param("amount")
        amount = parse_number(body["amount"], "amount")
        if amount <= 0:
            raise bad_param(f"Invalid amount: {body['amount']}")
        account = body.get("account", "spot")
        if account not in ("spot", "unified"):
            raise bad_param(f"Invalid account: {account}")
        if (account == "unified") != self.is_unified(key):
            # unverified strictness: an order names the account the key's mode has
            raise bad_param(
                f"Invalid account: {account} (the API key's account is {'unified' if self.is_unified(key) else 'spot'})"
            )
        text = order_text(body)
        action_mode = body.get("action_mode") or "FULL"
        if action_mode not in _ACTION_FIELDS:
            raise bad_param(f"Invalid action_mode: {action_mode}")
        order_type = body.get("type", "limit")
        tif_text = body.get("time_in_force") or ("ioc" if order_type == "market" else "gtc")
        tif = codec.TIF_IN.get(tif_text)
        if tif is None:
            raise bad_param(f"Invalid time_in_force: {tif_text}")
        price: float | None = None
        quote_qty: float | None = None
        quantity = amount
        if order_type == "limit":
            if body.get("price") in (None, ""):
                raise missing_param("price")
            price = parse_number(body["price"], "price")
            if price <= 0:
                raise bad_param(f"Invalid price: {body['price']}")
            core_type = OrderType.LIMIT_MAKER if tif is TimeInForce.POST_ONLY else OrderType.LIMIT
        elif order_type == "market":
            if tif not in (TimeInForce.IOC, TimeInForce.FOK):
                raise bad_param("Market orders only support time_in_force ioc or fok")
            core_type = OrderType.MARKET
            if side is Side.BUY:
                quote_qty, quantity = amount, 0.0
        else:
            raise bad_param(f"Invalid order type: {order_type}")
        order = self.venue.place_order(
            key,
            m.symbol,
            side,
            core_type,
            quantity,
            price,
            tif,
            client_order_id=text,
            quote_quantity=quote_qty,
        )
        if self.venue.faults.take_timeout_after_accept():
            return await self.venue.faults.hold_then_drop(request)
        reply = self.encode_order(order)
        dropped = _ACTION_FIELDS[action_mode]
        return json_response({k: v for k, v in reply.items() if k not in dropped}, status=201)

    async def get_order(self, request: web.Request) -> Any:
        m = self.market(request.query.get("currency_pair"))
        key = api_key(request)
        order = self.venue.get_order(key, m.symbol, **self._lookup(key, request.match_info["order_id"]))
        return self.encode_order(order)

    async def cancel_order(self, request: web.Request) -> Any:
        m = self.market(request.query.get("currency_pair"))
        key = api_key(request)
        order = self.venue.cancel_order(key, m.symbol, **self._lookup(key, request.match_info["order_id"]))
        return self.encode_order(order)

    async def cancel_all(self, request: web.Request) -> Any:
        m = self.market(request.query.get("currency_pair"), required=False)
        side_text = request.query.get("side")
        if side_text not in (None, "", "buy", "sell"):
            raise bad_param(f"Invalid side: {side_text}")
        side = {"buy": Side.BUY, "sell": Side.SELL}.get(side_text or "")
        orders = self.venue.cancel_all(api_key(request), m.symbol if m else None, side)
        return [{**self.encode_order(o), "succeeded": True} for o in orders]

    async def list_orders(self, request: web.Request) -> Any:
        key = api_key(request)
        status = listing_status(request)
        m = self.market(request.query.get("currency_pair"), required=status == "open")
        limit = query_int(request, "limit", 100, 1, 100 if status == "open" else 1000)
        page = query_int(request, "page", 1, 1, 1_000_000)
        side = request.query.get("side")
        if status == "open":
            orders = self.venue.open_orders(key, m.symbol)
            orders.sort(key=lambda o: o.created_at)
        else:
            orders = self.finished_orders(key, m)
            since_s, to_s = request.query.get("from"), request.query.get("to")
            if since_s:
                orders = [o for o in orders if o.created_at >= parse_number(since_s, "from") * 1000]
            if to_s:
                orders = [o for o in orders if o.created_at <= parse_number(to_s, "to") * 1000]
        if side in ("buy", "sell"):
            orders = [o for o in orders if o.side.value.lower() == side]
        window = orders[(page - 1) * limit : page * limit]
        return [self.encode_order(o) for o in window]

    async def open_orders(self, request: web.Request) -> Any:
        limit = query_int(request, "limit", 100, 1, 100)
        grouped: dict[str, list[dict[str, Any]]] = {}
        for o in sorted(self.venue.open_orders(api_key(request), None), key=lambda o: o.created_at):
            grouped.setdefault(codec.pair_id(o.symbol), []).append(self.encode_order(o))
        return [{"currency_pair": p, "total": len(os), "orders": os[:limit]} for p, os in grouped.items()]

    async def my_trades(self, request: web.Request) -> Any:
        key = api_key(request)
        m = self.market(request.query.get("currency_pair"), required=False)
        limit = query_int(request, "limit", 100, 1, 1000)
        page = query_int(request, "page", 1, 1, 1_000_000)
        order_id = request.query.get("order_id")
        if order_id and m is None:
            raise missing_param("currency_pair")
        since_ms = (
            int(parse_number(request.query["from"], "from") * 1000) if request.query.get("from") else None
        )
        to_ms = int(parse_number(request.query["to"], "to") * 1000) if request.query.get("to") else None
        fills = self.venue.my_trades(key, m.symbol if m else None, since_ms=since_ms, limit=1_000_000)
        fills = [
            f
            for f in fills
            if (not order_id or f.order_id == order_id) and (to_ms is None or f.timestamp <= to_ms)
        ]
        fills.sort(key=lambda f: f.timestamp, reverse=True)
        window = fills[(page - 1) * limit : page * limit]
        return [codec.my_trade(self.venue.markets[f.symbol], f) for f in window]

    def _withdrawal(self, w: Any) -> dict[str, Any]:
        return {
            "id": w.withdrawal_id,
            "timestamp": str(w.timestamp // 1000),
            "withdraw_order_id": self._withdraw_texts.get(w.withdrawal_id, ""),
            "currency": w.asset,
            "address": w.address,
            "txid": w.tx_id,
            "amount": codec.num(w.amount),
            "fee": codec.num(w.fee),
            "memo": "",
            "status": WITHDRAW_STATUS.get(w.status, "PEND"),
            "chain": w.network,
        }

    async def withdraw(self, request: web.Request) -> Any:
        key = api_key(request)
        body = await json_object(request)
        for name in ("currency", "amount", "chain", "address"):
            if body.get(name) in (None, ""):
                raise missing_param(name)
        amount = parse_number(body["amount"], "amount")
        if amount <= 0:
            raise bad_param(f"Invalid amount: {body['amount']}")
        text = body.get("withdraw_order_id") or None
        if text is not None and (len(text) > 32 or not set(text) <= TEXT_CHARS):
            raise bad_param("Invalid withdraw_order_id")
        w = self.venue.withdraw(
            key,
            str(body["currency"]).upper(),
            amount,
            body["address"],
            body["chain"],
            body.get("memo") or None,
            text,
        )
        if text:
            self._withdraw_texts[w.withdrawal_id] = text
        return self._withdrawal(w)

    async def withdrawals(self, request: web.Request) -> Any:
        key = api_key(request)
        asset = request.query.get("currency")
        wid = request.query.get("withdraw_id")
        text = request.query.get("withdraw_order_id")
        limit = query_int(request, "limit", 100, 1, 1000)
        offset = query_int(request, "offset", 0, 0, 1_000_000)
        records = [
            self._withdrawal(w)
            for w in self.venue.withdrawals(key, asset.upper() if asset else None)
            if (not wid or w.withdrawal_id == wid)
            and (not text or self._withdraw_texts.get(w.withdrawal_id) == text)
        ]
        records.sort(key=lambda r: int(r["timestamp"]), reverse=True)
        return records[offset : offset + limit]

    async def withdraw_status(self, request: web.Request) -> Any:
        """gateapi WithdrawStatus per currency: fixed fee per chain, one minimum for the currency
        (the largest chain minimum here, so an amount Gate accepts on one chain passes on all)."""
        currency = (request.query.get("currency") or "").upper()
        assets = (
            [currency] if currency else sorted({a for s in self.venue.markets for a in (s.base, s.quote)})
        )
        out = []
        for asset in assets:
            nets = self.venue.network_config(asset)
            if not nets:
                continue
            out.append(
                {
                    "currency": asset,
                    "name": asset,
                    "name_cn": asset,
                    "deposit": "0",
                    "withdraw_percent": "0%",
                    "withdraw_fix": codec.num(nets[0].fee),
                    "withdraw_day_limit": "1000000",
                    "withdraw_amount_mini": codec.num(max(n.min_amount for n in nets)),
                    "withdraw_day_limit_remain": "1000000",
                    "withdraw_eachtime_limit": "1000000",
                    "withdraw_fix_on_chains": {n.network: codec.num(n.fee) for n in nets},
                    "withdraw_percent_on_chains": {n.network: "0%" for n in nets},
                }
            )
        return out

    async def deposit_address(self, request: web.Request) -> Any:
        """gateapi DepositAddress: the currency's address on every chain (multichain_addresses)."""
        key = api_key(request)
        currency = (request.query.get("currency") or "").upper()
        if not currency:
            raise missing_param("currency")
        nets = self.venue.deposit_networks(currency)
        if not nets:
            raise GateError(400, "INVALID_CURRENCY", f"Invalid currency: {currency}")
        chains = [
            {
                "chain": n.network,
                "address": self.venue.deposit_address(key, currency, n.network),
                "payment_id": "",
                "payment_name": "",
                "obtain_failed": 0,
            }
            for n in nets
        ]
        return {"currency": currency, "address": chains[0]["address"], "multichain_addresses": chains}

    async def deposits(self, request: web.Request) -> Any:
        """gateapi LedgerRecord items, newest first; `from`/`to` in seconds, status PEND then DONE."""
        key = api_key(request)
        currency = request.query.get("currency")
        limit = query_int(request, "limit", 100, 1, 500)
        offset = query_int(request, "offset", 0, 0, 1_000_000)
        start = query_int(request, "from", 0, 0, 1 << 40)
        end = query_int(request, "to", 0, 0, 1 << 40)
        records = [
            {
                "id": d.deposit_id,
                "txid": d.tx_id,
                "withdraw_order_id": "",
                "timestamp": str(d.timestamp // 1000),
                "amount": codec.num(d.amount),
                "currency": d.asset,
                "address": d.address,
                "memo": "",
                "status": "DONE" if d.done else "PEND",
                "chain": d.network,
            }
            for d in reversed(self.venue.deposits(key, currency.upper() if currency else None))
            if d.timestamp // 1000 >= start and (not end or d.timestamp // 1000 <= end)
        ]
        return records[offset : offset + limit]

    # ---- WebSocket channels ----------------------------------------------------------------------

    def _pairs_payload(self, payload: list[Any], allow_all: bool) -> tuple[str, ...]:
        return ws_names(payload, self.by_name, "currency pair", allow_all=allow_all)

    def _book_payload(self, payload: list[Any], _key: str | None) -> tuple[str, ...]:
        if len(payload) != 2 or payload[1] not in ("20ms", "100ms", "1000ms"):
            raise WsError(
                ERR_BAD_ARGUMENT, "payload must be [currency_pair, interval] with interval 20ms or 100ms"
            )
        return self._pairs_payload(payload[:1], allow_all=False)

    def _channels(self) -> dict[str, ChannelSpec]:
        public = ChannelSpec(private=False, parse=lambda p, k: self._pairs_payload(p, allow_all=False))
        private = ChannelSpec(private=True, parse=lambda p, k: self._pairs_payload(p, allow_all=True))
        return {
            "spot.book_ticker": public,
            "spot.trades": public,
            "spot.order_book_update": ChannelSpec(private=False, parse=self._book_payload),
            "spot.orders": private,
            "spot.usertrades": private,
            "spot.balances": ChannelSpec(private=True, parse=lambda p, k: (ALL,)),
        }

    # ---- venue events -> pushes ------------------------------------------------------------------

    def _on_book_delta(self, ev: Any) -> None:
        m = self.venue.markets[ev.symbol]
        self.hub.publish(
            "spot.order_book_update", codec.pair_id(ev.symbol), lambda _d: codec.ws_book_update(m, ev)
        )

    def _on_ticker(self, ev: Any) -> None:
        bt = ev.ticker
        m = self.venue.markets[bt.symbol]
        self.hub.publish("spot.book_ticker", codec.pair_id(bt.symbol), lambda _d: codec.ws_book_ticker(m, bt))

    def _on_trade(self, ev: Any) -> None:
        t = ev.trade
        m = self.venue.markets[t.symbol]
        self.hub.publish("spot.trades", codec.pair_id(t.symbol), lambda _d: codec.ws_trade(m, t))

    def _on_order(self, ev: Any) -> None:
        o = ev.order
        if o.status.is_done:
            kind = "finish"
        elif o.status is OrderStatus.NEW and not o.filled_quantity:
            kind = "put"
        else:
            kind = "update"
        uid = self.uid(ev.api_key)
        self.hub.publish_private(
            "spot.orders",
            ev.api_key,
            codec.pair_id(o.symbol),
            lambda _d: [self.encode_order(o, user_id=uid, event=kind)],
        )

    def _on_fill(self, ev: Any) -> None:
        e = ev.execution
        m = self.venue.markets[e.symbol]
        uid = self.uid(ev.api_key)
        self.hub.publish_private(
            "spot.usertrades", ev.api_key, codec.pair_id(e.symbol), lambda _d: [codec.ws_usertrade(m, e, uid)]
        )

    def _on_wallet(self, ev: Any) -> None:
        """The next balance push of this asset is a deposit or a withdrawal (spot.balances change_type)."""
        self._wallet_change[(ev.api_key, ev.asset)] = ev.kind

    def _on_balance(self, ev: Any) -> None:
        bal = ev.balance
        k = (ev.api_key, bal.asset)
        change_type = self._wallet_change.pop(k, None)
        self._update_ids[k] = self._update_ids.get(k, 0) + 1
        total, locked = bal.available + bal.locked, bal.locked
        prev_total, prev_locked = self._balance_seen.get(k, (total, locked))
        self._balance_seen[k] = (total, locked)
        uid = self.uid(ev.api_key)
        now_ms = self.venue.clock.now_ms()
        self.hub.publish_private(
            "spot.balances",
            ev.api_key,
            None,
            lambda _d: [
                codec.ws_balance(
                    bal.asset,
                    bal.available,
                    bal.locked,
                    total - prev_total,
                    locked - prev_locked,
                    now_ms,
                    uid,
                    change_type,
                )
            ],
        )


def create_app(venue: Any) -> web.Application:
    """The Gate spot v4 front-end (REST + WS on one app) serving `venue`."""
    return GateSpotFront(venue).app()
