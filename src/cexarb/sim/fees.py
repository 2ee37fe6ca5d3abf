"""What an account pays in fees on one venue: its tier's rates and the discount-token mode.

Real accounts do not pay the public default: VIP tiers lower the rates, market makers get
a rebate (a negative maker fee, paid on each fill), and both venues take fees in their own
token at a discount when the account enables it and holds enough:

- MEXC "MX deduction": 20% off, the fee taken in MX at the MX price; with too little MX the
  default rate applies in the usual asset (mexc.com/learn, "spot trading fee discount";
  blog.mexc.com "calculation of spot trading fees": fee = rate x amount x 80% / MX price).
- Gate "GT deduction": the fee taken in GT at the account's `gt_maker_fee`/`gt_taker_fee`
  (gateapi-python docs/SpotFee.md, TradeFee.md).
"""

from __future__ import annotations

from dataclasses import dataclass

# Public default (maker, taker) rates of the simulated markets.
SPOT_FEES = (0.001, 0.002)
FUTURES_FEES = (0.0002, 0.0005)
# Token amounts are charged to this many decimals (MX and GT both trade to 8 or fewer).
TOKEN_DECIMALS = 8


@dataclass(frozen=True, slots=True)
class FeeTier:
    """One account's fee terms on one venue. None rates: the market's public default."""

    maker: float | None = None  # negative: a maker rebate
    taker: float | None = None
    # Discount-token mode: "" off, else the token ("MX", "GT") fees are paid in while the
    # account holds enough of it, at `token_discount` off the rate, converted at `token_price`
    # (quote per token; the simulator has no token market, so the price is fixed here).
    token: str = ""
    token_discount: float = 0.0
    token_price: float = 0.0

    def __post_init__(self) -> None:
        if self.token and self.token_price <= 0:
            raise ValueError(f"fee token {self.token}: token_price must be > 0")
        if not 0.0 <= self.token_discount < 1.0:
            raise ValueError(f"token_discount must be in [0, 1), got {self.token_discount}")

    def token_rate(self, rate: float) -> float:
        """The rate charged when the fee is paid in the token (its quote value)."""
        return rate * (1.0 - self.token_discount)

    def token_amount(self, quote_value: float) -> float:
        """Tokens charged for a fee worth `quote_value` at the full rate."""
        return round(self.token_rate(quote_value) / self.token_price, TOKEN_DECIMALS)
