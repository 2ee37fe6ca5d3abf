"""In-process rows: the hot paths from frame bytes to state and handler, next to ccxt.

cexarb is driven through its real entry points with no socket: the callable each connector
hands its WsClient as `on_message` (what the transport calls per frame: `GateWs.on_message`,
`MexcSpot*Ws._on_message`) wired to a composite's injected handlers, so a frame travels
connector -> codec -> composite state -> listener exactly as in production. ccxt gets the
same frames through its own decode and parse/handle.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from bench import frames, journal, peers, placing
from bench.harness import Report, Row, run_sync, time_each_us, time_pair_us, time_per_call_us
from cexarb.config import Secret, default_config
from cexarb.exchange.book import BookSync
from cexarb.exchange.gateio_futures import GateioFuturesPrivateExchange
from cexarb.exchange.gateio_spot import GateioSpotPrivateExchange
from cexarb.exchange.handlers import PrivateListener, PublicListener
from cexarb.exchange.mexc_spot import MexcSpotPrivateExchange
from cexarb.model import (
    BookTicker,
    Market,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    SymbolInfo,
    TimeInForce,
    Venue,
)
from cexarb.transport.http import PreparedRequest, encode_params
from cexarb.venues.gateio import GateioSpotPrivateWs, GateioSpotPublicWs
from cexarb.venues.gateio.auth import GateSigner
from cexarb.venues.gateio.futures_ws import GateioFuturesPrivateWs
from cexarb.venues.mexc import MexcSpotPrivateRest, MexcSpotPrivateWs, MexcSpotPublicWs
from cexarb.venues.mexc.auth import MexcSigner

BTC = Symbol("BTC", "USDT")
_encode_json = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class Sizes:
    """How much each row does: the full run, or `--quick` (fewer samples, same rows)."""

    orders: int  # order lifecycles per venue (3 frames each)
    book_frames: int
    tickers: int
    lookups: int

    @staticmethod
    def of(quick: bool) -> Sizes:
        if quick:
            return Sizes(orders=1_500, book_frames=2_000, tickers=5_000, lookups=2_000)
        return Sizes(orders=15_000, book_frames=20_000, tickers=50_000, lookups=20_000)


class _OrderCounter(PrivateListener):
    def __init__(self) -> None:
        self.orders = 0

    def on_order(self, order: Order) -> None:
        self.orders += 1


class _BookCounter(PublicListener):
    def __init__(self) -> None:
        self.books = 0
        self.tickers = 0

    def on_book(self, symbol: Symbol) -> None:
        self.books += 1

    def on_book_ticker(self, ticker: BookTicker) -> None:
        self.tickers += 1


def _config(venue: Venue, market: Market):
    from dataclasses import replace

    base = default_config().get(venue, market)
    return replace(base, api_key=Secret("k" * 32), api_secret=Secret("s" * 64), user_id=110)


def _spot_info(venue_symbol: str) -> SymbolInfo:
    return SymbolInfo(BTC, venue_symbol, tick_size=0.1, step_size=0.0001)


def _with_listeners(ex):
    orders, books = _OrderCounter(), _BookCounter()
    ex.add_private_listener(orders)
    ex.add_listener(books)
    return orders, books


# ---- private order events ---------------------------------------------------------------------


def _gate_spot_private():
    ex = GateioSpotPrivateExchange(_config(Venue.GATEIO, Market.SPOT))
    ex.symbols_info[BTC] = _spot_info("BTC_USDT")
    listener, _ = _with_listeners(ex)
    ws = GateioSpotPrivateWs(ex.config, ex._private_handlers(), ex.symbols_info)
    return ex, ws._ws.on_message, listener


def _gate_futures_private():
    ex = GateioFuturesPrivateExchange(_config(Venue.GATEIO, Market.FUTURES))
    ex.symbols_info[BTC] = SymbolInfo(
        BTC, "BTC_USDT", tick_size=0.1, step_size=0.0001, contract_size=0.0001, is_futures=True
    )
    listener, _ = _with_listeners(ex)
    ws = GateioFuturesPrivateWs(ex.config, ex._private_handlers(), ex.symbols_info, user_id=110)
    return ex, ws._ws.on_message, listener


def _mexc_private():
    ex = MexcSpotPrivateExchange(_config(Venue.MEXC, Market.SPOT))
    ex.symbols_info[BTC] = _spot_info("BTCUSDT")
    listener, _ = _with_listeners(ex)
    rest = MexcSpotPrivateRest(ex.config, ex.symbols_info)
    ws = MexcSpotPrivateWs(ex.config, ex._private_handlers(), ex.symbols_info, rest)
    return ex, ws._on_message, listener


def _placed(ex, client_ids: list[str]) -> None:
    """Each order as the composite records it before sending (PENDING_NEW by client id), so
    the stream's first update is adopted, as for an order this process placed."""
    for cid in client_ids:
        ex._tracker.add_pending(
            Order(BTC, "", cid, Side.BUY, OrderType.LIMIT, 0.0, 0.0, OrderStatus.PENDING_NEW)
        )


