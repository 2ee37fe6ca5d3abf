"""msgspec Structs for Gate wire items (REST replies and WS results).

Decoded in lax mode (`strict=False`) so Gate's numeric strings ("0.001") land directly in
float fields and ids may be strings or ints. Only the fields cexarb uses are declared;
everything else is skipped by msgspec without allocating.
"""

from __future__ import annotations

import msgspec

Level = tuple[float, float]


class FuturesLevel(msgspec.Struct, gc=False):
    p: float
    s: float


# ---- reference data ---------------------------------------------------------------------


class CurrencyPairMsg(msgspec.Struct, gc=False):
    id: str
    base: str = ""
    quote: str = ""
    fee: float = 0.2
    min_base_amount: float | None = None
    min_quote_amount: float | None = None
    amount_precision: int = 8
    precision: int = 8
    trade_status: str = "tradable"


class ContractMsg(msgspec.Struct, gc=False):
    name: str
    quanto_multiplier: float = 1.0
    order_price_round: float = 0.0
    order_size_min: float = 1.0
    maker_fee_rate: float = 0.0
    taker_fee_rate: float = 0.0
    enable_decimal: bool = False
    in_delisting: bool = False
    status: str = "trading"
    type: str = "direct"


class ContractFundingMsg(msgspec.Struct, gc=False):
    """The funding fields of a /futures/usdt/contracts item (gateapi Contract)."""

    name: str
    funding_rate: float = 0.0
    funding_interval: int = 0
    funding_next_apply: float = 0.0


class AccountBookMsg(msgspec.Struct, gc=False):
    """One /futures/usdt/account_book item (gateapi FuturesAccountBook)."""

    time: float = 0.0
    change: float = 0.0
    balance: float = 0.0
    type: str = ""
    text: str = ""
    contract: str = ""
    trade_id: str = ""
    id: str | int = ""


# ---- market data ------------------------------------------------------------------------


class SpotOrderBookMsg(msgspec.Struct, gc=False):
    asks: list[Level]
    bids: list[Level]
    id: int = 0
    current: float = 0.0
    update: float = 0.0


class FuturesOrderBookMsg(msgspec.Struct, gc=False):
    asks: list[FuturesLevel]
    bids: list[FuturesLevel]
    id: int = 0
    current: float = 0.0
    update: float = 0.0


class BookTickerMsg(msgspec.Struct, gc=False):
    s: str
    # Prices stay text: Gate sends "" for an empty side.
    b: str = ""
    a: str = ""
    B: float = 0.0
    A: float = 0.0
    t: int = 0
    u: int = 0


class SpotBookUpdateMsg(msgspec.Struct, gc=False):
    """One spot.order_book_update result. msgspec decodes `b`/`a` into lists; the compiled
    reader (`_gatewire`) into a `Levels` each, a read-only sequence equal to that list."""

    s: str
    U: int
    u: int
    b: list[Level] = []
    a: list[Level] = []
    t: int = 0
    full: bool = False


class FuturesBookUpdateMsg(msgspec.Struct, gc=False):
    s: str
    U: int
    u: int
    b: list[FuturesLevel] = []
    a: list[FuturesLevel] = []
    t: int = 0
    full: bool = False


class SpotPublicTradeMsg(msgspec.Struct, gc=False):
    currency_pair: str
    price: float
    amount: float
    side: str
    id: int | str = 0
    create_time: float = 0.0
    create_time_ms: float = 0.0


class FuturesPublicTradeMsg(msgspec.Struct, gc=False):
    contract: str
    price: float
    size: float
    id: int | str = 0
    create_time: float = 0.0
    create_time_ms: float = 0.0


class SpotTickerMsg(msgspec.Struct, gc=False):
    currency_pair: str = ""
    highest_bid: str = ""
    lowest_ask: str = ""
    highest_size: str = ""
    lowest_size: str = ""


class FuturesTickerMsg(msgspec.Struct, gc=False):
    contract: str = ""
    highest_bid: str = ""
    lowest_ask: str = ""
    highest_size: str = ""
    lowest_size: str = ""


# ---- account ----------------------------------------------------------------------------


class SpotOrderMsg(msgspec.Struct, gc=False):
    id: str | int = ""
    text: str = ""
    currency_pair: str = ""
    type: str = "limit"
    side: str = "buy"
    amount: float = 0.0
    price: float = 0.0
    time_in_force: str = "gtc"
    left: float | None = None
    filled_amount: float | None = None
    filled_total: float = 0.0
    avg_deal_price: float = 0.0
    fee: float = 0.0
    fee_currency: str = ""
    gt_fee: float = 0.0
    status: str = ""
    finish_as: str = ""
    # WS spot.orders only: put / update / finish
    event: str = ""
    create_time: float = 0.0
    create_time_ms: float = 0.0
    update_time: float = 0.0
    update_time_ms: float = 0.0


