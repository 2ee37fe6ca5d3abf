"""Arbitrage engine settings: thresholds, risk limits, execution caps.

One frozen dataclass, loaded from the `[arb]` table of the same TOML file that
configures the venues (unknown keys are an error, naming the key).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cexarb.arb.strategies import STRATEGIES
from cexarb.config import read_toml
from cexarb.model import Symbol
from cexarb.model.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ArbConfig:
    symbols: tuple[Symbol, ...] = (Symbol("BTC", "USDT"), Symbol("ETH", "USDT"), Symbol("SOL", "USDT"))
    # Cross-venue spot-spot: take it when the edge net of both taker fees is at least this.
    min_edge_bps: float = 1.0
    # Spot-futures basis: open (long spot, short perp) when the net basis is at least this;
    # close (sell spot, buy perp back) when open + close together earn at least basis_close_bps
    # net of all four fees (negative accepts a small loss to get flat sooner).
    basis_open_bps: float = 1.0
    basis_close_bps: float = 0.0
    enable_spot_spot: bool = True
    enable_basis: bool = True
    # Named strategies (arb/strategies.py) in priority order; each trade and its PnL is booked
    # under the first that accepts it. "mexc_gate_basis" is the original MEXC-spot/Gate-perp one.
    strategies: tuple[str, ...] = ("spot_spot", "basis")
    # How long a basis position is expected to stay open: the perp funding it should receive
    # (or pay) at the settlements until then, at today's rate, counts in its opening edge.
    basis_hold_s: float = 3600.0
    # How many book levels sizing may walk on each side.
    depth_levels: int = 5

    # Risk limits (quote = USDT).
    max_order_notional: float = 2_000.0
    # Per symbol and venue: how far inventory / position may move from where it started.
    max_position_notional: float = 10_000.0
    # Optional per-symbol cap in base units ("BTC/USDT" -> 0.2); the tighter of the two applies.
    max_position: dict[str, float] = field(default_factory=dict)
    max_open_orders: int = 4
    # Kill switch: total PnL (realized + unrealized, fees included) at or below -loss_limit halts trading.
    loss_limit: float = 200.0
    # Stale-data guard: a book older than this (since its last applied update) is not traded on.
    stale_ms: float = 2_000.0
    # Worst case of one arbitrage (one leg filled, the other not) and the cap on residual exposure.
    max_unhedged_notional: float = 2_500.0
    # A hedge or unwind may cross the planned leg price by at most this.
    hedge_slippage_bps: float = 30.0
    hedge_attempts: int = 3
    # Futures: leverage assumed when sizing a short against the margin balance.
    futures_leverage: float = 3.0
    # Inventory rebalancing between spot venues (arb/rebalance.py): per asset, the holding each
    # venue should have; one that falls below target * rebalance_low_fraction is topped up
    # from a venue above target by withdrawal to its deposit address. Empty: off.
    rebalance_targets: dict[str, float] = field(default_factory=dict)
    rebalance_low_fraction: float = 0.8
    rebalance_interval_s: float = 2.0
    # A transfer not credited at its destination after this long is reported.
    rebalance_timeout_s: float = 600.0
    # Wait after a trade on a symbol before the next one (lets balances and books settle).
    cooldown_s: float = 0.5
    # IOC orders end at once; this bounds how long we wait to learn how one ended.
    order_resolve_timeout_s: float = 3.0
    # While trading, rehearse the reflex every keep_warm_s seconds (0: never; below 0.001:
    # continuously, a whole core while trading): decide on each symbol as if its books crossed,
    # ask the fleet dry, build and sign the orders chosen, without sending them, so that code
    # and its data are in the CPU's caches when a real crossing comes. A crossing after a quiet
    # spell otherwise finds them cold (several times slower). Costs CPU: docs/performance.md
    # has the figures.
    keep_warm_s: float = 0.0

    def max_position_for(self, symbol: Symbol, price: float) -> float:
        """The per-venue position cap in base units: the tighter of notional and explicit limits."""
        cap = self.max_position_notional / price if price > 0 else 0.0
        explicit = self.max_position.get(str(symbol))
        return cap if explicit is None else min(cap, explicit)


_POSITIVE = {
    "max_order_notional",
    "max_position_notional",
    "loss_limit",
    "stale_ms",
    "max_unhedged_notional",
    "futures_leverage",
    "order_resolve_timeout_s",
    "rebalance_interval_s",
    "rebalance_timeout_s",
}
_NON_NEGATIVE = {"hedge_slippage_bps", "cooldown_s", "basis_hold_s", "keep_warm_s"}
_INTS = {"depth_levels", "max_open_orders", "hedge_attempts"}


def arb_config_from_mapping(data: dict[str, Any]) -> ArbConfig:
    """Build from a TOML-like table; every value is checked and errors name the key."""
    known = {f.name for f in fields(ArbConfig)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        name = f"arb.{key}"
        if key not in known:
            raise ConfigError(f"unknown key {name}; valid keys: {', '.join(sorted(known))}")
        if key == "symbols":
            if not isinstance(value, list) or not value:
                raise ConfigError(f'{name} must be a non-empty list like ["BTC/USDT"]')
            try:
                changes[key] = tuple(Symbol.parse(str(s)) for s in value)
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc}") from None
        elif key == "max_position":
            if not isinstance(value, dict) or not all(
                isinstance(v, int | float) and v > 0 for v in value.values()
            ):
                raise ConfigError(f"{name} must map symbols to positive base quantities")
            changes[key] = {str(Symbol.parse(k)): float(v) for k, v in value.items()}
        elif key == "strategies":
            if not isinstance(value, list) or not value or not all(v in STRATEGIES for v in value):
                raise ConfigError(f"{name} must be a non-empty list of: {', '.join(STRATEGIES)}")
            changes[key] = tuple(value)
        elif key == "rebalance_targets":
            if not isinstance(value, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in value.values()
            ):
                raise ConfigError(f"{name} must map assets to positive amounts, e.g. {{BTC = 2.0}}")
            changes[key] = {str(k).upper(): float(v) for k, v in value.items()}
        elif key == "rebalance_low_fraction":
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 1:
                raise ConfigError(f"{name} must be within (0, 1], got {value!r}")
            changes[key] = float(value)
        elif key.startswith("enable_"):
            if not isinstance(value, bool):
                raise ConfigError(f"{name} must be true or false")
            changes[key] = value
        elif key in _INTS:
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
            changes[key] = value
        else:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ConfigError(f"{name} must be a number, got {value!r}")
            if key in _POSITIVE and value <= 0:
                raise ConfigError(f"{name} must be positive, got {value!r}")
            if key in _NON_NEGATIVE and value < 0:
                raise ConfigError(f"{name} must not be negative, got {value!r}")
            changes[key] = float(value)
    return replace(ArbConfig(), **changes)


def load_arb_config(path: str | Path | None) -> ArbConfig:
    """The `[arb]` table of the config file; defaults when there is no file or no table."""
    if path is None:
        return ArbConfig()
    table = read_toml(path).get("arb", {})
    if not isinstance(table, dict):
        raise ConfigError("[arb] must be a table")
    return arb_config_from_mapping(table)
