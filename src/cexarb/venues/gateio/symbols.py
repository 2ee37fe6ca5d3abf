"""Gate symbol names ("BTC_USDT") <-> model Symbols, and client order ids."""

from __future__ import annotations

import itertools
import os
import re
import time

from cexarb.model import Symbol
from cexarb.model.errors import InvalidOrder

_FROM_VENUE: dict[str, Symbol] = {}


def to_venue(symbol: Symbol) -> str:
    return f"{symbol.base}_{symbol.quote}"


def from_venue(name: str) -> Symbol:
    """'BTC_USDT' -> Symbol('BTC', 'USDT'); cached because the hot path calls it per frame."""
    symbol = _FROM_VENUE.get(name)
    if symbol is None:
        base, sep, quote = name.partition("_")
        if not sep or not base or not quote:
            raise ValueError(f"not a Gate pair/contract name: {name!r}")
        symbol = Symbol(base.upper(), quote.upper())
        _FROM_VENUE[name] = symbol
    return symbol


# Gate: 't-' then at most 28 bytes of [0-9A-Za-z_.-]. ccxt enforces 28 bytes *including*
# the prefix; we generate ids that satisfy both readings (22 bytes total).
CLIENT_ID_PREFIX = "t-"
_CLIENT_ID_RE = re.compile(r"^t-[0-9A-Za-z_.\-]{1,28}$")
_counter = itertools.count(1)
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = []
    while True:
        n, r = divmod(n, 36)
        out.append(_ALPHABET[r])
        if not n:
            return "".join(reversed(out))


def new_client_order_id() -> str:
    """'t-' + ms time + process-unique counter + random: unique across restarts and processes."""
    ms = _base36(int(time.time() * 1000))
    seq = _base36(next(_counter) % 36**4).rjust(4, "0")
    rnd = _base36(int.from_bytes(os.urandom(4), "big") % 36**6).rjust(6, "0")
    return f"{CLIENT_ID_PREFIX}{ms}{seq}{rnd}"


def check_client_order_id(client_order_id: str) -> str:
    if not _CLIENT_ID_RE.match(client_order_id):
        raise InvalidOrder(
            f"client order id {client_order_id!r} is not Gate-legal",
            venue="gateio",
            hint="use 't-' followed by 1..28 characters of 0-9 A-Z a-z _ - . (see new_client_order_id())",
        )
    return client_order_id
