"""End to end against the simulator's MEXC spot front-end, over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from dataclasses import replace

import pytest
from mexc_book import LocalBook

from cexarb.model import (
    AssetBalance,
    BookDiff,
    BookTicker,
    ConnectionState,
    Execution,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    Trade,
    WithdrawalRequest,
    WithdrawalStatus,
)
from cexarb.model.errors import (
    OrderNotFound,
    OrderStatusUnknown,
    PostOnlyWouldTake,
    ProtocolError,
    RateLimitError,
    SubscriptionRejected,
    WithdrawalError,
)
from cexarb.model.rounding import round_up
from cexarb.venues.contracts import PrivateWebsocketHandlers, PublicWebsocketHandlers
from cexarb.venues.mexc import MexcSpotPrivateRest, MexcSpotPrivateWs, MexcSpotPublicRest, MexcSpotPublicWs

if importlib.util.find_spec("cexarb.sim.mexc_spot") is None:  # pragma: no cover - sim not built yet
    pytest.skip(
        "the simulator's MEXC spot front-end (cexarb.sim.mexc_spot) is not available", allow_module_level=True
    )

from cexarb.sim import SimAccount, SimConfig, Simulator  # noqa: E402
from cexarb.sim.mexc_options import MexcSpotOptions  # noqa: E402
from cexarb.sim.mexc_spot import create_app  # noqa: E402
from tests.support import eventually

VENUE = "mexc_spot"
BTC = Symbol("BTC", "USDT")
ETH = Symbol("ETH", "USDT")
SOL = Symbol("SOL", "USDT")


def sim_config(flow: bool, options: MexcSpotOptions | None = None) -> SimConfig:
    frontends = {VENUE: lambda venue: create_app(venue, options=options)} if options else {}
    return SimConfig(
        seed=11,
        symbols=("BTC/USDT", "ETH/USDT", "SOL/USDT"),
        accounts=(SimAccount("k1", "s1", {"USDT": 100_000.0, "BTC": 2.0, "ETH": 20.0, "SOL": 500.0}),),
        flow=flow,
        flow_interval_s=0.02,
        venues=(VENUE,),
        admin=False,
        frontends=frontends,
    )


class Client:
    """The four connector objects wired to recording handlers."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.config = sim.client_config("k1").get("mexc", "spot")
        self.public = MexcSpotPublicRest(self.config)
        self.infos: dict = {}
        self.private: MexcSpotPrivateRest | None = None
        self.diffs: list[BookDiff] = []
        self.tickers: list[BookTicker] = []
        self.trades: list[Trade] = []
        self.public_states: list[ConnectionState] = []
        self.public_errors: list[Exception] = []
        self.orders: list[Order] = []
        self.executions: list[Execution] = []
        self.balances: list[AssetBalance] = []
        self.private_states: list[ConnectionState] = []
        self.private_errors: list[Exception] = []
        self.books: dict[Symbol, LocalBook] = {}
        self.public_ws: MexcSpotPublicWs | None = None
        self.private_ws: MexcSpotPrivateWs | None = None

    async def load(self) -> None:
        self.infos.update(await self.public.get_symbols_info())
        self.private = MexcSpotPrivateRest(self.config, self.infos)

    def _on_diff(self, diff: BookDiff) -> None:
        self.diffs.append(diff)
        book = self.books.get(diff.symbol)
        if book is not None:
            book.on_diff(diff)

    def _on_public_state(self, state: ConnectionState) -> None:
        self.public_states.append(state)
        if state is ConnectionState.DISCONNECTED:
            for book in self.books.values():
                book.unsync()

    async def start_public(self, symbols: list[Symbol], **kw) -> MexcSpotPublicWs:
        handlers = PublicWebsocketHandlers(
            book_diff=self._on_diff,
            book_ticker=self.tickers.append,
            trade=self.trades.append,
            connection=self._on_public_state,
            error=self.public_errors.append,
        )
        for symbol in symbols:
            self.books[symbol] = LocalBook(symbol, self.public)
        self.public_ws = MexcSpotPublicWs(self.config, handlers, self.infos, **kw)
        await self.public_ws.start()
        await self.public_ws.subscribe(symbols)
        return self.public_ws

    async def start_private(self, **kw) -> MexcSpotPrivateWs:
        handlers = PrivateWebsocketHandlers(
            order=self.orders.append,
            execution=self.executions.append,
            balance=self.balances.append,
            connection=self.private_states.append,
            error=self.private_errors.append,
        )
        self.private_ws = MexcSpotPrivateWs(self.config, handlers, self.infos, self.private, **kw)
        await self.private_ws.start()
        return self.private_ws

    async def synced(self, symbol: Symbol, *, nudge: bool = False) -> LocalBook:
        """Sync the local book once the stream delivers diffs (a snapshot that chains onto them).

        The venue registers a subscription a moment after we send it; with `nudge` (no
        synthetic flow) the book is moved until the first diff shows the subscription is live.
        """
        book = self.books[symbol]
        venue = self.sim.venue(VENUE)
        step = 0
        while not (book.buffer or book.synced):
            if nudge:
                step += 1
                mid = venue.markets[symbol].initial_mid * (1 + 0.0005 * (step % 2))
                self.sim.set_mid(VENUE, symbol, mid)
            await eventually(lambda: book.buffer or book.synced or nudge, what=f"a first {symbol} diff")
            await asyncio.sleep(0.02)
        if not book.synced:
            await book.sync()
        return book

    async def matches_venue(self, symbol: Symbol) -> None:
        """Wait until the local book reached the venue's sequence id, then compare every level."""
        truth = self.sim.venue(VENUE).snapshot(symbol, 5000)
        book = self.books[symbol]
        await eventually(
            lambda: book.synced and book.update_id >= truth.update_id, what=f"{symbol} at {truth.update_id}"
        )
        assert book.update_id == truth.update_id
        assert book.bids == dict(truth.bids)
        assert book.asks == dict(truth.asks)

    def pushed_order(self, client_id: str, status: OrderStatus) -> Order | None:
        return next((o for o in self.orders if o.client_order_id == client_id and o.status is status), None)

    async def close(self) -> None:
        for closer in (self.private_ws, self.public_ws, self.private, self.public):
            if closer is not None:
                await closer.close()


