"""`cexarb run --sim-in-process`: the simulator shares the engine's event loop, and the summary
still checks the engine's books against the simulator's truth."""

from __future__ import annotations

import io

from rich.console import Console

from cexarb.cli.runner import RunOptions, run


async def test_run_with_the_simulator_in_process_agrees_with_truth(tmp_path):
    out = io.StringIO()
    options = RunOptions(
        duration=2.0, status_interval_s=1.0, log_file=tmp_path / "run.log", sim_in_process=True
    )
    code = await run(options, Console(file=out, width=200, force_terminal=False))
    text = out.getvalue()
    assert code == 0, text
    assert "simulator up (in this process)" in text, text
    assert "truth check: AGREE" in text, text
