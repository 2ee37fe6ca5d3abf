"""The admin HTTP endpoint: faults, ground truth and deterministic control over HTTP.

POST /__sim/faults/<name>     JSON body = the keyword arguments of sim.faults.<name>
                              (bytes arguments `body`/`data` as text; `data_b64` for binary frames)
GET  /__sim/truth?venue=..&api_key=..
GET  /__sim/stats?venue=..
POST /__sim/control/<take|quote|set_mid|clear_quotes>   JSON body: venue, symbol ("BTC/USDT"), ...
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from cexarb.model.enums import Side
from cexarb.model.market import Symbol
from cexarb.sim.engine import SimReject

if TYPE_CHECKING:
    from cexarb.sim.harness import Simulator

_FAULTS = {
    "drop_streams",
    "stall_streams",
    "fail_next_rest",
    "delay_next_rest",
    "timeout_after_accept",
    "skew_clock",
    "pause_matching",
    "reject_ws_connections",
    "inject_ws_frame",
    "clear",
}
_CONTROL = {"take", "quote", "set_mid", "clear_quotes"}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(data, enc_hook=_enc), status=status, content_type="application/json"
    )


def _enc(obj: Any) -> Any:
    if isinstance(obj, Symbol):
        return str(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    data = msgspec.json.decode(raw)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object of keyword arguments")
    return data


def create_admin_app(sim: Simulator) -> web.Application:
    async def fault(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _FAULTS:
            return _error(404, f"unknown fault {name!r}; known: {', '.join(sorted(_FAULTS))}")
        try:
            kwargs = await _body(request)
            if isinstance(kwargs.get("body"), str):
                kwargs["body"] = kwargs["body"].encode()
            if "data_b64" in kwargs:
                kwargs["data"] = base64.b64decode(kwargs.pop("data_b64"))
            getattr(sim.faults, name)(**kwargs)
        except (TypeError, ValueError, KeyError, msgspec.DecodeError) as exc:
            return _error(400, f"{name}: {exc}")
        return _json({"ok": True})

    async def truth(request: web.Request) -> web.Response:
        try:
            t = sim.truth(request.query["venue"], request.query["api_key"])
        except KeyError as exc:
            return _error(400, f"need known venue and api_key: {exc}")
        return _json(
            {
                "orders": t.orders,
                "fills": t.fills,
                "balances": t.balances,
                "positions": {str(s): p for s, p in t.positions.items()},
                "withdrawals": t.withdrawals,
            }
        )

    async def stats(request: web.Request) -> web.Response:
        try:
            return _json(sim.stats(request.query["venue"]))
        except KeyError as exc:
            return _error(400, f"need a known venue: {exc}")

    async def control(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _CONTROL:
            return _error(404, f"unknown control {name!r}; known: {', '.join(sorted(_CONTROL))}")
        try:
            kwargs = await _body(request)
            if "symbol" in kwargs:
                kwargs["symbol"] = Symbol.parse(kwargs["symbol"])
            if "side" in kwargs:
                kwargs["side"] = Side(str(kwargs["side"]).upper())
            result = getattr(sim, name)(**kwargs)
            if hasattr(result, "__await__"):
                result = await result
        except SimReject as exc:
            return _error(409, str(exc))
        except (TypeError, ValueError, KeyError, msgspec.DecodeError) as exc:
            return _error(400, f"{name}: {exc}")
        return _json({"ok": True, "result": result})

    app = web.Application()
    app.router.add_post("/__sim/faults/{name}", fault)
    app.router.add_get("/__sim/truth", truth)
    app.router.add_get("/__sim/stats", stats)
    app.router.add_post("/__sim/control/{name}", control)
    return app
