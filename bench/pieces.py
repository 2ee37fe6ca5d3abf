"""`--only pieces`: where an order event's (and a Gate book diff's) time goes, stage by stage.

The hot-path order and book rows time the whole callable the transport is given. Here the same
frames go through each stage on its own, through the same entry points those rows use:

- frame read: the compiled reader alone (`_gatewire.read` with the stream's compiled channel
  specs, which makes the Gate `Order`s itself; MEXC `_pushwire.decode`), frame bytes ->
  `Order`s (Gate) / field tuple (MEXC);
- codec: MEXC's field tuple -> `Order` (`PushDecoder._wire_order`);
- tracker: `OrderTracker.apply` alone on those Orders;
- composite: `_handle_order` (tracker apply, pending adoption, listener fan-out);
- full: the transport's `on_message` callable, as in the hot-path row.

A Gate book diff (the hot-path book rows' frames, 10 and 50 levels): frame read; codec
(`spot_book_diff_from_msg`, message -> `BookDiff`); book apply (`L2Book.apply`: both ladders,
no sequence check); composite (`_handle_book_diff`: sequence check, apply, listener); full.

A stage whose call takes a second argument (the reader's channel specs, `adopt=False`) is
called through a lambda, whose call its figure includes. Every stage that
keeps state (tracker, composite, full) has a composite of its own fed the same lifecycles in
order; stages are timed chunk by chunk in turn so all see the same load.
What the full path costs beyond read (+ codec) + composite is the routing and calls between them.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import frames
from bench.harness import Report, Row, _overhead, percentile
from bench.hotpath import (
    BTC,
    Sizes,
    _gate_futures_private,
    _gate_public,
    _gate_spot_private,
    _mexc_private,
    _placed,
)
from cexarb.venues.gateio import codec, ws_common
from cexarb.venues.mexc import push_codec

Stage = tuple[str, Callable[[Any], object], Sequence[Any]]


def time_stages_us(stages: list[Stage], warmup: int, chunks: int = 20) -> list[tuple[float, float, int]]:
    """(median us, p99 us, samples) per stage: each stage's `fn` called on each of its inputs
    in order (the first `warmup` untimed), the stages taking turns chunk by chunk."""
    for _, fn, inputs in stages:
        for item in inputs[:warmup]:
            fn(item)
    total = min(len(inputs) for _, _, inputs in stages) - warmup
    size = max(1, total // chunks)
    clock = time.perf_counter_ns
    overhead = _overhead()
    samples: list[list[int]] = [[] for _ in stages]
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for start in range(warmup, warmup + total, size):
            for (_, fn, inputs), out in zip(stages, samples, strict=True):
                for item in inputs[start : min(start + size, warmup + total)]:
                    t0 = clock()
                    fn(item)
                    out.append(clock() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    stats = []
    for ns in samples:
        us = [max(0.0, x - overhead) / 1000.0 for x in ns]
        stats.append((statistics.median(us), percentile(us, 0.99), len(us)))
    return stats


def _gate_stages(make, frames_in: list[str], n_orders: int) -> list[Stage]:
    """Stages of a Gate order channel (the reader makes the Orders: no codec stage)."""
    ex_full, on_message, _ = make()
    ex_handle, _, _ = make()
    ex_track, _, _ = make()
    ids = [f"t-bench{i:09d}" for i in range(n_orders)]
    for ex in (ex_full, ex_handle, ex_track):
        _placed(ex, ids)
    for data in frames_in[:1]:
        on_message(data)  # futures: the contract size is cached on the first push (Python path)
    gate_ws = on_message.__self__
    reader = gate_ws.wire_reader
    wire_read = ws_common._wire_read
    orders = []
    for data in frames_in:
        _, items = wire_read(data, reader)
        (order,) = items
        orders.append(order)
    return [
        ("frame read -> Order (_gatewire.read)", lambda data: wire_read(data, reader), frames_in),
        ("tracker.apply", lambda o, apply=ex_track._tracker.apply: apply(o, adopt=False), orders),
        ("composite _handle_order", ex_handle._handle_order, orders),
        ("full GateWs.on_message", on_message, frames_in),
    ]


def _mexc_stages(frames_in: list[bytes], n_orders: int) -> list[Stage]:
    (ex_full, on_message, _), (ex_handle, _, _), (ex_track, _, _) = (_mexc_private() for _ in range(3))
    ids = [f"bench{i:09d}" for i in range(n_orders)]
    for ex in (ex_full, ex_handle, ex_track):
        _placed(ex, ids)
    wire = push_codec.wire_decode
    decoder = on_message.__self__._decoder
    fasts = [wire(data) for data in frames_in]
    orders = [decoder._wire_order(fast) for fast in fasts]
    return [
        ("frame read (_pushwire.decode)", wire, frames_in),
        ("codec -> Order (_wire_order)", decoder._wire_order, fasts),
        ("tracker.apply", lambda o, apply=ex_track._tracker.apply: apply(o, adopt=False), orders),
        ("composite _handle_order", ex_handle._handle_order, orders),
        ("full MexcSpotPrivateWs._on_message", on_message, frames_in),
    ]


def _gate_book_stages(script: frames.BookScript) -> list[Stage]:
    """Stages of Gate spot.order_book_update frames; each stateful stage has a composite of its
    own, synced to the script's snapshot, that every diff reaches once and in order."""
    (ex_full, on_message, _), (ex_handle, _, _), (ex_apply, _, _) = (_gate_public(script) for _ in range(3))
    reader, wire_read = on_message.__self__.wire_reader, ws_common._wire_read
    msgs = [wire_read(data, reader)[1] for data in script.frames]
    diffs = [codec.spot_book_diff_from_msg(msg) for msg in msgs]
    return [
        ("frame read (_gatewire.read)", lambda data: wire_read(data, reader), script.frames),
        ("codec -> BookDiff (spot_book_diff_from_msg)", codec.spot_book_diff_from_msg, msgs),
        ("book apply (L2Book.apply)", ex_apply._books[BTC].book.apply, diffs),
        ("composite _handle_book_diff", ex_handle._handle_book_diff, diffs),
        ("full GateWs.on_message", on_message, script.frames),
    ]