@contextlib.asynccontextmanager
async def loaded_client(*, flow: bool):
    async with Simulator(sim_config(flow=flow)) as sim:
        client = Client(sim)
        await client.load()
        yield client
        await client.close()


@pytest.fixture
async def quiet():
    """No synthetic flow: the book moves only when a test moves it."""
    async with loaded_client(flow=False) as client:
        yield client


@pytest.fixture
async def busy():
    async with loaded_client(flow=True) as client:
        yield client


async def test_symbols_loaded_from_exchange_info(quiet):
    infos = quiet.infos
    assert set(infos) == {BTC, ETH, SOL}
    btc = infos[BTC]
    assert btc.venue_symbol == "BTCUSDT" and btc.tick_size == 0.1 and btc.step_size == 0.0001
    assert infos[ETH].tick_size == 0.01 and infos[ETH].step_size == 0.001
    assert infos[SOL].tick_size == 0.001 and infos[SOL].step_size == 0.01
    assert btc.min_notional == 1.0 and btc.maker_fee == 0.001 and btc.taker_fee == 0.002 and btc.active
    assert abs(await quiet.public.get_server_time() - quiet.sim.venue(VENUE).clock.now_ms()) < 60_000
    ticker = await quiet.public.get_book_ticker(BTC)
    assert 0 < ticker.bid_price < ticker.ask_price


async def test_synced_book_follows_moves_exactly(quiet):
    await quiet.start_public([BTC])
    book = await quiet.synced(BTC, nudge=True)
    for mid in (60_050.0, 59_900.0, 60_200.0, 60_000.0):
        quiet.sim.set_mid(VENUE, BTC, mid)
        await quiet.sim.take(VENUE, BTC, Side.BUY, 0.002)
        await quiet.sim.take(VENUE, BTC, Side.SELL, 0.003)
        await quiet.matches_venue(BTC)
    assert book.gaps == 0 and book.applied > 4
    assert any(t.symbol == BTC for t in quiet.trades)
    assert any(t.symbol == BTC for t in quiet.tickers)


