"""Named strategies: which kinds of trade between which venues a configuration runs.

A strategy is a filter over the engine's candidates (kind, buy venue, sell venue) and the
name its trades, fills and PnL are booked under. `ArbConfig.strategies` lists the names in
priority order; a candidate goes to the first that accepts it, and one no configured
strategy accepts is not traded.
"""

from __future__ import annotations

from dataclasses import dataclass

from cexarb.arb.opportunity import Kind

_BASIS = frozenset((Kind.BASIS_OPEN, Kind.BASIS_CLOSE))


@dataclass(frozen=True, slots=True)
class StrategySpec:
    name: str
    kinds: frozenset[Kind]
    description: str
    # Basis strategies: the spot and perpetual venues they use (empty: any).
    spot_venues: frozenset[str] = frozenset()
    perp_venues: frozenset[str] = frozenset()

    def accepts(self, kind: Kind, buy_venue: str, sell_venue: str) -> bool:
        if kind not in self.kinds:
            return False
        if kind is Kind.SPOT_SPOT:
            return True
        # Opening buys spot and sells the perp; closing buys the perp back and sells the spot.
        spot, perp = (buy_venue, sell_venue) if kind is Kind.BASIS_OPEN else (sell_venue, buy_venue)
        return (not self.spot_venues or spot in self.spot_venues) and (
            not self.perp_venues or perp in self.perp_venues
        )


STRATEGIES: dict[str, StrategySpec] = {
    s.name: s
    for s in (
        StrategySpec(
            "spot_spot",
            frozenset((Kind.SPOT_SPOT,)),
            "buy spot where it is cheap, sell it where it is rich (inventory on both venues)",
        ),
        StrategySpec("basis", _BASIS, "long spot on any venue, short the perpetual on another"),
        StrategySpec(
            "mexc_gate_basis",
            _BASIS,
            "the original project's strategy: long MEXC spot, short the Gate.io USDT perpetual, "
            "both legs hedged; closed when the basis reverts",
            spot_venues=frozenset(("mexc_spot",)),
            perp_venues=frozenset(("gateio_futures",)),
        ),
    )
}
# What `make run` shows: spot-spot beside the original MEXC-spot / Gate-perp basis strategy.
DEMO_STRATEGIES = ("spot_spot", "mexc_gate_basis")


def strategy_for(names: tuple[str, ...], kind: Kind, buy_venue: str, sell_venue: str) -> str | None:
    """The first of `names` whose strategy accepts this trade, or None."""
    for name in names:
        if STRATEGIES[name].accepts(kind, buy_venue, sell_venue):
            return name
    return None
