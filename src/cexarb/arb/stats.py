"""What the engine has done, for the dashboard and the summary: decisions, fills, latencies."""

from __future__ import annotations

import statistics
from collections import Counter, deque
from dataclasses import dataclass, field

from cexarb.model import Execution, Symbol
from cexarb.transport.stats import US_BUCKETS, LatencyHistogram


@dataclass(frozen=True, slots=True)
class Decision:
    timestamp: float
    symbol: Symbol
    kind: str
    pair: str
    edge_bps: float
    quantity: float
    # "taken", "signal" (seen in signal-only mode) or "skipped".
    action: str
    reason: str = ""
    expected_pnl: float = 0.0
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class Spread:
    """Best net edge (bps, after both taker fees) for one ordered venue pair right now."""

    pair: str
    kind: str
    edge_bps: float


def percentiles(samples: deque[float] | list[float]) -> dict[str, float]:
    if not samples:
        return {}
    data = sorted(samples)
    if len(data) == 1:
        return {"p50": data[0], "p99": data[0], "max": data[0]}
    cuts = statistics.quantiles(data, n=100, method="inclusive")
    return {"p50": cuts[49], "p99": cuts[98], "max": data[-1]}


@dataclass(slots=True)
class EngineStats:
    taken: int = 0
    signals: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    # Kept apart so a burst of skips never pushes the trades out of view.
    decisions: deque[Decision] = field(default_factory=lambda: deque(maxlen=50))
    skips: deque[Decision] = field(default_factory=lambda: deque(maxlen=50))
    fills: deque[tuple[str, Execution]] = field(default_factory=lambda: deque(maxlen=50))
    best_spreads: dict[Symbol, list[Spread]] = field(default_factory=dict)
    # Tick to trade, from when the transport read the frame that made the symbol dirty: to the
    # decision on it, and to each leg's order request written to its connection.
    frame_to_decision_us: deque[float] = field(default_factory=lambda: deque(maxlen=5000))
    frame_to_order_sent_us: deque[float] = field(default_factory=lambda: deque(maxlen=5000))
    # Every sample since the start, bucketed (metrics); the deques keep only the recent ones.
    frame_to_decision_hist: LatencyHistogram = field(default_factory=lambda: LatencyHistogram(US_BUCKETS))
    frame_to_order_sent_hist: LatencyHistogram = field(default_factory=lambda: LatencyHistogram(US_BUCKETS))
    evaluations: int = 0

    def record(self, decision: Decision) -> None:
        if decision.action == "skipped":
            self.skips.append(decision)
        else:
            self.decisions.append(decision)
        if decision.action == "taken":
            self.taken += 1
            self.outcomes[decision.outcome] += 1
        elif decision.action == "signal":
            self.signals += 1
        else:
            self.skipped[decision.reason] += 1
