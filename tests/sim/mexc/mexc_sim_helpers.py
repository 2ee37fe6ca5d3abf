"""Shared pieces of the MEXC front-end tests: a bare SimVenue, a maker, and a small signed client."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from cexarb.config import RateLimitPool
from cexarb.model import OrderType, Side, Symbol, TimeInForce
from cexarb.sim.engine import SimMarket
from cexarb.sim.pb.mexc_push_pb2 import PushDataV3ApiWrapper
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
        "mexc_spot",
        markets(),
        rate_limits=rate_limits,
        networks=mexc_networks(),
        withdrawal_delay_s=30.0,  # withdrawals stay cancelable for the whole test
        order_id_prefix="C02__",
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
            hdrs["Content-Type"] = "application/json"
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


def ws_url(base: str, listen_key: str | None = None) -> str:
    url = base.replace("http://", "ws://") + "/ws"
    return f"{url}?listenKey={listen_key}" if listen_key else url


async def next_frame(ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0):
    """The next data frame: a decoded PushDataV3ApiWrapper, a dict (JSON text), or a str."""
    msg = await ws.receive(timeout=timeout)
    if msg.type is aiohttp.WSMsgType.BINARY:
        return PushDataV3ApiWrapper.FromString(msg.data)
    if msg.type is aiohttp.WSMsgType.TEXT:
        try:
            return json.loads(msg.data)
        except ValueError:
            return msg.data
    return msg.type


async def frames_until(ws, predicate, timeout: float = 3.0) -> list:
    """Every frame received up to and including the first one matching `predicate`."""
    out = []
    while True:
        frame = await next_frame(ws, timeout)
        out.append(frame)
        if predicate(frame):
            return out


def is_pong(frame) -> bool:
    return isinstance(frame, dict) and frame.get("msg") == "PONG"


async def barrier(ws) -> list:
    """PING and wait for the PONG: frames queued before it arrive first (one queue per connection)."""
    await ws.send_str('{"method":"PING"}')
    return (await frames_until(ws, is_pong))[:-1]


async def subscribe(ws, *channels: str, rid: int = 0) -> dict:
    await ws.send_str(json.dumps({"method": "SUBSCRIPTION", "params": list(channels), "id": rid}))
    return await next_frame(ws)