class FuturesOrderMsg(msgspec.Struct, gc=False):
    contract: str
    size: float
    id: int | str = 0
    left: float = 0.0
    price: float = 0.0
    fill_price: float = 0.0
    tif: str = "gtc"
    text: str = ""
    is_reduce_only: bool = False
    status: str = ""
    finish_as: str = ""
    create_time: float = 0.0
    create_time_ms: float = 0.0
    # REST: float seconds; WS: ms
    update_time: float = 0.0
    finish_time: float = 0.0
    finish_time_ms: float = 0.0
    update_id: int = 0


class SpotUserTradeMsg(msgspec.Struct, gc=False):
    id: int | str
    order_id: str | int = ""
    currency_pair: str = ""
    side: str = "buy"
    role: str = "taker"
    amount: float = 0.0
    price: float = 0.0
    fee: float = 0.0
    fee_currency: str = ""
    gt_fee: float = 0.0
    text: str = ""
    create_time: float = 0.0
    create_time_ms: float = 0.0


class FuturesUserTradeMsg(msgspec.Struct, gc=False):
    id: int | str
    contract: str
    size: float
    price: float
    order_id: str | int = ""
    role: str = "taker"
    text: str = ""
    fee: float = 0.0
    create_time: float = 0.0
    create_time_ms: float = 0.0


class SpotAccountMsg(msgspec.Struct, gc=False):
    currency: str
    available: float = 0.0
    locked: float = 0.0


class SpotBalanceUpdateMsg(msgspec.Struct, gc=False):
    currency: str
    available: float = 0.0
    freeze: float = 0.0
    total: float = 0.0
    timestamp_ms: float = 0.0


class FuturesAccountMsg(msgspec.Struct, gc=False):
    user: int | str = 0
    currency: str = "USDT"
    total: float = 0.0
    available: float = 0.0
    order_margin: float = 0.0
    position_margin: float = 0.0
    unrealised_pnl: float = 0.0


class FuturesBalanceUpdateMsg(msgspec.Struct, gc=False):
    balance: float
    currency: str = "usdt"
    change: float = 0.0
    time_ms: float = 0.0


class PositionMsg(msgspec.Struct, gc=False):
    contract: str
    size: float = 0.0
    entry_price: float = 0.0
    mark_price: float = 0.0
    unrealised_pnl: float = 0.0
    realised_pnl: float = 0.0
    leverage: float | None = None
    lever: float | None = None
    cross_leverage_limit: float = 0.0
    liq_price: float = 0.0
    margin: float = 0.0
    mode: str = "single"
    update_time: float = 0.0
    time_ms: float = 0.0


class CurrencyChainMsg(msgspec.Struct, gc=False):
    """One item of GET /wallet/currency_chains (flags are 0/1)."""

    chain: str
    is_disabled: int = 0
    is_withdraw_disabled: int = 0


class WithdrawStatusMsg(msgspec.Struct, gc=False):
    """One item of GET /wallet/withdraw_status (gateapi WithdrawStatus)."""

    currency: str = ""
    withdraw_fix: float = 0.0
    withdraw_amount_mini: float = 0.0
    withdraw_fix_on_chains: dict[str, float] = {}


class DepositAddressMsg(msgspec.Struct, gc=False):
    """GET /wallet/deposit_address: MultiChainAddressItem per chain."""

    class Chain(msgspec.Struct, gc=False):
        chain: str = ""
        address: str = ""
        payment_id: str = ""
        obtain_failed: int = 0

    currency: str = ""
    multichain_addresses: list[Chain] = []


class LedgerRecordMsg(msgspec.Struct, gc=False):
    """One GET /wallet/deposits item (gateapi LedgerRecord)."""

    id: str | int = ""
    txid: str = ""
    timestamp: float = 0.0
    amount: float = 0.0
    currency: str = ""
    address: str = ""
    status: str = ""
    chain: str = ""


class WithdrawalMsg(msgspec.Struct, gc=False):
    id: str | int = ""
    currency: str = ""
    amount: float = 0.0
    fee: float = 0.0
    address: str = ""
    chain: str = ""
    txid: str = ""
    status: str = ""
    timestamp: float = 0.0
    withdraw_order_id: str = ""


# ---- WS envelope ------------------------------------------------------------------------


class WsErrorMsg(msgspec.Struct, gc=False):
    code: int = 0
    message: str = ""


class Envelope(msgspec.Struct, gc=False):
    channel: str = ""
    event: str = ""
    # The venue's clock when it sent the frame (a signature-expired reply resyncs ours from it).
    time_ms: int = 0
    error: WsErrorMsg | None = None
    # Kept undecoded until the channel is known.
    result: msgspec.Raw = msgspec.Raw(b"null")
    # Service-upgrade notice: {"type": "upgrade", "msg": ...}
    type: str = ""


# ---- account fee rates ------------------------------------------------------------------


class SpotFeeMsg(msgspec.Struct, gc=False):
    maker_fee: float
    taker_fee: float
    gt_discount: bool = False
    gt_maker_fee: float = 0.0
    gt_taker_fee: float = 0.0


class FuturesFeeMsg(msgspec.Struct, gc=False):
    maker_fee: float
    taker_fee: float
