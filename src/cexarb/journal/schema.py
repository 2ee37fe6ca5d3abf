"""The journal's tables, their versioned migrations, and events <-> rows.

One DDL text serves SQLite and PostgreSQL (TEXT, BIGINT, DOUBLE PRECISION and
BOOLEAN mean the same to both); only the placeholders differ, and each backend
writes its own. A migration is applied once, in order, recorded in
`schema_version`; a new column or table is a new migration, never an edit of one
that shipped. Maps and lists are stored as JSON text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from cexarb.journal.events import (
    DecisionMade,
    Event,
    Fill,
    FundingBooked,
    LegDone,
    OrderUpdate,
    RiskEvent,
    RunEnded,
    RunStarted,
    Snapshot,
    TransferBooked,
)
from cexarb.model import Execution, FundingPayment, Order, OrderStatus, OrderType, Side, Symbol, TimeInForce

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.decode

SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version BIGINT PRIMARY KEY,
    applied_at DOUBLE PRECISION NOT NULL
)"""

# (version, statements). Append only.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            """CREATE TABLE runs (
                run_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL,
                version TEXT NOT NULL, mode TEXT NOT NULL, trade BOOLEAN NOT NULL,
                venues TEXT NOT NULL, symbols TEXT NOT NULL, futures_venues TEXT NOT NULL,
                initial TEXT NOT NULL, config_digest TEXT NOT NULL, log_file TEXT NOT NULL)""",
            """CREATE TABLE run_ends (
                run_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL,
                elapsed_s DOUBLE PRECISION NOT NULL, summary TEXT NOT NULL)""",
            """CREATE TABLE orders (
                run_id TEXT NOT NULL, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL,
                venue TEXT NOT NULL, symbol TEXT NOT NULL, order_id TEXT NOT NULL,
                client_order_id TEXT NOT NULL, side TEXT NOT NULL, order_type TEXT NOT NULL,
                time_in_force TEXT NOT NULL, price DOUBLE PRECISION NOT NULL,
                quantity DOUBLE PRECISION NOT NULL, status TEXT NOT NULL,
                filled_quantity DOUBLE PRECISION NOT NULL, average_price DOUBLE PRECISION NOT NULL,
                fee DOUBLE PRECISION NOT NULL, fee_asset TEXT NOT NULL, reduce_only BOOLEAN NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (run_id, seq))""",
            """CREATE TABLE fills (
                run_id TEXT NOT NULL, venue TEXT NOT NULL, trade_id TEXT NOT NULL,
                seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL, symbol TEXT NOT NULL,
                order_id TEXT NOT NULL, client_order_id TEXT NOT NULL, side TEXT NOT NULL,
                price DOUBLE PRECISION NOT NULL, quantity DOUBLE PRECISION NOT NULL,
                fee DOUBLE PRECISION NOT NULL, fee_asset TEXT NOT NULL, is_maker BOOLEAN NOT NULL,
                exchange_ts BIGINT NOT NULL,
                PRIMARY KEY (run_id, venue, trade_id))""",
            """CREATE TABLE decisions (
                run_id TEXT NOT NULL, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL,
                symbol TEXT NOT NULL, kind TEXT NOT NULL, pair TEXT NOT NULL, action TEXT NOT NULL,
                reason TEXT NOT NULL, edge_bps DOUBLE PRECISION NOT NULL,
                quantity DOUBLE PRECISION NOT NULL, expected_pnl DOUBLE PRECISION NOT NULL,
                outcome TEXT NOT NULL, buy_venue TEXT NOT NULL, buy_seen DOUBLE PRECISION NOT NULL,
                sell_venue TEXT NOT NULL, sell_seen DOUBLE PRECISION NOT NULL, trade_no BIGINT NOT NULL,
                PRIMARY KEY (run_id, seq))""",
            """CREATE TABLE legs (
                run_id TEXT NOT NULL, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL,
                trade_no BIGINT NOT NULL, symbol TEXT NOT NULL, role TEXT NOT NULL, venue TEXT NOT NULL,
                side TEXT NOT NULL, limit_price DOUBLE PRECISION NOT NULL,
                seen_price DOUBLE PRECISION NOT NULL, quantity DOUBLE PRECISION NOT NULL,
                filled DOUBLE PRECISION NOT NULL, average_price DOUBLE PRECISION NOT NULL,
                order_id TEXT NOT NULL, rtt_ms DOUBLE PRECISION NOT NULL, error TEXT NOT NULL,
                PRIMARY KEY (run_id, seq))""",
            """CREATE TABLE snapshots (
                run_id TEXT NOT NULL, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL,
                venue TEXT NOT NULL, realized DOUBLE PRECISION NOT NULL,
                unrealized DOUBLE PRECISION NOT NULL, fees DOUBLE PRECISION NOT NULL,
                fills BIGINT NOT NULL, inventory TEXT NOT NULL, positions TEXT NOT NULL,
                marks TEXT NOT NULL, final BOOLEAN NOT NULL,
                PRIMARY KEY (run_id, seq))""",
            """CREATE TABLE risk_events (
                run_id TEXT NOT NULL, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL,
                kind TEXT NOT NULL, venue TEXT NOT NULL, detail TEXT NOT NULL,
                value DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (run_id, seq))""",
            "CREATE INDEX fills_by_time ON fills (run_id, ts)",
            "CREATE INDEX decisions_by_action ON decisions (run_id, action)",
            "CREATE INDEX runs_by_time ON runs (ts)",
        ],
    ),
    (
        2,
        [
            # Perp funding entered PnL (the engine books payments; a snapshot's total includes them).
            """CREATE TABLE funding (
                run_id TEXT NOT NULL, venue TEXT NOT NULL, payment_id TEXT NOT NULL,
                seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL, symbol TEXT NOT NULL,
                amount DOUBLE PRECISION NOT NULL, exchange_ts BIGINT NOT NULL,
                balance DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (run_id, venue, payment_id))""",
            "ALTER TABLE snapshots ADD COLUMN funding DOUBLE PRECISION NOT NULL DEFAULT 0",
        ],
    ),
    (
        3,
        [
            # Rebalancing transfers entered PnL (inventory moved; their fees are a cost).
            """CREATE TABLE transfers (
                run_id TEXT NOT NULL, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL,
                venue TEXT NOT NULL, asset TEXT NOT NULL, amount DOUBLE PRECISION NOT NULL,
                fee DOUBLE PRECISION NOT NULL, transfer_id TEXT NOT NULL,
                PRIMARY KEY (run_id, seq))""",
            "ALTER TABLE snapshots ADD COLUMN transfer_fees DOUBLE PRECISION NOT NULL DEFAULT 0",
        ],
    ),
    (
        4,
        ["ALTER TABLE run_ends ADD COLUMN latency TEXT NOT NULL DEFAULT '{}'"],
    ),
    (
        5,
        # A fee paid in a discount token (MX, GT) is worth what the venue charged; the fill
        # alone says only how many tokens. NULL: not known (rows written before this column).
        ["ALTER TABLE fills ADD COLUMN fee_value DOUBLE PRECISION"],
    ),
    (
        6,
        [
            # PnL per strategy: a fill belongs to the strategy (and trade) of the leg row that
            # placed its order (venue, order_id), residual retries included; funding to the
            # strategy holding the perp. '': written before this column (no strategy known).
            "ALTER TABLE runs ADD COLUMN strategies TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE run_ends ADD COLUMN by_strategy TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE decisions ADD COLUMN strategy TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE legs ADD COLUMN strategy TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE funding ADD COLUMN strategy TEXT NOT NULL DEFAULT ''",
            "CREATE INDEX legs_by_order ON legs (run_id, venue, order_id)",
        ],
    ),
]
LATEST_VERSION = MIGRATIONS[-1][0]


@dataclass(frozen=True, slots=True, eq=False)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    to_row: Callable[[Any], tuple]
    from_row: Callable[[Mapping[str, Any]], Event]


def _flat(
    cls: type[Event], columns: tuple[str, ...], json_columns: frozenset[str]
) -> tuple[Callable, Callable]:
    """Row converters for an event whose fields are its columns (maps/lists as JSON)."""

    def to_row(ev: Event) -> tuple:
        return tuple(
            _json_encode(v).decode() if c in json_columns else v
            for c, v in ((c, getattr(ev, c)) for c in columns)
        )

    def from_row(row: Mapping[str, Any]) -> Event:
        data = {c: (_json_decode(row[c]) if c in json_columns else row[c]) for c in columns}
        return msgspec.convert(data, cls, strict=False)

    return to_row, from_row


def _order_row(ev: OrderUpdate) -> tuple:
    o = ev.order
    return (
        ev.run_id, ev.seq, ev.ts, ev.venue, str(o.symbol), o.order_id, o.client_order_id, o.side.value,
        o.order_type.value, o.time_in_force.value, o.price, o.quantity, o.status.value, o.filled_quantity,
        o.average_price, o.fee, o.fee_asset, o.reduce_only, o.updated_at,
    )  # fmt: skip


def _order_event(row: Mapping[str, Any]) -> OrderUpdate:
    order = Order(
        Symbol.parse(row["symbol"]), row["order_id"], row["client_order_id"], Side(row["side"]),
        OrderType(row["order_type"]), row["price"], row["quantity"], OrderStatus(row["status"]),
        time_in_force=TimeInForce(row["time_in_force"]), filled_quantity=row["filled_quantity"],
        average_price=row["average_price"], fee=row["fee"], fee_asset=row["fee_asset"],
        reduce_only=bool(row["reduce_only"]), updated_at=row["updated_at"],
    )  # fmt: skip
    return OrderUpdate(run_id=row["run_id"], seq=row["seq"], ts=row["ts"], venue=row["venue"], order=order)


def _fill_row(ev: Fill) -> tuple:
    f = ev.fill
    return (
        ev.run_id, ev.venue, f.trade_id, ev.seq, ev.ts, str(f.symbol), f.order_id, f.client_order_id,
        f.side.value, f.price, f.quantity, f.fee, f.fee_asset, f.is_maker, f.timestamp, ev.fee_value,
    )  # fmt: skip


def _fill_event(row: Mapping[str, Any]) -> Fill:
    fill = Execution(
        Symbol.parse(row["symbol"]), row["trade_id"], row["order_id"], row["client_order_id"],
        Side(row["side"]), row["price"], row["quantity"], row["fee"], row["fee_asset"],
        bool(row["is_maker"]), row["exchange_ts"],
    )  # fmt: skip
    return Fill(
        run_id=row["run_id"], seq=row["seq"], ts=row["ts"], venue=row["venue"], fill=fill,
        fee_value=row["fee_value"],
    )  # fmt: skip


def _funding_row(ev: FundingBooked) -> tuple:
    p = ev.payment
    return (
        ev.run_id, ev.venue, p.payment_id, ev.seq, ev.ts, str(p.symbol), p.amount, p.timestamp, p.balance,
        ev.strategy,
    )  # fmt: skip


def _funding_event(row: Mapping[str, Any]) -> FundingBooked:
    payment = FundingPayment(
        row["payment_id"], Symbol.parse(row["symbol"]), row["amount"], row["exchange_ts"], row["balance"]
    )
    return FundingBooked(
        run_id=row["run_id"], seq=row["seq"], ts=row["ts"], venue=row["venue"], payment=payment,
        strategy=row["strategy"],
    )  # fmt: skip


_BASE = ("run_id", "seq", "ts")


def _table(name: str, cls: type[Event], columns: tuple[str, ...], key=("run_id", "seq"), json=()) -> Table:
    cols = _BASE + columns
    to_row, from_row = _flat(cls, cols, frozenset(json))
    return Table(name, cols, key, to_row, from_row)


TABLES: dict[type[Event], Table] = {
    RunStarted: _table(
        "runs",
        RunStarted,
        (
            "version",
            "mode",
            "trade",
            "venues",
            "symbols",
            "futures_venues",
            "initial",
            "config_digest",
            "log_file",
            "strategies",
        ),
        key=("run_id",),
        json=("venues", "symbols", "futures_venues", "initial", "strategies"),
    ),
    RunEnded: _table(
        "run_ends",
        RunEnded,
        ("elapsed_s", "summary", "latency", "by_strategy"),
        key=("run_id",),
        json=("summary", "latency", "by_strategy"),
    ),
    OrderUpdate: Table(
        "orders",
        _BASE[:3]
        + (
            "venue",
            "symbol",
            "order_id",
            "client_order_id",
            "side",
            "order_type",
            "time_in_force",
            "price",
            "quantity",
            "status",
            "filled_quantity",
            "average_price",
            "fee",
            "fee_asset",
            "reduce_only",
            "updated_at",
        ),
        ("run_id", "seq"),
        _order_row,
        _order_event,
    ),  # fmt: skip
    Fill: Table(
        "fills",
        (
            "run_id",
            "venue",
            "trade_id",
            "seq",
            "ts",
            "symbol",
            "order_id",
            "client_order_id",
            "side",
            "price",
            "quantity",
            "fee",
            "fee_asset",
            "is_maker",
            "exchange_ts",
            "fee_value",
        ),
        ("run_id", "venue", "trade_id"),
        _fill_row,
        _fill_event,
    ),  # fmt: skip
    FundingBooked: Table(
        "funding",
        (
            "run_id",
            "venue",
            "payment_id",
            "seq",
            "ts",
            "symbol",
            "amount",
            "exchange_ts",
            "balance",
            "strategy",
        ),  # fmt: skip
        ("run_id", "venue", "payment_id"),
        _funding_row,
        _funding_event,
    ),
    DecisionMade: _table(
        "decisions",
        DecisionMade,
        (
            "symbol",
            "kind",
            "pair",
            "action",
            "reason",
            "edge_bps",
            "quantity",
            "expected_pnl",
            "outcome",
            "buy_venue",
            "buy_seen",
            "sell_venue",
            "sell_seen",
            "trade_no",
            "strategy",
        ),
    ),  # fmt: skip
    LegDone: _table(
        "legs",
        LegDone,
        (
            "trade_no",
            "symbol",
            "role",
            "venue",
            "side",
            "limit_price",
            "seen_price",
            "quantity",
            "filled",
            "average_price",
            "order_id",
            "rtt_ms",
            "error",
            "strategy",
        ),
    ),  # fmt: skip
    Snapshot: _table(
        "snapshots",
        Snapshot,
        (
            "venue",
            "realized",
            "unrealized",
            "fees",
            "fills",
            "inventory",
            "positions",
            "marks",
            "final",
            "funding",
            "transfer_fees",
        ),
        json=("inventory", "positions", "marks"),
    ),
    RiskEvent: _table("risk_events", RiskEvent, ("kind", "venue", "detail", "value")),
    TransferBooked: _table("transfers", TransferBooked, ("venue", "asset", "amount", "fee", "transfer_id")),
}
TABLE_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES.values()}


def rows_by_table(batch: list[Event]) -> dict[Table, list[tuple]]:
    """Group a batch into insertable rows per table, keeping the batch's order within each."""
    out: dict[Table, list[tuple]] = {}
    for ev in batch:
        table = TABLES[type(ev)]
        rows = out.get(table)
        if rows is None:
            rows = out[table] = []
        rows.append(table.to_row(ev))
    return out
