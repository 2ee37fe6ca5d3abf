"""Gate symbol names ("BTC_USDT") <-> model Symbols, and client order ids."""

from __future__ import annotations

import itertools
import os
import re
import time

from cexarb.model import Symbol
from cexarb.model.errors import InvalidOrder

# Names already read -> their Symbol (from_venue's cache; the order codecs look here first).
KNOWN_PAIRS: dict[str, Symbol] = {}


def to_venue(symbol: Symbol) -> str:
    return f"{symbol.base}_{symbol.quote}"


def from_venue(name: str) -> Symbol:
    """'BTC_USDT' -> Symbol('BTC', 'USDT'); cached because the hot path calls it per frame."""
    symbol = KNOWN_PAIRS.get(name)
    if symbol is None:
        base, sep, quote = name.partition("_")
        if not sep or not base or not quote:
            raise ValueError(f"not a Gate pair/contract name: {name!r}")
        symbol = Symbol(base.upper(), quote.upper())
        KNOWN_PAIRS[name] = symbol
    return symbol


# Gate: 't-' then at most 28 bytes of [0-9A-Za-z_.-]. ccxt enforces 28 bytes *including*
# the prefix; we generate ids that satisfy both readings (22 bytes total).
CLIENT_ID_PREFIX = "t-"
_CLIENT_ID_RE = re.compile(r"^t-[0-9A-Za-z_.\-]{1,28}$")
_counter = itertools.count(1)
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
# Two base-36 digits per index (00..zz): the 4-digit sequence is two look-ups, not a loop.
_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)
_SEQ_SPAN = 36**4


def _base36(n: int) -> str:
    out = []
    while True:
        n, r = divmod(n, 36)
        out.append(_ALPHABET[r])
        if not n:
            return "".join(reversed(out))


# Milliseconds since the epoch have 8 base-36 digits from 1972 to 2059: four pair look-ups.
_MS8_LOW, _MS8_HIGH = 36**7, 36**8


def _ms_text(ms: int) -> str:
    """_base36(ms), without its loop for the 8-digit times of this era (after a pause every
    order starts a new millisecond, so this runs on the order lane)."""
    if not _MS8_LOW <= ms < _MS8_HIGH:
        return _base36(ms)
    high, low = divmod(ms, 1_679_616)  # 36**4
    return _PAIRS[high // 1296] + _PAIRS[high % 1296] + _PAIRS[low // 1296] + _PAIRS[low % 1296]


def _new_tag() -> str:
    return _base36(int.from_bytes(os.urandom(4), "big") % 36**6).rjust(6, "0")


class _Stamp:
    """The process's random tag (drawn again in a forked child, which shares the counter) and
    the last millisecond's base-36 text (a new id mostly falls in the same millisecond)."""

    tag = _new_tag()
    ms = -1
    ms_text = ""


os.register_at_fork(after_in_child=lambda: setattr(_Stamp, "tag", _new_tag()))


def new_client_order_id() -> str:
    """'t-' + ms time + process counter + the process's random tag: unique within a process
    (the counter; it wraps only after 36**4 ids in one millisecond) and across restarts and
    processes (the time and the tag). Reads no entropy per call: the tag is drawn once."""
    stamp = _Stamp
    ms = time.time_ns() // 1_000_000
    if ms != stamp.ms:
        stamp.ms_text = _ms_text(ms)
        stamp.ms = ms
    seq = next(_counter) % _SEQ_SPAN
    return f"{CLIENT_ID_PREFIX}{stamp.ms_text}{_PAIRS[seq // 1296]}{_PAIRS[seq % 1296]}{stamp.tag}"


def check_client_order_id(client_order_id: str) -> str:
    if not _CLIENT_ID_RE.match(client_order_id):
        raise InvalidOrder(
            f"client order id {client_order_id!r} is not Gate-legal",
            venue="gateio",
            hint="use 't-' followed by 1..28 characters of 0-9 A-Z a-z _ - . (see new_client_order_id())",
        )
    return client_order_id
