"""`cexarb run` leaves a journal (SQLite by default, or PostgreSQL); `cexarb report` on it
prints per-venue totals equal to the run's own summary, in every format, and draws the chart."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cexarb.cli.main import app
from cexarb.cli.runner import RunOptions, run
from cexarb.journal.schema import LATEST_VERSION

SUMMARY_ROW = re.compile(r"^  (\w+)" + r"\s+(-?[\d.]+)" * 5 + r"\s+(\d+)$", re.M)


def run_and_summarize(tmp_path, journal: str | None) -> tuple[str, dict[str, tuple[float, ...]]]:
    out = io.StringIO()
    options = RunOptions(duration=4.0, status_interval_s=1.0, log_file=tmp_path / "run.log", journal=journal)
    code = asyncio.run(run(options, Console(file=out, width=200, force_terminal=False)))
    text = out.getvalue()
    assert code == 0, text
    assert "truth check: AGREE" in text, text
    venue_table = text.split("pnl (USDT):")[1].split("pnl by strategy:")[0]
    rows = {m[0]: tuple(map(float, m[1:])) for m in SUMMARY_ROW.findall(venue_table)}
    assert {"mexc_spot", "gateio_spot", "gateio_futures", "TOTAL"} <= set(rows), text
    return text, rows


def strategy_lines(text: str) -> dict[str, tuple[float, ...]]:
    """The run summary's "pnl by strategy" lines: name -> realized .. total, fills."""
    table = text.split("pnl by strategy:")[1].split("\n\n")[0]
    rows = {m[0]: tuple(map(float, m[1:])) for m in SUMMARY_ROW.findall(table)}
    assert {"spot_spot", "mexc_gate_basis", "other"} <= set(rows), text
    return rows


def check_strategies_match_summary(journal: str, text: str) -> dict:
    """`report --by strategy` per strategy equals the summary's lines (all columns of a named
    strategy; "other" is the rest of the total, so its total and fills)."""
    lines = strategy_lines(text)
    data = json.loads(report("--journal", journal, "--by", "strategy", "--format", "json"))
    got = data["pnl"]["strategies"]
    assert set(got) == set(lines)
    for name, (realized, unrealized, fees, funding, total, fills) in lines.items():
        if name != "other":
            assert got[name]["realized"] == pytest.approx(realized, abs=1e-4)
            assert got[name]["unrealized"] == pytest.approx(unrealized, abs=1e-4)
            assert got[name]["fees"] == pytest.approx(fees, abs=1e-4)
            assert got[name]["funding"] == pytest.approx(funding, abs=1e-4)
        assert got[name]["total"] == pytest.approx(total, abs=1e-4)
        assert got[name]["fills"] == fills
        exact = data["pnl"]["run_summary"][name]
        assert got[name]["total"] == pytest.approx(exact["total"], rel=1e-9, abs=1e-9)
    assert lines["spot_spot"][5] > 0, "the run traded spot-spot: its fills are attributed"
    assert sum(x["total"] for x in got.values()) == pytest.approx(data["pnl"]["total"]["total"], abs=1e-9)
    return data


def report(*args: str) -> str:
    result = CliRunner().invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    return result.output


def check_report_matches_summary(journal: str, summary: dict[str, tuple[float, ...]]) -> dict:
    data = json.loads(report("--journal", journal, "--format", "json"))
    venues = data["pnl"]["venues"]
    for venue, (realized, unrealized, fees, funding, total, fills) in summary.items():
        got = data["pnl"]["total"] if venue == "TOTAL" else venues[venue]
        # The summary prints 4 decimals; the run's own figures are kept exactly.
        assert got["realized"] == pytest.approx(realized, abs=1e-4)
        assert got["unrealized"] == pytest.approx(unrealized, abs=1e-4)
        assert got["fees"] == pytest.approx(fees, abs=1e-4)
        assert got["funding"] == pytest.approx(funding, abs=1e-4)
        assert got["total"] == pytest.approx(total, abs=1e-4)
        assert got["fills"] == fills
        if venue != "TOTAL":
            exact = data["pnl"]["run_summary"][venue]
            assert got["total"] == pytest.approx(exact["total"], rel=1e-9, abs=1e-9)
    assert sum(x["fills"] for x in data["fills"]) == summary["TOTAL"][5]
    assert data["decisions"].get("taken", 0) >= 1
    assert {(s["venue"], s["leg"]) for s in data["slippage"]}, "slippage per leg"
    assert data["order_rtt_ms"] and all(p["p50"] > 0 for p in data["order_rtt_ms"].values())
    (run,) = data["runs"]
    assert run["latency"]["frame_to_decision_us"]["p50"] > 0 and run["latency"]["order_rtt_ms"]["max"] > 0
    return data