def private_order_rows(report: Report, sizes: Sizes) -> None:
    cases = [
        ("Gate spot.orders (JSON)", frames.gate_spot_orders, _gate_spot_private, "spot"),
        ("Gate futures.orders (JSON)", frames.gate_futures_orders, _gate_futures_private, "swap"),
        ("MEXC private.orders (protobuf)", frames.mexc_orders, _mexc_private, "mexc"),
    ]
    for title, make_frames, make_ours, kind in cases:
        inputs = make_frames(sizes.orders)
        warm = min(len(inputs) // 10, 3000)
        ex, on_message, listener = make_ours()
        prefix = "" if kind == "mexc" else "t-"
        _placed(ex, [f"{prefix}bench{i:09d}" for i in range(sizes.orders)])
        peer, peer_name = None, ""
        if peers.AVAILABLE:
            if kind == "mexc":
                peer, peer_name = (
                    peers.mexc_order_parser(peers.mexc()),
                    "ccxt decode_proto_msg + parse_ws_order",
                )
            else:
                symbol = "BTC/USDT" if kind == "spot" else "BTC/USDT:USDT"
                peer = peers.gate_order_parser(peers.gate(), symbol)
                peer_name = f"ccxt {peers.JSON_DECODER}.loads + parse_order"
        (med, p99, n), theirs = time_pair_us(on_message, peer, inputs, warm)
        if listener.orders != len(inputs) or ex._tracker.pending:
            raise RuntimeError(f"{title}: {listener.orders} of {len(inputs)} updates reached the handler")
        note = (
            f"{sizes.orders:,} lifecycles (new, partial, filled); "
            f"tracker: {ex._tracker.open_count()} open, {ex._tracker.executed_count()} in executed cache; "
            f"handler calls {listener.orders:,}"
        )
        row = Row(
            f"order event: {title} -> tracker -> handler",
            "us",
            med,
            p99,
            n,
            goal="<= 3 us, >= 12x peer",
            note=note,
        )
        if theirs is not None:
            row.peer, (row.peer_median, row.peer_p99, _) = peer_name, theirs
        report.add(row)


# ---- order book diffs ---------------------------------------------------------------------------


def _synced_composite(ex, script: frames.BookScript) -> None:
    sync = ex._books[BTC] = BookSync(BTC)
    ex._symbols.append(BTC)
    if not sync.on_snapshot(OrderBook(BTC, list(script.bids), list(script.asks), script.snapshot_id)):
        raise RuntimeError("bench book did not sync")


def _gate_public(script: frames.BookScript):
    ex = GateioSpotPrivateExchange(_config(Venue.GATEIO, Market.SPOT))
    ex.symbols_info[BTC] = _spot_info("BTC_USDT")
    _, books = _with_listeners(ex)
    _synced_composite(ex, script)
    ws = GateioSpotPublicWs(ex.config, ex._public_handlers(), ex.symbols_info)
    return ex, ws._ws.on_message, books


def _mexc_public(script: frames.BookScript):
    ex = MexcSpotPrivateExchange(_config(Venue.MEXC, Market.SPOT))
    ex.symbols_info[BTC] = _spot_info("BTCUSDT")
    _, books = _with_listeners(ex)
    _synced_composite(ex, script)
    ws = MexcSpotPublicWs(ex.config, ex._public_handlers(), ex.symbols_info)
    return ex, ws._on_message, books


def book_rows(report: Report, sizes: Sizes) -> None:
    cases = [
        ("Gate spot.order_book_update, 10 levels", frames.gate_book_updates, 10, _gate_public, "gate", ""),
        (
            "Gate spot.order_book_update, 50 levels",
            frames.gate_book_updates,
            50,
            _gate_public,
            "gate",
            "<= 0.15 us/level, >= 8x peer",
        ),
        (
            "MEXC aggre.depth (protobuf), 20 levels",
            frames.mexc_depth_updates,
            20,
            _mexc_public,
            "mexc",
            "<= 0.3 us/level",
        ),
    ]
    for title, make_frames, levels, make_ours, kind, goal in cases:
        script = make_frames(sizes.book_frames, levels)
        warm = len(script.frames) // 10
        ex, on_message, books = make_ours(script)
        peer, peer_name = None, ""
        if peers.AVAILABLE:
            if kind == "gate":
                peer, _ = peers.gate_book_handler(peers.gate(), script)
                peer_name = f"ccxt.pro gate {peers.JSON_DECODER}.loads + handle_order_book"
            else:
                peer, _ = peers.mexc_book_handler(peers.mexc(), script)
                peer_name = "ccxt.pro mexc decode_proto_msg + handle_order_book"
        (med, p99, n), theirs = time_pair_us(on_message, peer, script.frames, warm)
        sync = ex._books[BTC]
        if not sync.synced or books.books != len(script.frames):
            raise RuntimeError(
                f"{title}: book fell out of sync ({books.books} of {len(script.frames)} applied)"
            )
        row = Row(
            f"book diff: {title} -> synced book (seq check) -> handler",
            "us",
            med,
            p99,
            n,
            goal=goal,
            note=f"100-level book each side; {levels} levels/frame (update 60%, delete 20%, insert 20%)",
            per_level=med / levels,
        )
        if theirs is not None:
            row.peer, (row.peer_median, row.peer_p99, _) = peer_name, theirs
            row.peer_per_level = row.peer_median / levels
        report.add(row)


# ---- book ticker --------------------------------------------------------------------------------


def ticker_rows(report: Report, sizes: Sizes) -> None:
    script = frames.gate_book_updates(1, 2)
    ex, _, books = _gate_public(script)
    ws = GateioSpotPublicWs(ex.config, ex._public_handlers(), ex.symbols_info)
    inputs = frames.gate_book_tickers(sizes.tickers)
    peer = peers.gate_book_ticker_handler(peers.gate())[0] if peers.AVAILABLE else None
    (med, p99, n), theirs = time_pair_us(ws._ws.on_message, peer, inputs, len(inputs) // 10)
    row = Row("book ticker: Gate spot.book_ticker (JSON) -> BookTicker -> handler", "us", med, p99, n)
    row.goal = "<= 2 us"
    if theirs is not None:
        row.peer = f"ccxt.pro gate {peers.JSON_DECODER}.loads + handle_bid_ask"
        row.peer_median, row.peer_p99, _ = theirs
    report.add(row)

    ex, _, books = _mexc_public(frames.mexc_depth_updates(1, 2))
    ws = MexcSpotPublicWs(ex.config, ex._public_handlers(), ex.symbols_info)
    inputs = frames.mexc_book_tickers(sizes.tickers)
    med, p99, n = time_each_us(ws._on_message, inputs, len(inputs) // 10)
    row = Row("book ticker: MEXC aggre.bookTicker (protobuf) -> BookTicker -> handler", "us", med, p99, n)
    row.goal = "<= 2 us"
    row.note = "ccxt.pro mexc has no bid/ask handler for this push in the same shape: no peer"
    report.add(row)


# ---- tracker lookups and transitions -----------------------------------------------------------


def _order(i: int, status: OrderStatus, filled: float = 0.0) -> Order:
    return Order(
        symbol=BTC,
        order_id=str(700_000_000 + i),
        client_order_id=f"t-look{i:09d}",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        price=60_000.0,
        quantity=0.01,
        status=status,
        time_in_force=TimeInForce.GTC,
        filled_quantity=filled,
        remaining_quantity=0.01 - filled,
        created_at=frames.T0_MS + i,
        updated_at=frames.T0_MS + i + (5 if status is OrderStatus.FILLED else 0),
    )


def tracker_rows(report: Report, sizes: Sizes) -> None:
    ex = GateioSpotPrivateExchange(_config(Venue.GATEIO, Market.SPOT))
    listener, _ = _with_listeners(ex)
    ex._private_rest = object()  # never reached: every lookup below is answered from memory
    ex._initialized = True
    n = min(sizes.lookups, 900)  # stays inside one symbol's executed cache (1000)
    for i in range(n):
        ex._tracker.apply(_order(i, OrderStatus.NEW))
    for i in range(n, 2 * n):
        ex._tracker.apply(_order(i, OrderStatus.NEW))
        ex._tracker.apply(_order(i, OrderStatus.FILLED, 0.01))
    open_ids = [str(700_000_000 + i) for i in range(n)]
    done_ids = [str(700_000_000 + i) for i in range(n, 2 * n)]
    get = ex.get_active_order

    for tier, ids in (("open set", open_ids), ("executed cache", done_ids)):
        order_id = ids[len(ids) // 2]

        def lookup(order_id=order_id) -> None:
            run_sync(get(BTC, order_id))

        med, p99, samples = time_per_call_us(lookup, sizes.lookups, batch=10)
        report.add(
            Row(
                f"get_active_order from the {tier}",
                "us",
                med,
                p99,
                samples,
                goal="<= 1 us",
                note="awaited without a suspension: coroutine call + lookup",
            )
        )

    # open -> executed: a FILLED update for an order that is open, through the composite's handler.
    ex2 = GateioSpotPrivateExchange(_config(Venue.GATEIO, Market.SPOT))
    _with_listeners(ex2)
    m = sizes.lookups
    for i in range(m):
        ex2._tracker.apply(_order(i, OrderStatus.NEW))
    finals = [_order(i, OrderStatus.FILLED, 0.01) for i in range(m)]
    med, p99, samples = time_each_us(ex2._handle_order, finals, m // 10)
    report.add(
        Row(
            "open -> executed transition (tracker merge, move, handler)",
            "us",
            med,
            p99,
            samples,
            goal="<= 2 us",
            note="model Order in (decode excluded); executed cache evicting at 1000",
        )
    )


# ---- signing ------------------------------------------------------------------------------------


def _prepared(method: str, path: str, params: dict | None, body: dict | None) -> PreparedRequest:
    """What HttpClient.request builds before it signs (query and body bytes as sent)."""
    query = encode_params(params)
    raw = b"" if body is None else _encode_json(body)
    headers = {"Content-Type": "application/json"} if raw else {}
    return PreparedRequest(method, path, query, raw, headers)


def signing_rows(report: Report, sizes: Sizes) -> None:
    gate_body = {
        "currency_pair": "BTC_USDT",
        "type": "limit",
        "account": "spot",
        "side": "buy",
        "amount": "0.001",
        "price": "60000",
        "time_in_force": "gtc",
        "text": "t-bench000000001",
    }
    mexc_params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.001",
        "price": "60000",
        "newClientOrderId": "bench000000001",
    }
    gate_signer = GateSigner(Secret("k" * 32), Secret("s" * 64))
    mexc_signer = MexcSigner(Secret("k" * 32), Secret("s" * 64))
    ts = frames.T0_MS

    def ours_gate() -> None:
        gate_signer(_prepared("POST", "/api/v4/spot/orders", None, gate_body), ts)

    def ours_mexc() -> None:
        mexc_signer(_prepared("POST", "/api/v3/order", mexc_params, None), ts)

    for name, ours, peer_factory, peer_args in (
        ("Gate POST /spot/orders (HMAC-SHA512)", ours_gate, peers.gate_signer, (peers.gate,)),
        ("MEXC POST /api/v3/order (HMAC-SHA256)", ours_mexc, peers.mexc_signer, (peers.mexc,)),
    ):
        med, p99, n = time_per_call_us(ours, sizes.lookups, batch=5)
        row = Row(
            f"sign REST request: {name}", "us", med, p99, n, note="params/body -> encoded, signed request"
        )
        if peers.AVAILABLE:
            peer = peer_factory(peer_args[0]())
            arg = gate_body if "Gate" in name else mexc_params
            row.peer = "ccxt sign()"
            row.peer_median, row.peer_p99, _ = time_per_call_us(
                lambda peer=peer, arg=arg: peer(arg), sizes.lookups // 2, batch=5
            )
        report.add(row)


def run(report: Report, quick: bool) -> None:
    sizes = Sizes.of(quick)
    private_order_rows(report, sizes)
    book_rows(report, sizes)
    ticker_rows(report, sizes)
    tracker_rows(report, sizes)
    signing_rows(report, sizes)
    placing.place_rows(report, sizes.lookups, _config)
    journal.run(report, quick)