async def test_book_stays_gap_free_under_flow_and_never_crosses(busy):
    await busy.start_public([BTC, ETH])
    books = [await busy.synced(BTC), await busy.synced(ETH)]
    start = [b.applied for b in books]
    await eventually(
        lambda: all(b.applied >= s + 20 for b, s in zip(books, start, strict=True)), what="flow diffs"
    )
    for book in books:
        assert book.gaps == 0
        (best_bid, _), (best_ask, _) = book.top(1)[0][0], book.top(1)[1][0]
        assert best_bid < best_ask
    assert busy.public_errors == []


async def test_topics_spread_over_connections_within_limit(busy):
    ws = await busy.start_public([BTC, ETH, SOL], max_topics_per_connection=6)  # two symbols per connection
    assert len(ws._connections) == 2
    await eventually(
        lambda: {d.symbol for d in busy.diffs} == {BTC, ETH, SOL}, what="diffs of all three symbols"
    )
    assert ws.is_connected
    await ws.unsubscribe([SOL])  # alone on the second connection: that connection closes
    assert len(ws._connections) == 1


async def test_unsubscribe_stops_a_symbol(quiet):
    ws = await quiet.start_public([BTC, ETH])
    await quiet.synced(ETH, nudge=True)
    acks = ws.acks
    await ws.unsubscribe([ETH])
    await eventually(lambda: ws.acks > acks, what="the unsubscription ack")
    eth_before = sum(d.symbol == ETH for d in quiet.diffs)
    btc_before = sum(d.symbol == BTC for d in quiet.diffs)
    quiet.sim.set_mid(VENUE, ETH, 3_050.0)
    quiet.sim.set_mid(VENUE, BTC, 60_100.0)
    # Same connection, frames in order: once the later BTC diff is here, no ETH diff can follow.
    await eventually(lambda: sum(d.symbol == BTC for d in quiet.diffs) > btc_before, what="a BTC diff")
    assert sum(d.symbol == ETH for d in quiet.diffs) == eth_before


async def test_place_query_cancel_with_private_pushes(quiet):
    await quiet.start_private()
    rest = quiet.private
    cid = rest.new_client_order_id()
    placed = await rest.place_order(
        OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.01, 50_000.0, client_order_id=cid)
    )
    assert placed.client_order_id == cid and placed.status is OrderStatus.NEW
    await eventually(lambda: quiet.pushed_order(cid, OrderStatus.NEW), what="the NEW push")
    by_client = await rest.get_order(BTC, client_order_id=cid)
    by_id = await rest.get_order(BTC, order_id=placed.order_id)
    assert by_client.order_id == by_id.order_id == placed.order_id
    assert by_client.status is OrderStatus.NEW and by_client.price == 50_000.0 and by_client.quantity == 0.01
    assert [o.order_id for o in await rest.get_open_orders()] == [placed.order_id]
    await eventually(
        lambda: any(b.asset == "USDT" and b.locked == 500.0 for b in quiet.balances), what="USDT locked"
    )

    canceled = await rest.cancel_order(BTC, client_order_id=cid)
    assert canceled.status is OrderStatus.CANCELED and canceled.order_id == placed.order_id
    await eventually(lambda: quiet.pushed_order(cid, OrderStatus.CANCELED), what="the CANCELED push")
    await eventually(
        lambda: quiet.balances[-1].asset == "USDT" and quiet.balances[-1].locked == 0.0, what="USDT freed"
    )
    assert (await rest.get_order(BTC, client_order_id=cid)).status is OrderStatus.CANCELED
    assert await rest.get_open_orders(BTC) == []
    assert quiet.sim.truth(VENUE, "k1").orders[placed.order_id].status is OrderStatus.CANCELED
    with pytest.raises(OrderNotFound):
        await rest.get_order(BTC, client_order_id="never-placed")
    with pytest.raises(OrderNotFound):
        await rest.cancel_order(BTC, order_id=placed.order_id)  # already finished
    assert quiet.private_errors == []


