"""Prometheus metrics of a running engine, its venues and its journal (official client).

Pull, not push: `EngineCollector` reads the counters the engine, the composites and
the transport already keep (plain attributes bumped on the hot path) when Prometheus
scrapes, so metrics add nothing to the hot path but two histogram observations
(frame-to-decision, REST latency) of ~0.2 µs. The endpoint is served by aiohttp on
the event loop's own thread: a scrape reads the state between two callbacks, never
while a handler is half-way through changing it.

Library use:

    server = MetricsServer(engine, journal=journal)
    port = await server.start(9108)          # GET http://127.0.0.1:9108/metrics
    ...
    await server.stop()

or register `EngineCollector(engine)` in a registry of your own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from cexarb.arb.engine import ArbEngine
from cexarb.exchange.handlers import PrivateListener
from cexarb.journal import Journal
from cexarb.model import Execution, Order
from cexarb.model.enums import DONE_STATUSES
from cexarb.transport.stats import LatencyHistogram

# Finished order ids remembered per venue so a late duplicate update is not counted twice.
_DONE_MEMORY = 10_000


class _OrderOutcomes(PrivateListener):
    """Counts orders by the status they finished in, and fills, per venue."""

    def __init__(self) -> None:
        self.final: dict[str, int] = {}
        self.fills = 0
        self._done: OrderedDict[str, None] = OrderedDict()

    def on_order(self, order: Order) -> None:
        if order.status in DONE_STATUSES and order.order_id not in self._done:
            self._done[order.order_id] = None
            if len(self._done) > _DONE_MEMORY:
                self._done.popitem(last=False)
            status = order.status.value
            self.final[status] = self.final.get(status, 0) + 1

    def on_execution(self, execution: Execution) -> None:
        self.fills += 1


def _histogram(name: str, doc: str, labels: list[str]) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, doc, labels=labels)


def _add(family: HistogramMetricFamily, labels: list[str], hist: LatencyHistogram) -> None:
    family.add_metric(labels, buckets=hist.cumulative(), sum_value=hist.sum)


class EngineCollector(Collector):
    """Every metric of docs/operations.md, read from the engine and its venues at scrape time."""

    def __init__(self, engine: ArbEngine, journal: Journal | None = None) -> None:
        self.engine = engine
        self.journal = journal
        self._outcomes: dict[str, _OrderOutcomes] = {}
        for name, venue in engine.venues.items():
            listener = self._outcomes[name] = _OrderOutcomes()
            venue.add_private_listener(listener)

    def collect(self) -> Iterator[Metric]:
        yield from self._venues()
        yield from self._engine()
        if self.journal is not None:
            yield from self._journal(self.journal)

    def _venues(self) -> Iterator[Metric]:
        frames = CounterMetricFamily(
            "cexarb_ws_frames", "WebSocket frames received", labels=["venue", "channel"]
        )
        bad = CounterMetricFamily(
            "cexarb_ws_bad_frames", "Frames that failed to decode", labels=["venue", "channel"]
        )
        reconnects = CounterMetricFamily(
            "cexarb_ws_reconnects", "WebSocket reconnects", labels=["venue", "channel"]
        )
        requests = CounterMetricFamily(
            "cexarb_rest_requests", "REST attempts started", labels=["venue", "channel"]
        )
        limited = CounterMetricFamily(
            "cexarb_rest_429", "REST replies saying rate limited (429/418)", labels=["venue", "channel"]
        )
        latency = _histogram(
            "cexarb_rest_latency_milliseconds", "REST request to reply", ["venue", "channel"]
        )
        budget = GaugeMetricFamily(
            "cexarb_rate_limit_budget_left",
            "Weight the pool could still admit now",
            labels=["venue", "channel", "pool"],
        )
        orders = CounterMetricFamily(
            "cexarb_orders", "Orders finished, by final status", labels=["venue", "status"]
        )
        fills = CounterMetricFamily("cexarb_fills", "The account's fills", labels=["venue"])
        sweeps = CounterMetricFamily(
            "cexarb_sweeps", "REST reconciliation sweeps after a reconnect", labels=["venue"]
        )
        sweep_failures = CounterMetricFamily("cexarb_sweep_failures", "Sweeps that failed", labels=["venue"])
        resyncs = CounterMetricFamily(
            "cexarb_book_resyncs", "Order book resyncs (gap or stale)", labels=["venue"]
        )
        up = GaugeMetricFamily(
            "cexarb_connection_up", "1 when the connection is up", labels=["venue", "connection"]
        )
        age = GaugeMetricFamily(
            "cexarb_book_age_seconds", "Time since the book last changed", labels=["venue", "symbol"]
        )
        for name, venue in self.engine.venues.items():
            transport = venue.transport_stats()
            for channel, ws in transport["ws"].items():
                frames.add_metric([name, channel], ws.frames)
                bad.add_metric([name, channel], ws.bad_frames)
                reconnects.add_metric([name, channel], ws.reconnects)
            for channel, http in transport["rest"].items():
                requests.add_metric([name, channel], http.stats.requests)
                limited.add_metric([name, channel], http.stats.rate_limited)
                _add(latency, [name, channel], http.stats.latency_ms)
                if http.limiter is not None:
                    for pool, left in http.limiter.budget_left().items():
                        budget.add_metric([name, channel, pool], left)
            stats: dict[str, Any] = venue.get_trading_stats()
            outcomes = self._outcomes[name]
            for status, n in sorted(outcomes.final.items()):
                orders.add_metric([name, status], n)
            fills.add_metric([name], outcomes.fills)
            sweeps.add_metric([name], stats["sweeps"])
            sweep_failures.add_metric([name], stats["sweep_failures"])
            resyncs.add_metric([name], stats["public"]["book_resyncs"])
            for connection, state in stats["connections"].items():
                up.add_metric([name, connection], 1.0 if state in ("up", "ok") else 0.0)
            for symbol in venue.symbols_info:
                age.add_metric([name, str(symbol)], venue.book_age_ms(symbol) / 1e3)  # +Inf: no book
        yield from (frames, bad, reconnects, requests, limited, latency, budget, orders, fills, sweeps)
        yield from (sweep_failures, resyncs, up, age)

    def _engine(self) -> Iterator[Metric]:
        engine = self.engine
        stats = engine.stats
        opportunities = CounterMetricFamily(
            "cexarb_opportunities", "Opportunities taken or signalled", labels=["action"]
        )
        opportunities.add_metric(["taken"], stats.taken)
        opportunities.add_metric(["signal"], stats.signals)
        skipped = CounterMetricFamily(
            "cexarb_opportunities_skipped", "Opportunities skipped, by reason", labels=["reason"]
        )
        for reason, n in sorted(stats.skipped.items()):
            skipped.add_metric([reason], n)
        pnl = GaugeMetricFamily(
            "cexarb_pnl_usdt", "PnL since the start (quote)", labels=["venue", "component"]
        )
        for v in engine.pnl_snapshot().venues.values():
            for component, value in (
                ("realized", v.realized),
                ("unrealized", v.unrealized),
                ("fees", v.fees),
                ("funding", v.funding),
                ("transfer_fees", v.transfer_fees),
                ("total", v.total),
            ):
                pnl.add_metric([v.venue, component], value)
        exposure = GaugeMetricFamily(
            "cexarb_exposure_usdt", "Notional that could be unhedged", labels=["kind"]
        )
        exposure.add_metric(["unhedged"], engine.executor.unhedged_notional)
        exposure.add_metric(["at_risk"], engine.executor.at_risk_notional)
        kill = GaugeMetricFamily("cexarb_kill_switch", "1 once the kill switch has halted trading")
        kill.add_metric([], 1.0 if engine.risk.halted else 0.0)
        f2d = _histogram(
            "cexarb_frame_to_decision_microseconds",
            "Frame read (first unprocessed book update) to decision",
            [],
        )
        _add(f2d, [], stats.frame_to_decision_hist)
        f2o = _histogram(
            "cexarb_frame_to_order_sent_microseconds", "Frame read to each leg's order request written", []
        )
        _add(f2o, [], stats.frame_to_order_sent_hist)
        rtt = _histogram("cexarb_order_round_trip_milliseconds", "Order placed to the venue's reply", [])
        _add(rtt, [], engine.executor.order_rtt_hist)
        yield from (opportunities, skipped, pnl, exposure, kill, f2d, f2o, rtt)

    def _journal(self, journal: Journal) -> Iterator[Metric]:
        st = journal.stats
        written = CounterMetricFamily("cexarb_journal_written", "Journal events written to the database")
        written.add_metric([], st.written)
        dropped = CounterMetricFamily("cexarb_journal_dropped", "Journal events dropped (queue full)")
        dropped.add_metric([], st.dropped)
        spooling = GaugeMetricFamily(
            "cexarb_journal_spooling", "1 while the database is away and events spool"
        )
        spooling.add_metric([], 1.0 if st.spooling else 0.0)
        queued = GaugeMetricFamily("cexarb_journal_queued", "Journal events waiting for the writer")
        queued.add_metric([], journal.queued)
        yield from (written, dropped, spooling, queued)


class MetricsServer:
    """GET /metrics on the event loop (aiohttp), from its own registry."""

    def __init__(self, engine: ArbEngine, *, journal: Journal | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(EngineCollector(engine, journal))
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> int:
        """Listen on host:port (0: any free port); returns the port."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
