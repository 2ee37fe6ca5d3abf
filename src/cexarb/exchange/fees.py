"""The fee rates this account really pays, per symbol, and the quote value of a fill's fee.

SymbolInfo keeps the venue's public default; accounts pay their own tier (VIP levels, maker
rebates) and, with a discount token enabled (MEXC MX, Gate GT), a lower rate taken in that
token. The rates are loaded at initialize and refreshed every `fee_refresh_s`: a tier moves
with the account's volume, and deduction can be switched on or off on the venue's site.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from cexarb.exchange.stats import FeeCounters
from cexarb.logs import log_kv
from cexarb.model import AccountFees, AssetBalance, Execution, Symbol, SymbolInfo
from cexarb.model.errors import ExchangeError

log = logging.getLogger("cexarb.exchange.fees")


class AccountFeeRates:
    """The account's own rates per symbol (`rates`), the effective maker/taker rate of a
    symbol, and the quote value of a fill's fee. Reads the composite's `symbols_info` (the
    public default) and `balances` (whether the discount token is held); loads through the
    REST client it is handed."""

    def __init__(
        self, venue: str, symbols_info: Mapping[Symbol, SymbolInfo], balances: Mapping[str, AssetBalance]
    ) -> None:
        self._venue = venue
        self._symbols_info = symbols_info
        self._balances = balances
        # The account's own rates per symbol; a symbol missing here pays the public default.
        self.rates: dict[Symbol, AccountFees] = {}
        self.loads = 0
        self.load_errors = 0

    def maker_fee(self, symbol: Symbol) -> float:
        """The maker rate this account pays on `symbol` now (negative: a rebate)."""
        return self._rate(symbol, maker=True)

    def taker_fee(self, symbol: Symbol) -> float:
        """The taker rate this account pays on `symbol` now: its tier's, at the discount-token
        rate while deduction is on and the account holds the token, else the public default."""
        return self._rate(symbol, maker=False)

    def _rate(self, symbol: Symbol, *, maker: bool) -> float:
        fees = self.rates.get(symbol)
        if fees is None:
            info = self._symbols_info[symbol]
            return info.maker_fee if maker else info.taker_fee
        if fees.token and self._holds(fees.token):
            return fees.token_maker if maker else fees.token_taker
        return fees.maker if maker else fees.taker

    def _holds(self, asset: str) -> bool:
        balance = self._balances.get(asset)
        return balance is not None and balance.available > 0

    def fee_value(self, fill: Execution) -> float | None:
        """The fee of `fill` in quote, as the venue charged it: a fee in quote as is, in base
        at the fill price, in the account's discount token at the token rate times the
        trade's value (what the venue converted to tokens); None for any other asset."""
        symbol = fill.symbol
        asset = fill.fee_asset or symbol.quote
        if asset == symbol.quote:
            return fill.fee
        if asset == symbol.base:
            return fill.fee * fill.price
        fees = self.rates.get(symbol)
        if fees is not None and asset == fees.token:
            rate = fees.token_maker if fill.is_maker else fees.token_taker
            return fill.price * fill.quantity * rate
        return None

    async def reload(self, rest: object, symbols: list[Symbol]) -> dict[Symbol, AccountFees]:
        """Load the account's rates for `symbols` through `rest`. A venue that refuses
        (permission, outage) leaves the previous rates, or the public default, in place and
        says so in the log; the next refresh tries again."""
        load = getattr(rest, "get_account_fees", None)
        if load is None:  # a caller's own REST client without it: the public default stands
            return dict(self.rates)
        try:
            loaded = await asyncio.gather(*(load(s) for s in symbols))
        except ExchangeError as exc:
            self.load_errors += 1
            log_kv(log, logging.WARNING, "account_fees_unavailable", venue=self._venue, error=str(exc))
            return dict(self.rates)
        for fees in loaded:
            self.rates[fees.symbol] = fees
        self.loads += 1
        return dict(self.rates)

    def stats(self) -> FeeCounters:
        """Fee-load counters: loads, failed loads and how many symbols have this account's own rates."""
        return FeeCounters(
            fee_loads=self.loads, fee_load_errors=self.load_errors, symbols_with_account_fees=len(self.rates)
        )
