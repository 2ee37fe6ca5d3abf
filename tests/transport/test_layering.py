"""The transport sits below the composite layer: it must not import cexarb.exchange."""

import os
import subprocess
import sys
from pathlib import Path

import cexarb
from cexarb.exchange import interfaces
from cexarb.transport import StreamStats, WsClient


def test_transport_imports_nothing_from_the_exchange_layer():
    probe = (
        "import sys, cexarb.transport; "
        "print(sorted(m for m in sys.modules if m.startswith('cexarb.exchange')))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(cexarb.__file__).parents[1])}  # this very tree
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


def test_stream_stats_is_one_class_under_both_names():
    assert interfaces.StreamStats is StreamStats
    assert isinstance(WsClient("t", "ws://127.0.0.1:1/", on_message=print).stats, interfaces.StreamStats)
