"""Gate client order ids: Gate-legal, unique within a process, and not shared by a fork."""

from __future__ import annotations

import os

from cexarb.venues.gateio.symbols import _base36, _ms_text, check_client_order_id, new_client_order_id


def test_ids_are_gate_legal_and_unique_within_a_process():
    ids = [new_client_order_id() for _ in range(50_000)]
    assert len(set(ids)) == len(ids)
    for cid in ids[::997]:
        assert check_client_order_id(cid) == cid
        assert cid.startswith("t-") and len(cid) <= 28


def test_a_forked_child_draws_its_own_tag():
    parent = new_client_order_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send one id, leave without running the parent's cleanup
        os.write(write, new_client_order_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    # the last six characters are the process's tag: a child sharing the parent's counter
    # state must not share its tag too
    assert check_client_order_id(child) == child
    assert child[-6:] != parent[-6:]


def test_the_time_part_is_the_base36_of_the_millisecond_at_every_width():
    # Written with four pair look-ups for this era's 8-digit times, the loop otherwise.
    edges = [36**7 - 1, 36**7, 36**7 + 1, 1_700_000_000_123, 36**8 - 1, 36**8, 36**9 + 5, 0, 35, 36]
    spread = range(36**7, 36**8, 36**8 // 997)
    for ms in [*edges, *spread]:
        assert _ms_text(ms) == _base36(ms)
