"""SendPathWarmer: one segment through a loopback TCP pair of its own per `warm`, read back
at once; warmth is only speed, so a pair that breaks is said once and never raises."""

from __future__ import annotations

import logging
import socket

from cexarb.transport.warmth import SendPathWarmer


def test_each_warm_sends_a_segment_over_one_pair_and_reads_it_back():
    warmer = SendPathWarmer()
    try:
        warmer.warm()
        out, back = warmer._out, warmer._in
        assert out.getpeername() == back.getsockname()  # a connected loopback pair
        assert out.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        for _ in range(100):  # never blocks, never fills: each segment is read back
            warmer.warm()
        assert (warmer._out, warmer._in) == (out, back)  # the same pair throughout
        try:
            back.recv(1)
            leftover = True
        except BlockingIOError:
            leftover = False
        assert not leftover
    finally:
        warmer.close()
    assert warmer._out is None and warmer._in is None
    warmer.close()  # idempotent


def test_a_broken_pair_is_said_once_and_warming_stops_without_raising(caplog):
    warmer = SendPathWarmer()
    warmer.warm()
    warmer._out.close()  # the pair broke under it
    with caplog.at_level(logging.WARNING, logger="cexarb.transport.warmth"):
        warmer.warm()
        warmer.warm()
    assert [r.getMessage() for r in caplog.records] == ["the kernel's send path is no longer kept warm"]
    assert warmer._out is None  # closed, not made again
