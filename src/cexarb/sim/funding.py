"""Perpetual funding as Gate USDT futures settle it: a rate that follows the premium of the
perpetual over the index, clamped, paid between positions every funding interval.

Gate (help centre "Funding rate", API v4 Contract docs):
  premium  = (perp price - index) / index, averaged over the interval
  rate     = clamp(premium + clamp(interest - premium, -0.05%, +0.05%), -cap, +cap)
  cap      = (1 / leverage_max - maintenance_rate) * funding_cap_ratio
  payment  = position value at the mark price * rate; longs pay shorts when the rate is positive
Settlements fall on multiples of the interval (epoch seconds), which is 8 h on the real venue;
the simulator can compress it (e.g. 60 s) so a demo sees several settlements.
"""

from __future__ import annotations

from dataclasses import dataclass

from cexarb.model.market import Symbol

DEFAULT_INTERVAL_S = 28_800
INTEREST_RATE = 0.0001  # per interval (0.01%)
PREMIUM_CLAMP = 0.0005  # the +-0.05% band of interest - premium
FUNDING_CAP_RATIO = 0.75


def funding_cap(leverage_max: float, maintenance_rate: float, cap_ratio: float = FUNDING_CAP_RATIO) -> float:
    """Largest |rate| Gate allows for a contract (Contract.funding_cap_ratio docs)."""
    return (1.0 / leverage_max - maintenance_rate) * cap_ratio


def funding_rate(premium: float, cap: float) -> float:
    """The rate of an interval whose average premium is `premium`."""
    band = min(max(INTEREST_RATE - premium, -PREMIUM_CLAMP), PREMIUM_CLAMP)
    return min(max(premium + band, -cap), cap)


def next_apply(now_s: float, interval_s: int) -> int:
    """The first settlement strictly after `now_s` (settlements sit on multiples of the interval)."""
    return (int(now_s) // interval_s + 1) * interval_s


@dataclass(slots=True)
class _Premium:
    total: float = 0.0
    samples: int = 0
    last: float = 0.0


class FundingSchedule:
    """The funding state of one futures venue: interval, next settlement, premium per contract."""

    def __init__(self, interval_s: int, cap: float, now_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"funding interval must be positive, got {interval_s}")
        self.interval_s = int(interval_s)
        self.cap = cap
        self.next_apply = next_apply(now_s, self.interval_s)
        self._premium: dict[Symbol, _Premium] = {}

    def sample(self, symbol: Symbol, perp_price: float, index_price: float) -> None:
        """Record the premium now (the rate of the interval uses the average of its samples)."""
        if perp_price <= 0 or index_price <= 0:
            return
        p = self._premium.setdefault(symbol, _Premium())
        p.last = (perp_price - index_price) / index_price
        p.total += p.last
        p.samples += 1

    def rate(self, symbol: Symbol) -> float:
        """The rate the next settlement will apply, from this interval's premium so far."""
        p = self._premium.get(symbol)
        premium = p.total / p.samples if p and p.samples else 0.0
        return funding_rate(premium, self.cap)

    def due(self, now_s: float) -> bool:
        return now_s >= self.next_apply

    def settled(self, now_s: float) -> None:
        """A settlement happened: the next interval starts with no premium samples."""
        self.next_apply = next_apply(max(now_s, self.next_apply), self.interval_s)
        for p in self._premium.values():
            p.total, p.samples = p.last, 1 if p.samples else 0