async def test_fill_by_synthetic_taker_pushes_order_deal_and_account(quiet):
    await quiet.start_private()
    rest = quiet.private
    ticker = await quiet.public.get_book_ticker(BTC)
    price = round_up((ticker.bid_price + ticker.ask_price) / 2, 0.1)  # inside the spread: the new best ask
    cid = rest.new_client_order_id()
    placed = await rest.place_order(
        OrderRequest(BTC, Side.SELL, OrderType.LIMIT, 0.01, price, client_order_id=cid)
    )
    await eventually(lambda: quiet.pushed_order(cid, OrderStatus.NEW), what="the NEW push")

    await quiet.sim.take(VENUE, BTC, Side.BUY, 0.01)
    await eventually(lambda: quiet.pushed_order(cid, OrderStatus.FILLED), what="the FILLED push")
    await eventually(lambda: any(e.client_order_id == cid for e in quiet.executions), what="the deal push")
    (fill,) = [e for e in quiet.executions if e.client_order_id == cid]
    assert fill.order_id == placed.order_id and fill.side is Side.SELL and fill.is_maker
    assert fill.price == price and fill.quantity == 0.01
    filled = quiet.pushed_order(cid, OrderStatus.FILLED)
    assert (
        filled.filled_quantity == 0.01 and filled.remaining_quantity == 0.0 and filled.average_price == price
    )

    truth = quiet.sim.truth(VENUE, "k1")
    (true_fill,) = [f for f in truth.fills if f.order_id == placed.order_id]
    assert (fill.trade_id, fill.fee, fill.fee_asset) == (
        true_fill.trade_id,
        true_fill.fee,
        true_fill.fee_asset,
    )
    trades = await rest.get_my_trades(BTC)
    assert [t.trade_id for t in trades if t.order_id == placed.order_id] == [fill.trade_id]

    def last_pushed(asset: str) -> AssetBalance | None:
        return next((b for b in reversed(quiet.balances) if b.asset == asset), None)

    await eventually(lambda: last_pushed("BTC") == truth.balances["BTC"], what="the BTC account push")
    await eventually(lambda: last_pushed("USDT") == truth.balances["USDT"], what="the USDT account push")
    rest_balances = await rest.get_balances()
    assert rest_balances["BTC"] == truth.balances["BTC"] and rest_balances["USDT"] == truth.balances["USDT"]


async def test_order_types_against_the_venue(quiet):
    rest = quiet.private
    ticker = await quiet.public.get_book_ticker(BTC)
    with pytest.raises(PostOnlyWouldTake):
        await rest.place_order(
            OrderRequest(BTC, Side.BUY, OrderType.LIMIT_MAKER, 0.001, ticker.ask_price, client_order_id="pm1")
        )
    ioc = await rest.place_order(
        OrderRequest(
            BTC,
            Side.BUY,
            OrderType.LIMIT,
            0.001,
            ticker.ask_price,
            time_in_force=TimeInForce.IOC,
            client_order_id="ioc1",
        ),
    )
    assert (await rest.get_order(BTC, order_id=ioc.order_id)).status is OrderStatus.FILLED
    market = await rest.place_order(
        OrderRequest(BTC, Side.SELL, OrderType.MARKET, 0.001, client_order_id="mkt1")
    )
    assert (await rest.get_order(BTC, client_order_id="mkt1")).status is OrderStatus.FILLED
    assert market.order_type is OrderType.MARKET
    opened = [
        await rest.place_order(OrderRequest(s, Side.BUY, OrderType.LIMIT, q, p, client_order_id=f"all{i}"))
        for i, (s, q, p) in enumerate(((BTC, 0.001, 40_000.0), (ETH, 0.01, 2_000.0), (SOL, 1.0, 100.0)))
    ]
    assert {o.order_id for o in await rest.get_open_orders()} == {o.order_id for o in opened}
    canceled = await rest.cancel_all_orders()
    assert {o.order_id for o in canceled} == {o.order_id for o in opened}
    assert all(o.status is OrderStatus.CANCELED for o in canceled)
    assert await rest.get_open_orders() == []


async def test_public_stream_recovers_after_drop(quiet):
    ws = await quiet.start_public([BTC])
    book = await quiet.synced(BTC, nudge=True)
    quiet.sim.faults.drop_streams(VENUE)
    await eventually(lambda: ConnectionState.RECONNECTED in quiet.public_states, what="a reconnect")
    assert ConnectionState.DISCONNECTED in quiet.public_states and not book.synced
    await quiet.synced(BTC, nudge=True)
    quiet.sim.set_mid(VENUE, BTC, 60_080.0)
    await quiet.matches_venue(BTC)
    assert ws.is_connected and ws.stats.reconnects >= 1


