"""`--only segments`: where the reflex's time goes, stage by stage, in the tick-to-trade setup.

The tick-to-trade row's setup (bench/ticktotrade.py: the simulator in its own process opens a
Gate/MEXC crossing every 250 ms), with the ccxt.pro peer trading first for the ratio, then
cexarb's engine kept warm continuously (the row's fastest engine) in a process of its own. In that
process only, wrappers stamp each crossing's reflex at the boundaries of its stages, on the
clock the frames are stamped with (`ticks.frame_ns`):

- frame read -> reflex entered: the frame's own handling (codec, book, the composite's
  listeners) up to `ArbEngine.mark_dirty`;
- reflex entered -> decided: the prepared decision (`ArmedDecisions.decide`) returned a trade;
- decided -> reserved: the fleet's reservation checked (`FleetGuard.check_now`; booked once
  both orders are written);
- reserved -> first order written, first -> second order written: the order lane, each
  request built, signed and sent to the socket (`ticks.request_written`, right after the
  send); both are tracked once the second is sent.

The library itself carries no such stamps (they would cost the reflex they measure). One more
row bounds what a faster order lane alone could give: frame read -> reserved, the p50 the
engine would have if both orders then cost nothing, against the peer.
"""

from __future__ import annotations

import itertools
import multiprocessing
import statistics
import time

from bench import peers
from bench.harness import Report, Row, percentile
from bench.ticktotrade import _bot_main, _bot_process, _Child, _sim_process, bring_up, give_core
from cexarb import eventloop
from cexarb.arb import armed, engine, fleet
from cexarb.transport import ticks

BOT = "cexarb-continuous"
STAGES = ("frame", "entered", "decided", "reserved", "first", "second")
_NAMES = {
    "entered": "frame read -> reflex entered (codec, book, listeners)",
    "decided": "reflex entered -> decided (the prepared decision)",
    "reserved": "decided -> reserved (the fleet's reservation)",
    "first": "reserved -> first order written (the order lane)",
    "second": "first -> second order written (the order lane)",
}


class _Stamps:
    """Wrappers around the reflex's stage boundaries, recording one dict of stage -> ns per
    crossing that reached its second order."""

    def __init__(self) -> None:
        self.records: list[dict[str, int]] = []
        self._current: dict[str, int] | None = None

    def install(self) -> None:
        clock = time.perf_counter_ns
        mark_dirty, decide = engine.ArbEngine.mark_dirty, armed.ArmedDecisions.decide
        check_now, written = fleet.FleetGuard.check_now, ticks.request_written

        def stamped_mark_dirty(eng, symbol):
            if eng.trade and self._current is None:
                self._current = {"frame": ticks.frame_ns, "entered": clock()}
            mark_dirty(eng, symbol)
            if self._current is not None and "second" not in self._current:
                self._current = None  # no trade from this book change

        def stamped_decide(decisions, symbol, lifted=None):
            chosen = decide(decisions, symbol, lifted)
            if lifted is None and chosen is not None and self._current is not None:
                self._current["decided"] = clock()
            return chosen

        def stamped_check_now(guard, opp):
            answer = check_now(guard, opp)
            if self._current is not None:
                self._current["reserved"] = clock()
            return answer

        def stamped_written():
            written()
            current = self._current
            if current is not None and "reserved" in current:
                if "first" not in current:
                    current["first"] = clock()
                else:
                    current["second"] = clock()
                    self.records.append(current)
                    self._current = None

        engine.ArbEngine.mark_dirty = stamped_mark_dirty
        armed.ArmedDecisions.decide = stamped_decide
        fleet.FleetGuard.check_now = stamped_check_now
        ticks.request_written = stamped_written  # transport.wire calls it through the module


def _stamped_bot_process(conn, config, loop: str, out) -> None:
    """The continuous engine's bot (ticktotrade's), its reflex stamped; the records go to `out`."""
    stamps = _Stamps()
    stamps.install()
    try:
        eventloop.run(_bot_main(conn, BOT, config), loop)
    finally:
        out.send(stamps.records)


async def _measure(report: Report, quick: bool) -> None:
    loop_name = eventloop.loop_name()
    events, interval_s = (20, 0.25) if quick else (100, 0.25)
    children: list[_Child] = []
    peer_f2o: list[float] = []
    try:
        sim = _Child(_sim_process, loop_name)
        children.append(sim)
        configs = await sim.recv()
        bots = {}
        if peers.AVAILABLE:
            bots["ccxt"] = _Child(_bot_process, "ccxt", configs["ccxt"], loop_name)
        records_in, records_out = multiprocessing.get_context("spawn").Pipe(duplex=False)
        bots[BOT] = _Child(_stamped_bot_process, configs[BOT], loop_name, records_out)
        records_out.close()  # the child's end only: its exit without sending is an EOF here
        children += bots.values()
        await bring_up(sim, bots)
        for name, bot in bots.items():
            give_core(bot, children)
            await bot.ask(("arm", True))
            await sim.ask(("run", name, events, interval_s))
            await bot.ask(("arm", False))
        if "ccxt" in bots:
            peer_f2o = (await bots["ccxt"].ask(("stats",)))["f2o"]
        engine_f2o = (await bots[BOT].ask(("stats",)))["f2o"]
        bots[BOT].stop()
        if not records_in.poll(5):
            raise RuntimeError("segments: the engine's process ended without sending its stamps")
        records = records_in.recv()
    finally:
        for child in reversed(children):
            child.stop()
    if not records:
        raise RuntimeError(f"segments: no crossing reached a second order ({len(engine_f2o)} orders stamped)")
    setup = (
        f"{len(records)} crossings, one every {interval_s * 1000:.0f} ms; the simulator, the engine and "
        "the peer (connected, not trading) each in a process of its own"
    )
    for before, stage in itertools.pairwise(STAGES):
        took = [(r[stage] - r[before]) / 1e3 for r in records]
        report.add(
            Row(
                f"reflex segment, kept warm continuously: {_NAMES[stage]}",
                "us",
                statistics.median(took),
                percentile(took, 0.99),
                len(took),
                note=setup,
            )
        )
    rows = (
        ("frame read -> order request written, per order (the tick-to-trade row's)", engine_f2o),
        (
            "frame read -> reserved (the p50 if both orders then cost nothing)",
            [(r["reserved"] - r["frame"]) / 1e3 for r in records],
        ),
    )
    for name, values in rows:
        row = Row(
            f"reflex segment, kept warm continuously: {name}",
            "us",
            statistics.median(values),
            percentile(values, 0.99),
            len(values),
            note=setup,
        )
        if peer_f2o:
            row.peer = "the ccxt.pro bot of the tick-to-trade row, same run, per order"
            row.peer_median, row.peer_p99 = statistics.median(peer_f2o), percentile(peer_f2o, 0.99)
        report.add(row)


def run(report: Report, quick: bool) -> None:
    """The reflex's segment rows, on cexarb's default event loop."""
    eventloop.run(_measure(report, quick))
