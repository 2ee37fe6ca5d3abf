"""Expected perpetual funding over a holding horizon, in basis points of notional. Pure.

A basis position (long spot, short perp) receives the funding rate at every settlement while
it is open when the rate is positive (longs pay shorts) and pays it when negative. The engine
does not know the future rate; it takes the current one as the forecast for every settlement
until the position's expected close.
"""

from __future__ import annotations

from cexarb.model import FundingInfo


def settlements_within(next_apply_ms: int, interval_s: int, now_ms: int, horizon_s: float) -> int:
    """How many settlements fall in (now, now + horizon]."""
    end = now_ms + horizon_s * 1000.0
    if next_apply_ms <= 0 or interval_s <= 0 or horizon_s <= 0:
        return 0
    first = next_apply_ms
    if first <= now_ms:  # the venue's next time is stale: step to the first one ahead
        first += ((now_ms - first) // (interval_s * 1000) + 1) * interval_s * 1000
    if first > end:
        return 0
    return 1 + int((end - first) // (interval_s * 1000))


def expected_funding_bps(info: FundingInfo | None, now_ms: int, horizon_s: float, *, short: bool) -> float:
    """Funding a position expects to receive (+) or pay (-) until now + horizon, in bps."""
    if info is None:
        return 0.0
    n = settlements_within(info.next_apply_ms, info.interval_s, now_ms, horizon_s)
    sign = 1.0 if short else -1.0
    return sign * info.rate * 1e4 * n