async def test_private_stream_recovers_after_drop(quiet):
    pws = await quiet.start_private()
    quiet.sim.faults.drop_streams(VENUE)
    await eventually(lambda: ConnectionState.RECONNECTED in quiet.private_states, what="a private reconnect")
    assert pws.listen_key.created == 1  # the key survived: confirmed by keepalive, not replaced
    cid = quiet.private.new_client_order_id()
    await quiet.private.place_order(
        OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.01, 50_000.0, client_order_id=cid)
    )
    await eventually(lambda: quiet.pushed_order(cid, OrderStatus.NEW), what="a push after the reconnect")


async def test_malformed_frame_is_reported_and_stream_goes_on(quiet):
    await quiet.start_public([BTC])
    await quiet.start_private()
    await quiet.synced(BTC, nudge=True)
    # A wrapper whose channel string claims 5 bytes and has 2: truncated protobuf.
    quiet.sim.faults.inject_ws_frame(VENUE, b"\x0a\x05ab")
    await eventually(lambda: quiet.public_errors and quiet.private_errors, what="the bad frame reported")
    assert isinstance(quiet.public_errors[0], ProtocolError)
    assert isinstance(quiet.private_errors[0], ProtocolError)
    seen = len(quiet.diffs)
    quiet.sim.set_mid(VENUE, BTC, 59_990.0)
    await eventually(lambda: len(quiet.diffs) > seen, what="diffs after the bad frame")
    assert quiet.public_ws.stats.bad_frames == 1 and quiet.public_ws.is_connected


async def test_expired_listen_key_is_replaced_and_stream_resumes():
    options = MexcSpotOptions(listen_key_ttl_s=0.5, housekeeping_interval_s=0.05)
    async with Simulator(sim_config(flow=False, options=options)) as sim:
        client = Client(sim)
        try:
            await client.load()
            pws = await client.start_private(keepalive_interval_s=60.0)  # too slow to keep it alive
            await eventually(lambda: pws.listen_key.created >= 2, what="a replacement key")
            await eventually(lambda: pws.is_connected, what="the stream back")
            cid = client.private.new_client_order_id()
            await client.private.place_order(
                OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.01, 50_000.0, client_order_id=cid)
            )
            await eventually(lambda: client.pushed_order(cid, OrderStatus.NEW), what="a push on the new key")
        finally:
            await client.close()


async def test_keepalive_keeps_the_listen_key():
    options = MexcSpotOptions(listen_key_ttl_s=0.6, housekeeping_interval_s=0.05)
    async with Simulator(sim_config(flow=False, options=options)) as sim:
        client = Client(sim)
        try:
            await client.load()
            pws = await client.start_private(keepalive_interval_s=0.1)
            key = pws.listen_key.key
            await asyncio.sleep(1.5)  # well past the TTL: only the keepalives keep it valid
            assert pws.listen_key.key == key and pws.listen_key.created == 1
            assert client.private_states == [ConnectionState.CONNECTED]
        finally:
            await client.close()


async def test_withdraw_networks_and_status(quiet):
    rest = quiet.private
    networks = await rest.get_asset_networks(["USDT"])
    assert {n.network for n in networks["USDT"]} == {"TRC20", "ERC20"}
    trc20 = next(n for n in networks["USDT"] if n.network == "TRC20")
    assert trc20.withdraw_enabled and trc20.withdraw_fee == 1.0 and trc20.withdraw_min == 1.0
    address = "T" + "A" * 33
    sent = await rest.withdraw(WithdrawalRequest("USDT", 25.0, address, "TRC20", client_id="w-1"))
    assert sent.withdrawal_id and sent.status is WithdrawalStatus.PENDING
    found = await rest.get_withdrawal(sent.withdrawal_id, "USDT")
    assert (found.asset, found.amount, found.address, found.network) == ("USDT", 25.0, address, "TRC20")
    (true_w,) = quiet.sim.truth(VENUE, "k1").withdrawals
    assert true_w.withdrawal_id == sent.withdrawal_id
    assert (await rest.get_withdrawal(client_id="w-1")).withdrawal_id == sent.withdrawal_id
    with pytest.raises(WithdrawalError):
        await rest.withdraw(WithdrawalRequest("USDT", 25.0, "not-an-address", "TRC20"))


