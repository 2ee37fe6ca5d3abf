"""Shared pieces of the MEXC front-end tests: a bare SimVenue, a maker, and a small signed client."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from cexarb.config import RateLimitPool
from cexarb.model import OrderType, Side, Symbol, TimeInForce
from cexarb.sim.engine import SimMarket
from cexarb.sim.venue import SimVenue
from cexarb.sim.withdrawals import mexc_networks

BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
KEY, SECRET = "k1", "s1"
OTHER_KEY, OTHER_SECRET = "k2", "s2"
MAKER = "mm"
START = {"USDT": 100_000.0, "BTC": 2.0, "ETH": 20.0}


def markets() -> list[SimMarket]:
    return [
        SimMarket(BTC, 0.1, 0.0001, 0.0001, 1.0, maker_fee=0.001, taker_fee=0.002, initial_mid=60000.0),
        SimMarket(ETH, 0.01, 0.001, 0.001, 1.0, maker_fee=0.001, taker_fee=0.002, initial_mid=3000.0),
    ]


def make_venue(rate_limits: dict[str, RateLimitPool] | None = None) -> SimVenue:
    venue = SimVenue(
        "mexc_spot", markets(), rate_limits=rate_limits, networks=mexc_networks(), order_id_prefix="C02__"
    )
    venue.add_account(KEY, SECRET, 1, START)
    venue.add_account(OTHER_KEY, OTHER_SECRET, 2, START)
    venue.add_account(MAKER, "", 3, {"USDT": 1e9, "BTC": 1e4, "ETH": 1e5})
    return venue


def rest_quote(venue: SimVenue, side: Side, price: float, qty: float, symbol: Symbol = BTC):
    """A resting maker order from the maker account (not through the wire)."""
    return venue.place_order(MAKER, symbol, side, OrderType.LIMIT, qty, price, TimeInForce.GTC)


class MexcClient:
    """Just enough of a MEXC REST client: signs like the docs, returns (status, json)."""

    def __init__(self, session: aiohttp.ClientSession, base: str, api_key: str, secret: str) -> None:
        self.session = session
        self.base = base
        self.api_key = api_key
        self.secret = secret
        self.clock_offset_ms = 0

    def signed_query(self, params: dict | None = None, **extra) -> str:
        items = dict(params or {})
        items.setdefault("timestamp", int(time.time() * 1000) + self.clock_offset_ms)
        items.update(extra)
        query = urlencode(items)
        sig = hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        return f"{query}&signature={sig}"

    async def raw(self, method: str, path: str, *, query: str = "", body: str = "", headers=None):
        hdrs = {"X-MEXC-APIKEY": self.api_key, "Content-Type": "application/json"}
        if body:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        hdrs.update(headers or {})
        # encoded=True: send the query bytes exactly as signed (aiohttp would re-quote a str URL)
        url = URL(f"{self.base}{path}" + (f"?{query}" if query else ""), encoded=True)
        async with self.session.request(method, url, data=body.encode() if body else None, headers=hdrs) as r:
            text = await r.text()
            payload = None
            if text and r.content_type == "application/json":
                payload = await r.json(content_type=None)
            return r.status, payload if payload is not None else text, dict(r.headers)

    async def signed(self, method: str, path: str, params: dict | None = None, *, in_body: bool = False):
        signed = self.signed_query(params)
        if in_body:
            status, payload, _ = await self.raw(method, path, body=signed)
        else:
            status, payload, _ = await self.raw(method, path, query=signed)
        return status, payload

    async def public(self, path: str, params: dict | None = None):
        url = f"{self.base}{path}"
        async with self.session.get(url, params=params or {}) as r:
            return r.status, await r.json(content_type=None)
