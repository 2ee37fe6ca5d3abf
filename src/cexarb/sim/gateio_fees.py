"""Gate's account fee replies: what this account pays, in Gate's shapes.

- GET /spot/fee?currency_pair=       -> SpotFee   (gateapi-python docs/SpotFee.md)
- GET /wallet/fee?currency_pair=     -> TradeFee  (gateapi-python docs/TradeFee.md): the spot
  fields plus futures_*/delivery_* rates
- GET /futures/usdt/fee?contract=    -> {contract: FuturesFee} (gateapi-python docs/FuturesFee.md)

Rates are decimal text; `gt_*_fee` are the rates when fees are paid in GT, "0" while GT
deduction is off (as the docs say); `debit_fee` 1 = GT deduction, 3 = VIP rates.
"""

from __future__ import annotations

from typing import Any

from cexarb.sim.fees import FUTURES_FEES, FeeTier
from cexarb.sim.gateio_spot_codec import num, pair_id

FUTURES_KEY = "gateio_futures"


def spot_fee(venue: Any, key: str, market: Any | None) -> dict[str, Any]:
    """SpotFee of the account on `market` (None: the account's general rates)."""
    account = venue.account(key)
    symbol = market.symbol if market is not None else next(iter(venue.markets))
    maker, taker = venue.fee_rates(key, symbol)
    tier: FeeTier = account.fee_tier
    gt = tier.token == "GT"
    out: dict[str, Any] = {
        "user_id": account.user_id,
        "taker_fee": num(taker),
        "maker_fee": num(maker),
        "gt_discount": gt,
        "gt_taker_fee": num(tier.token_rate(taker)) if gt else "0",
        "gt_maker_fee": num(tier.token_rate(maker)) if gt else "0",
        "loan_fee": "0.18",
        "point_type": "1",
        "debit_fee": 1 if gt else 3,
    }
    if market is not None:
        out["currency_pair"] = pair_id(market.symbol)
    return out


def wallet_fee(venue: Any, key: str, market: Any | None) -> dict[str, Any]:
    """TradeFee: the spot rates plus the same owner's USDT-futures (and delivery) rates."""
    out = spot_fee(venue, key, market)
    out.pop("currency_pair", None)
    futures = venue.account(key).fee_tiers.get(FUTURES_KEY, FeeTier())
    f_maker = FUTURES_FEES[0] if futures.maker is None else futures.maker
    f_taker = FUTURES_FEES[1] if futures.taker is None else futures.taker
    out |= {
        "futures_taker_fee": num(f_taker),
        "futures_maker_fee": num(f_maker),
        "delivery_taker_fee": num(f_taker),
        "delivery_maker_fee": num(f_maker),
    }
    return out


def futures_fee(venue: Any, key: str, markets: list[Any]) -> dict[str, dict[str, str]]:
    """{contract: {taker_fee, maker_fee}} for each market asked for."""
    out = {}
    for market in markets:
        maker, taker = venue.fee_rates(key, market.symbol)
        out[pair_id(market.symbol)] = {"taker_fee": num(taker), "maker_fee": num(maker)}
    return out
