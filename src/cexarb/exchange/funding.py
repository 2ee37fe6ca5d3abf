"""Perpetual funding on a futures composite: the current rates and the account's payments.

Rates and next settlement times come from the venue's contracts; payments from its account
book (Gate: /futures/usdt/account_book, type fund). Both are read at initialize and then
polled (`CompositeSettings.funding_poll_s`): a settlement happens a few times a day, and the
account book keeps it, so polling cannot miss one the way a dropped push could. Payments are
deduplicated by the venue's record id; only those at or after tracking started count.
"""

from __future__ import annotations

import logging

from cexarb.model import FundingInfo, FundingPayment, Symbol

log = logging.getLogger("cexarb.exchange")


class FundingBook:
    """Funding rates by symbol and the payments seen since `since_ms`."""

    __slots__ = ("rates", "payments", "since_ms")

    def __init__(self) -> None:
        self.rates: dict[Symbol, FundingInfo] = {}
        self.payments: dict[str, FundingPayment] = {}
        self.since_ms = 0

    def clear(self) -> None:
        self.rates.clear()
        self.payments.clear()
        self.since_ms = 0

    def add(self, payments: list[FundingPayment]) -> list[FundingPayment]:
        """Record payments; returns those not seen before (at or after `since_ms`)."""
        new = []
        for payment in payments:
            if payment.timestamp < self.since_ms or payment.payment_id in self.payments:
                continue
            self.payments[payment.payment_id] = payment
            new.append(payment)
        return new

    @property
    def received(self) -> float:
        """Funding received (sum of positive payments)."""
        return sum(p.amount for p in self.payments.values() if p.amount > 0)

    @property
    def paid(self) -> float:
        """Funding paid (as a positive number)."""
        return -sum(p.amount for p in self.payments.values() if p.amount < 0)

    @property
    def net(self) -> float:
        return sum(p.amount for p in self.payments.values())

    def by_symbol(self) -> dict[Symbol, float]:
        out: dict[Symbol, float] = {}
        for p in self.payments.values():
            out[p.symbol] = out.get(p.symbol, 0.0) + p.amount
        return out
