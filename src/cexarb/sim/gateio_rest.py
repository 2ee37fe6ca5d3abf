"""Gate REST plumbing shared by the spot and futures front-ends: one middleware that applies the
venue's REST faults, Gate's rate-limit pools (429 TOO_MANY_REQUESTS + X-Gate-RateLimit-* headers),
signature checks for private routes, and turns errors into Gate's `{"label","message"}` replies.

Routes are declared with `GateRoutes.add(method, path, handler, pool=..., signed=...)`; handlers
receive the request (with `request["api_key"]` set when signed) and return a JSON-able object or a
web response.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from cexarb.sim.engine import SimReject
from cexarb.sim.gateio_auth import verify_rest
from cexarb.sim.gateio_errors import GateError, bad_param, error_response, reject_error

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[Any]]

_API_KEY = web.RequestKey("gate_api_key", str)
_WRITES = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class RouteMeta:
    pool: str  # rate-limit pool name (see cexarb.config's Gate pools)
    signed: bool
    per_endpoint: bool  # Gate counts "public" and "other private" limits per endpoint


class GateRoutes:
    """Route table of one Gate front-end."""

    def __init__(self, venue: Any, *, futures: bool) -> None:
        self.venue = venue
        self.futures = futures
        self._meta: dict[Handler, RouteMeta] = {}
        self._routes: list[tuple[str, str, Handler]] = []

    def add(self, method: str, path: str, handler: Handler, *, pool: str, signed: bool) -> None:
        wrapped = self._wrap(handler)
        self._meta[wrapped] = RouteMeta(pool, signed, pool in ("public", "default"))
        self._routes.append((method, path, wrapped))

    def _wrap(self, handler: Handler) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            result = await handler(request)
            if isinstance(result, web.StreamResponse):
                return result
            return json_response(result)

        run.__name__ = handler.__name__
        return run

    def install(self, app: web.Application) -> None:
        """Add these routes to `app`. Several tables may share one app, as Gate serves spot,
        futures, wallet and account REST from one host: each request is then checked against
        the venue that owns its route; a path already installed (e.g. `/spot/time`,
        `/account/detail`) keeps its first owner."""
        owners = app.get(_OWNERS)
        if owners is None:
            owners = app[_OWNERS] = {}
            app[_FIRST] = self
            app.middlewares.append(_dispatch)
        taken = {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource is not None}
        for method, path, handler in self._routes:
            if (method, path) in taken:
                continue
            app.router.add_route(method, path, handler)
            owners[handler] = self

    async def handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """One request to a route of this table (or to no route): faults, limits, signature, errors."""
        venue = self.venue
        early = await venue.faults.before_rest(request)
        if early is not None:
            return early
        meta = self._meta.get(request.match_info.handler)  # type: ignore[arg-type]
        if meta is None:  # no route: let aiohttp answer, in Gate's shape
            try:
                return await handler(request)
            except web.HTTPMethodNotAllowed:
                return error_response(405, "METHOD_NOT_ALLOWED", f"Method {request.method} not allowed")
            except web.HTTPNotFound:
                return error_response(404, "NOT_FOUND", f"Path {request.path} not found")
        caller = request.headers.get("KEY") or (request.remote or "?")
        limit_key = self._limit_key(request, meta, caller)
        retry_after = venue.limits.hit(limit_key, meta.pool)
        if retry_after is not None:
            return self._too_many(limit_key, meta.pool, retry_after)
        try:
            if meta.signed and request.method in _WRITES and request.content_type != "application/json":
                # Gate's docs send `Content-Type: application/json` on every write, bodyless
                # ones too (leverage); no public reply settles its absence (unverified): the sim
                # refuses it, so a client that forgets it fails here first.
                raise GateError(400, "INVALID_REQUEST_BODY", "Content-Type must be application/json")
            if meta.signed:
                body = await request.read()
                key = verify_rest(
                    self._secret_of,
                    request.method,
                    request.path,
                    request.query_string,
                    body,
                    request.headers,
                    venue.clock.now_s(),
                )
                request[_API_KEY] = key
            response = await handler(request)
        except GateError as err:
            response = err.response()
        except SimReject as err:
            response = reject_error(err.reason, err.detail, futures=self.futures).response()
        except Exception:
            log.exception("gate front-end %s %s failed", request.method, request.path)
            response = error_response(500, "SERVER_ERROR", "Internal server error")
        self._limit_headers(response, limit_key, meta.pool)
        rid = request.headers.get("X-Client-Request-Id")
        if rid and not response.prepared:
            response.headers["X-Client-Request-Id"] = rid
        await venue.faults.after_rest_reply(request)
        return response

    def _secret_of(self, key: str) -> str | None:
        acct = self.venue.account(key)
        return acct.api_secret if acct is not None else None

    @staticmethod
    def _limit_key(request: web.Request, meta: RouteMeta, caller: str) -> str:
        if meta.per_endpoint:
            route = request.match_info.route.resource
            name = route.canonical if route is not None else request.path
            return f"{caller} {request.method} {name}"
        return caller

    def _too_many(self, limit_key: str, pool: str, retry_after: float) -> web.Response:
        _, capacity, _ = self.venue.limits.remaining(limit_key, pool)
        reset = math.ceil(self.venue.clock.now_s() + retry_after)
        headers = {
            "X-Gate-RateLimit-Requests-Remain": "0",
            "X-Gate-RateLimit-Limit": str(capacity),
            "X-Gate-RateLimit-Reset-Timestamp": str(reset),
        }
        return error_response(429, "TOO_MANY_REQUESTS", "Request Rate limit Exceeded", headers)

    def _limit_headers(self, response: web.StreamResponse, limit_key: str, pool: str) -> None:
        if response.prepared:
            return
        remain, capacity, reset_in = self.venue.limits.remaining(limit_key, pool)
        if capacity:
            response.headers["X-Gate-RateLimit-Requests-Remain"] = str(remain)
            response.headers["X-Gate-RateLimit-Limit"] = str(capacity)
            response.headers["X-Gate-RateLimit-Reset-Timestamp"] = str(
                math.ceil(self.venue.clock.now_s() + reset_in)
            )


_OWNERS = web.AppKey("gate_route_owners", dict)
_FIRST = web.AppKey("gate_first_routes", GateRoutes)


@web.middleware
async def _dispatch(request: web.Request, handler: Handler) -> web.StreamResponse:
    app = request.app
    owner = app[_OWNERS].get(request.match_info.handler, app[_FIRST])
    return await owner.handle(request, handler)


def api_key(request: web.Request) -> str:
    return request[_API_KEY]


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=msgspec.json.encode(data), content_type="application/json")


async def json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        raise GateError(400, "INVALID_REQUEST_BODY", "Request body is empty")
    try:
        return json.loads(raw)
    except ValueError:
        raise GateError(400, "INVALID_REQUEST_BODY", "Request body is not valid JSON") from None


def query_int(request: web.Request, name: str, default: int, lo: int = 1, hi: int = 1000) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise GateError(400, "INVALID_PARAM_VALUE", f"Invalid {name}: {text}") from None
    if not lo <= value <= hi:
        raise GateError(400, "INVALID_PARAM_VALUE", f"{name} must be between {lo} and {hi}")
    return value


def query_bool(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


def parse_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None:
        raise bad_param(f"Invalid {name}: {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise bad_param(f"Invalid {name}: {value!r}") from None
    if out != out or out in (float("inf"), float("-inf")):
        raise bad_param(f"Invalid {name}: {value!r}")
    return out
