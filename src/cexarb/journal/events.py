"""What the journal keeps: one msgspec struct per kind of event, each the row of one table.

Events are tagged (`type` = class name) so a batch of mixed kinds round-trips through
the spool file or a Redis Stream as one msgpack list. A producer fills `ts` (wall clock,
seconds); the journal stamps `run_id` and `seq` when it drains the event, off the hot
path. Orders and fills carry the model objects as they are (immutable by convention):
flattening them into columns happens in the drainer, not in the stream handler.

Every table's primary key makes a write idempotent: (run_id, seq) for everything the
journal numbers, (run_id, venue, trade_id) for fills, so a fill the venue sends twice,
or a batch written again from the spool, is one row.
"""

from __future__ import annotations

import msgspec

from cexarb.model import Execution, FundingPayment, Order


class Event(msgspec.Struct, tag=True, kw_only=True, gc=False):
    run_id: str = ""
    seq: int = 0
    ts: float = 0.0


class RunStarted(Event):
    """A run began: what it trades, from which balances (the report replays fills from them)."""

    version: str
    mode: str  # "simulator" or "venues"
    trade: bool
    venues: list[str]
    symbols: list[str]
    futures_venues: list[str]
    # venue -> asset -> total balance at the start
    initial: dict[str, dict[str, float]]
    config_digest: str = ""
    log_file: str = ""
    # The strategies the run traded (its summary prints a PnL line for each, then "other").
    strategies: list[str] = []


class RunEnded(Event):
    """A run ended; `summary` is what the run printed per venue (realized, unrealized, fees,
    total, fills), so a report can show both its own figures and the run's."""

    elapsed_s: float
    summary: dict[str, dict[str, float]]
    # The run's latency percentiles, e.g. {"frame_to_decision_us": {"p50": .., "p99": .., "max": ..}}
    latency: dict[str, dict[str, float]] = {}
    # What the run printed per strategy ("other" included): realized, unrealized, fees, ...
    by_strategy: dict[str, dict[str, float]] = {}


class OrderUpdate(Event):
    """An order state change as the composite applied it."""

    venue: str
    order: Order


class Fill(Event):
    """One of the account's fills, once per (venue, trade_id)."""

    venue: str
    fill: Execution
    # The fee's quote value as the venue charged it (a discount token's worth at the fill);
    # None: not known (no venue to ask, or a journal older than the column).
    fee_value: float | None = None


class FundingBooked(Event):
    """A perp funding payment booked into PnL (received +, paid -), once per (venue, payment_id)."""

    venue: str
    payment: FundingPayment
    # The strategy holding the perp position it was paid on ("": none).
    strategy: str = ""


class TransferBooked(Event):
    """Inventory a rebalancing transfer moved: out of `venue` (-, fee included) or in (+).
    `fee` (in `asset`) is a cost the PnL carries."""

    venue: str
    asset: str
    amount: float
    fee: float = 0.0
    transfer_id: str = ""


class DecisionMade(Event):
    """An opportunity taken, skipped (with the reason) or only signalled, with the top-of-book
    prices the decision saw. `trade_no` links a taken one to its legs; `strategy` is the
    configured strategy that trades the pair ("other": none)."""

    symbol: str
    kind: str
    pair: str
    action: str  # "taken", "skipped" or "signal"
    reason: str = ""
    edge_bps: float = 0.0
    quantity: float = 0.0
    expected_pnl: float = 0.0
    outcome: str = ""
    buy_venue: str = ""
    buy_seen: float = 0.0
    sell_venue: str = ""
    sell_seen: float = 0.0
    trade_no: int = 0
    strategy: str = ""


class LegDone(Event):
    """One order of a trade ended: a planned leg ("buy"/"sell"), a hedge/unwind ("hedge") or a
    later retry of the residual the trade left ("retry"). The fills of `order_id` on `venue`
    belong to `trade_no` and its `strategy`."""

    trade_no: int
    symbol: str
    role: str
    venue: str
    side: str
    limit_price: float
    seen_price: float
    quantity: float
    filled: float
    average_price: float
    order_id: str = ""
    rtt_ms: float = 0.0
    error: str = ""
    strategy: str = ""


class Snapshot(Event):
    """Balance, position and PnL of one venue at a moment; `final` marks the run's summary."""

    venue: str
    realized: float
    unrealized: float
    fees: float
    fills: int
    inventory: dict[str, float]
    positions: dict[str, float]
    # symbol -> the mark (mid) the unrealized PnL used
    marks: dict[str, float]
    final: bool = False
    funding: float = 0.0
    transfer_fees: float = 0.0


class RiskEvent(Event):
    """Something an operator must know about: a kill switch, an unhedged residual, a connection."""

    kind: str
    venue: str = ""
    detail: str = ""
    value: float = 0.0


AnyEvent = (
    RunStarted
    | RunEnded
    | OrderUpdate
    | Fill
    | FundingBooked
    | TransferBooked
    | DecisionMade
    | LegDone
    | Snapshot
    | RiskEvent
)
EVENT_TYPES: tuple[type[Event], ...] = (
    RunStarted,
    RunEnded,
    OrderUpdate,
    Fill,
    FundingBooked,
    TransferBooked,
    DecisionMade,
    LegDone,
    Snapshot,
    RiskEvent,
)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[AnyEvent])


def encode_batch(events: list[Event]) -> bytes:
    """A batch as msgpack (spool file records, Redis Stream entries)."""
    return _encoder.encode(events)


def decode_batch(data: bytes) -> list[Event]:
    return _decoder.decode(data)
