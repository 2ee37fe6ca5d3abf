"""`python -m bench [--quick] [--only NAME ...]`: every row in one table, figures in .bench/latest.json."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from bench import peers
from bench.harness import Report
from cexarb import eventloop

SECTIONS = (
    "hotpath",
    "pieces",
    "sim",
    "ticktotrade",
    "floors",
    "reflex",
    "segments",
    "ws",
    "memory",
    "fleet",
)


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu or platform.processor(),
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "ccxt": peers.VERSION or "not installed",
        "peer_json": peers.JSON_DECODER,
        "loop": eventloop.loop_name(),
    }


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ops/s":
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(report: Report, info: dict[str, str], command: str, seconds: float) -> str:
    head = ("row", "unit", "median", "p99", "n", "peer median", "ratio", "per level (peer)", "goal")
    lines = []
    for r in report.rows:
        ratio = r.ratio
        per_level = ""
        if r.per_level is not None:
            per_level = f"{r.per_level:.3f}"
            if r.peer_per_level is not None:
                per_level += f" ({r.peer_per_level:.3f})"
        lines.append(
            (
                r.name,
                r.unit,
                _num(r.median, r.unit),
                _num(r.p99, r.unit),
                f"{r.samples:,}",
                _num(r.peer_median, r.unit),
                f"{ratio:.1f}x" if ratio is not None else "",
                per_level,
                r.goal,
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(head)]

    def fmt(cells) -> str:
        out = []
        for i, cell in enumerate(cells):
            out.append(cell.ljust(widths[i]) if i in (0, 1, 8) else cell.rjust(widths[i]))
        return "| " + " | ".join(out) + " |"

    text = [fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    text += [fmt(line) for line in lines]
    notes = [
        f"- {r.name}: {r.peer + '; ' if r.peer else ''}{r.note}" for r in report.rows if r.note or r.peer
    ]
    return "\n".join(
        [
            f"cexarb bench: `{command}` in {seconds:.0f} s on {info['nproc']} x {info['cpu']}, "
            f"Python {info['python']}, ccxt {info['ccxt']} (peer JSON: {info['peer_json']}), "
            f"default event loop {info['loop']}",
            "",
            *text,
            "",
            *notes,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples (under 45 s)")
    parser.add_argument("--only", nargs="*", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--json", default=".bench/latest.json", help="where to write the figures")
    parser.add_argument(
        "--pure",
        action="store_true",
        help="run with the pure-Python fallbacks of the C extensions (book ladder, MEXC push reader, "
        "Gate frame reader): "
        "what a machine without a compiler gets",
    )
    parser.add_argument(
        "--loop",
        choices=("default", "uvloop", "asyncio", "both"),
        default="default",
        help="event loop of the rows that run one (sim): cexarb's default, one of them, or both "
        "(each such row twice, tagged). The hot-path and memory rows run no loop.",
    )
    args = parser.parse_args(argv)
    sections = args.only or list(SECTIONS)
    if args.pure:
        from cexarb.exchange import book
        from cexarb.venues.gateio import ws_common
        from cexarb.venues.mexc import push_codec

        book.Ladder = book.PyLadder
        push_codec.wire_decode = None
        ws_common._gatewire = None
    command = (
        "python -m bench"
        + (" --quick" if args.quick else "")
        + (" --pure" if args.pure else "")
        + (f" --loop {args.loop}" if args.loop != "default" else "")
    )
    report = Report()
    started = time.monotonic()
    if "hotpath" in sections:
        from bench import hotpath

        hotpath.run(report, args.quick)
    if "pieces" in sections:
        from bench import pieces

        pieces.run(report, args.quick)
    if "sim" in sections:
        from bench import simrows

        loops = {"default": [None], "both": ["asyncio", "uvloop"]}.get(args.loop, [args.loop])
        for loop in loops:
            first = len(report.rows)
            simrows.run(report, args.quick, loop)
            if args.loop == "both":
                for row in report.rows[first:]:
                    row.name += f" [{loop}]"
    if "ticktotrade" in sections:
        from bench import ticktotrade

        loops = {"default": [None], "both": ["asyncio", "uvloop"]}.get(args.loop, [args.loop])
        for loop in loops:
            first = len(report.rows)
            ticktotrade.run(report, args.quick, loop)
            if args.loop == "both":
                for row in report.rows[first:]:
                    row.name += f" [{loop}]"
    if "floors" in sections:
        from bench import floors

        floors.run(report, args.quick)
    if "segments" in sections:
        from bench import segments

        segments.run(report, args.quick)
    if "reflex" in sections:
        from bench import reflex

        reflex.run(report, args.quick)
    if "ws" in sections:
        from bench import wsclients

        wsclients.run(report, args.quick)
    if "memory" in sections:
        from bench import memory

        memory.run(report, args.quick)
    if "fleet" in sections:
        from bench import fleet

        fleet.run(report, args.quick)
    seconds = time.monotonic() - started
    info = machine()
    print(render(report, info, command, seconds))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"command": command, "seconds": round(seconds, 1), "machine": info, "rows": report.as_json()},
            indent=2,
        )
    )
    print(f"\nfigures written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