def book_pieces(report: Report, quick: bool) -> None:
    n = Sizes.of(quick).book_frames
    for levels in (10, 50):
        script = frames.gate_book_updates(n, levels)
        stages = _gate_book_stages(script)
        stats = time_stages_us(stages, n // 10)
        medians = {}
        for (stage, _, _), (med, p99, samples) in zip(stages, stats, strict=True):
            medians[stage] = med
            name = f"book piece: Gate spot.order_book_update, {levels} levels: {stage}"
            report.add(Row(name, "us", med, p99, samples, per_level=med / levels))
        parts = [m for s, m in medians.items() if not s.startswith(("full", "book apply"))]
        full = medians["full GateWs.on_message"]
        report.rows[-1].note = (
            f"100-level book each side, {levels} levels/frame; read + codec + composite = "
            f"{sum(parts):.2f} us, routing and calls the other {full - sum(parts):.2f} us of the full path"
        )


def run(report: Report, quick: bool) -> None:
    if ws_common._gatewire is None or push_codec.wire_decode is None:
        # --pure (or no compiler): the stages below time the compiled readers on their own.
        report.add(
            Row(
                "order and book pieces", "us", 0.0, None, 0, note="skipped: compiled frame readers not in use"
            )
        )
        return
    n = Sizes.of(quick).orders
    cases = [
        ("Gate spot.orders", _gate_stages(_gate_spot_private, frames.gate_spot_orders(n), n)),
        ("Gate futures.orders", _gate_stages(_gate_futures_private, frames.gate_futures_orders(n), n)),
        ("MEXC private.orders", _mexc_stages(frames.mexc_orders(n), n)),
    ]
    for title, stages in cases:
        warm = min(3 * n // 10, 3000)
        stats = time_stages_us(stages, warm)
        medians = {}
        for (stage, _, _), (med, p99, samples) in zip(stages, stats, strict=True):
            medians[stage] = med
            report.add(Row(f"order piece: {title}: {stage}", "us", med, p99, samples))
        parts = [m for s, m in medians.items() if not s.startswith(("full", "tracker"))]
        full = next(m for s, m in medians.items() if s.startswith("full"))
        report.rows[-1].note = (
            f"{n:,} lifecycles (3 frames each); read (+ codec) + composite = {sum(parts):.2f} us, "
            f"routing and calls the other {full - sum(parts):.2f} us of the full path"
        )
    book_pieces(report, quick)
