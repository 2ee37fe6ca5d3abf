"""`cexarb run` stopped by Ctrl-C: the orderly stop and summary, exit 130, a log with the debug
lines asked for and no warning about the shutdown itself."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys


async def test_ctrl_c_stops_cleanly_with_exit_130_and_a_quiet_debug_log(tmp_path):
    log = tmp_path / "run.log"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cexarb",
        "run",
        "--no-journal",
        "--status-interval",
        "0.5",
        "--log-level",
        "DEBUG",
        "--log-file",
        str(log),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # Running once the first status line is out (stdout is not a terminal).
        while not (line := await asyncio.wait_for(proc.stdout.readline(), 60)).startswith(b"t="):
            assert line, "cexarb run ended before its first status line"
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 130, err.decode()
    assert b"== cexarb summary" in out
    assert b"Traceback" not in err
    levels = [entry.split()[2] for entry in log.read_text().splitlines() if entry[:2] == "20"]
    assert "DEBUG" in levels
    assert "WARNING" not in levels and "ERROR" not in levels, log.read_text()