async def test_lost_order_reply_is_status_unknown_and_resolved_by_client_id(quiet):
    # A short request timeout, so the held reply is given up quickly.
    rest = MexcSpotPrivateRest(replace(quiet.config, request_timeout_s=0.3), quiet.infos)
    try:
        quiet.sim.faults.timeout_after_accept(VENUE, 1)
        cid = rest.new_client_order_id()
        with pytest.raises(OrderStatusUnknown):
            await rest.place_order(
                OrderRequest(BTC, Side.BUY, OrderType.LIMIT, 0.01, 50_000.0, client_order_id=cid)
            )
        found = await rest.get_order(BTC, client_order_id=cid)  # it was placed once, never resent
        assert found.status is OrderStatus.NEW
        assert [o.client_order_id for o in await rest.get_open_orders(BTC)] == [cid]
    finally:
        await rest.close()


async def test_clock_skew_is_repaired_by_resync(quiet):
    quiet.sim.faults.skew_clock(VENUE, 120_000)  # venue two minutes ahead: recvWindow is 5 s
    balances = await quiet.private.get_balances()  # 700003 -> resync -> retried once
    assert balances["USDT"].available == 100_000.0
    assert quiet.private.http.stats.clock_resyncs == 1


async def test_rate_limit_reply_is_typed_and_retried(quiet):
    quiet.sim.faults.fail_next_rest(
        VENUE, 1, 429, b'{"code":429,"msg":"Too Many Requests"}', retry_after=0.05
    )
    assert (await quiet.public.get_order_book(BTC, 5)).bids  # GET: waited and retried
    assert quiet.public.http.stats.rate_limited == 1
    quiet.sim.faults.fail_next_rest(
        VENUE, 4, 429, b'{"code":429,"msg":"Too Many Requests"}', retry_after=0.01
    )
    with pytest.raises(RateLimitError) as err:
        await quiet.public.get_order_book(BTC, 5)
    assert err.value.code == 429 and err.value.http_status == 429


# ---- subscription replies: MEXC refuses with code 0; only the msg echo confirms a channel ----

DEPTH_BTC = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"


async def test_blocked_public_channel_fails_subscribe_naming_it(quiet):
    quiet.sim.faults.block_channels(VENUE, "aggre.depth")
    with pytest.raises(SubscriptionRejected) as info:
        await quiet.start_public([BTC])
    assert DEPTH_BTC in info.value.channels and DEPTH_BTC in str(info.value)
    assert "Blocked" in str(info.value)


async def test_blocked_private_channel_fails_start_naming_it(quiet):
    quiet.sim.faults.block_channels(VENUE, "private.deals")
    with pytest.raises(SubscriptionRejected) as info:
        await quiet.start_private()
    assert "spot@private.deals.v3.api.pb" in info.value.channels


async def test_channel_refused_at_runtime_is_counted_logged_once_retried_and_recovers(quiet, caplog):
    ws = await quiet.start_public([BTC], resubscribe_backoff_s=0.05)
    await quiet.synced(BTC, nudge=True)
    quiet.sim.faults.block_channels(VENUE, "aggre.depth")
    quiet.sim.faults.drop_streams(VENUE)  # the replay after the reconnect is refused
    # the replay refuses the symbol's three channels; the depth channel is refused on each retry
    await eventually(
        lambda: ws.stats.errors_by_kind.get("SubscriptionRejected", 0) >= 6, what="refusals and retries"
    )
    assert DEPTH_BTC in ws.stats.failed_subscriptions
    assert any(isinstance(e, SubscriptionRejected) for e in quiet.public_errors)
    refused_logs = [r.getMessage() for r in caplog.records if "ws_subscription_refused" in r.getMessage()]
    assert sum(DEPTH_BTC in m for m in refused_logs) == 1  # logged once, however often refused
    # the others of the refused request were retried on their own and taken
    assert set(ws.stats.failed_subscriptions) == {DEPTH_BTC}
    quiet.sim.faults.unblock_channels(VENUE)
    await eventually(lambda: not ws.stats.failed_subscriptions, what="the retried subscription taken")
    await quiet.synced(BTC, nudge=True)
    quiet.sim.set_mid(VENUE, BTC, 60_080.0)
    await quiet.matches_venue(BTC)
