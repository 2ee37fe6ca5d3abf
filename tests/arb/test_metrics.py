"""`cexarb run --metrics-port`: Prometheus scrapes a running engine over HTTP and reads every
family docs/operations.md names, with values that move as the engine trades."""

from __future__ import annotations

import asyncio
import io
import re

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from cexarb.cli.runner import RunOptions, run
from cexarb.transport.stats import LatencyHistogram
from tests.support import eventually

FAMILIES = {
    "cexarb_ws_frames": "counter",
    "cexarb_ws_bad_frames": "counter",
    "cexarb_ws_reconnects": "counter",
    "cexarb_rest_requests": "counter",
    "cexarb_rest_429": "counter",
    "cexarb_orders": "counter",
    "cexarb_fills": "counter",
    "cexarb_sweeps": "counter",
    "cexarb_opportunities": "counter",
    "cexarb_opportunities_skipped": "counter",
    "cexarb_connection_up": "gauge",
    "cexarb_book_age_seconds": "gauge",
    "cexarb_pnl_usdt": "gauge",
    "cexarb_exposure_usdt": "gauge",
    "cexarb_rate_limit_budget_left": "gauge",
    "cexarb_kill_switch": "gauge",
    "cexarb_journal_spooling": "gauge",
    "cexarb_frame_to_decision_microseconds": "histogram",
    "cexarb_frame_to_order_sent_microseconds": "histogram",
    "cexarb_order_round_trip_milliseconds": "histogram",
    "cexarb_rest_latency_milliseconds": "histogram",
}


def samples(text: str) -> dict[str, list]:
    return {f.name: (f.type, f.samples) for f in text_string_to_metric_families(text)}


def value(families, family: str, sample: str, **labels) -> float:
    _, rows = families[family]
    return sum(
        s.value for s in rows if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def test_metrics_are_scraped_during_a_run(tmp_path):
    out = io.StringIO()
    options = RunOptions(duration=120.0, status_interval_s=5.0, log_file=tmp_path / "run.log", metrics_port=0)
    running = asyncio.create_task(run(options, Console(file=out, width=200, force_terminal=False)))
    try:
        # Generous: a loaded 2-core box starts slowly.
        assert await eventually(
            lambda: running.done() or "metrics: http" in out.getvalue(), timeout=90, what="the metrics URL"
        )
        assert not running.done(), out.getvalue()
        url = re.search(r"metrics: (http://\S+)", out.getvalue()).group(1)
        families: dict[str, list] = {}
        async with aiohttp.ClientSession() as http:

            async def traded() -> bool:
                """Scrape once: has the engine traded and does the scrape show it?"""
                nonlocal families
                async with http.get(url) as reply:
                    assert reply.status == 200 and reply.content_type == "text/plain"
                    families = samples(await reply.text())
                # Fills land while an execution runs; it counts as taken once it has finished.
                fills = value(families, "cexarb_fills", "cexarb_fills_total")
                taken = value(families, "cexarb_opportunities", "cexarb_opportunities_total", action="taken")
                return fills >= 2 and taken >= 1

            assert await eventually(traded, timeout=90, interval=0.1, what="fills in the metrics")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    for name, kind in FAMILIES.items():
        assert families[name][0] == kind, name
    venues = ("mexc_spot", "gateio_spot", "gateio_futures")
    for venue in venues:
        assert (
            value(families, "cexarb_ws_frames", "cexarb_ws_frames_total", venue=venue, channel="public") > 0
        )
        assert (
            value(
                families, "cexarb_connection_up", "cexarb_connection_up", venue=venue, connection="public_ws"
            )
            == 1
        )
        assert (
            value(
                families,
                "cexarb_rest_latency_milliseconds",
                "cexarb_rest_latency_milliseconds_count",
                venue=venue,
            )
            > 0
        )
        budget = value(
            families, "cexarb_rate_limit_budget_left", "cexarb_rate_limit_budget_left", venue=venue
        )
        assert budget > 0
    assert value(families, "cexarb_opportunities", "cexarb_opportunities_total", action="taken") >= 1
    assert value(families, "cexarb_orders", "cexarb_orders_total") >= 1
    assert (
        value(families, "cexarb_order_round_trip_milliseconds", "cexarb_order_round_trip_milliseconds_count")
        >= 1
    )
    f2d = value(
        families, "cexarb_frame_to_decision_microseconds", "cexarb_frame_to_decision_microseconds_count"
    )
    assert f2d >= 1
    assert value(families, "cexarb_kill_switch", "cexarb_kill_switch") == 0


def test_latency_histogram_counts_at_or_below_each_bound():
    h = LatencyHistogram((1, 10))
    for v in (0.5, 1, 1.5, 10, 11, 1000):
        h.observe(v)
    assert h.cumulative() == [("1", 2), ("10", 4), ("+Inf", 6)]
    assert h.count == 6 and h.sum == 1024.0