def test_run_journals_to_sqlite_beside_the_log_and_report_equals_the_summary(tmp_path):
    text, summary = run_and_summarize(tmp_path, None)
    db = tmp_path / "run.journal.db"
    assert db.exists() and f"journal: sqlite:///{db} run " in text
    check_report_matches_summary(str(db), summary)
    check_strategies_match_summary(str(db), text)
    lines = strategy_lines(text)
    by_strategy = report("--journal", str(db), "--by", "strategy")
    assert re.search(
        rf"spot_spot\s.*{lines['spot_spot'][4]:.4f}\s.*{int(lines['spot_spot'][5])}\s", by_strategy
    )
    rows = list(csv.DictReader(io.StringIO(report("--journal", str(db), "--by", "strategy", "-f", "csv"))))
    (csv_spot,) = [r for r in rows if r["key"] == "spot_spot" and r["item"] == "total"]
    assert float(csv_spot["value"]) == pytest.approx(lines["spot_spot"][4], abs=1e-4)

    table = report("--journal", str(db))
    total = summary["TOTAL"]
    assert re.search(rf"TOTAL\s.*{total[4]:.4f}\s.*{int(total[5])}\s", table), table
    assert "PnL per day, venue and symbol" in table and "Order round trip" in table

    rows = list(csv.DictReader(io.StringIO(report("--journal", str(db), "--format", "csv"))))
    (csv_total,) = [r for r in rows if r["section"] == "pnl" and r["key"] == "TOTAL" and r["item"] == "total"]
    assert float(csv_total["value"]) == pytest.approx(total[4], abs=1e-4)

    chart = tmp_path / "chart.png"
    report("--journal", str(db), "--plot", str(chart))
    check_png(chart)


def check_png(path) -> None:
    import matplotlib.image

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] >= 400 and pixels.shape[1] >= 600
    colours = {tuple(p) for p in pixels[::7, ::7, :3].reshape(-1, 3).round(2).tolist()}
    assert len(colours) > 20, "the chart is blank"


def test_run_journals_to_postgresql_and_report_equals_the_summary(tmp_path, pg_url):
    text, summary = run_and_summarize(tmp_path, pg_url)
    assert "journal: postgresql://" in text and "left in spool none" in text
    data = check_report_matches_summary(pg_url, summary)
    check_strategies_match_summary(pg_url, text)
    assert len(data["runs"]) == 1
    chart = tmp_path / "pg.png"
    report("--journal", pg_url, "--plot", str(chart), "--format", "json")
    check_png(chart)


def test_no_journal_keeps_none(tmp_path):
    out = io.StringIO()
    options = RunOptions(duration=1.0, status_interval_s=1.0, log_file=tmp_path / "run.log", journal="")
    assert asyncio.run(run(options, Console(file=out, width=200))) == 0
    assert not (tmp_path / "run.journal.db").exists() and "journal:" not in out.getvalue()


def test_report_and_migrate_say_what_is_wrong(tmp_path):
    result = CliRunner().invoke(app, ["report", "--journal", str(tmp_path / "missing.db")])
    assert result.exit_code == 1 and "no journal at" in result.output
    (tmp_path / "other.db").write_bytes(b"")
    result = CliRunner().invoke(app, ["report", "--journal", str(tmp_path / "other.db")])
    assert (
        result.exit_code == 1
        and "has no journal tables" in result.output
        and "journal migrate" in result.output
    )
    result = CliRunner().invoke(app, ["journal", "migrate", "--journal", str(tmp_path / "new.db")])
    assert result.exit_code == 0 and f"schema version {LATEST_VERSION}" in result.output
    result = CliRunner().invoke(app, ["report", "--journal", str(tmp_path / "new.db")])
    assert result.exit_code == 1 and "no runs in" in result.output
    result = CliRunner().invoke(app, ["report", "--journal", "mysql://x"])
    assert result.exit_code == 1 and "unsupported journal URL" in result.output
    result = CliRunner().invoke(app, ["report", "--format", "xml"])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["report", "--by", "symbol"])
    assert result.exit_code == 2


def test_journal_migrate_on_postgresql(pg_url):
    for _ in range(2):
        result = CliRunner().invoke(app, ["journal", "migrate", "--journal", pg_url])
        assert result.exit_code == 0 and f"schema version {LATEST_VERSION}" in result.output, result.output
