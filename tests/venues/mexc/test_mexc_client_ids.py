"""MEXC client order ids: 26 characters of [a-z0-9], unique, not repeated by a fork or by a
caller seeding the `random` module."""

from __future__ import annotations

import os
import random
import re

from cexarb.config import Market, Secret, Venue, VenueConfig
from cexarb.venues.mexc import MexcSpotPrivateRest

_LEGAL = re.compile(r"cx[0-9a-f]{24}").fullmatch


def _rest() -> MexcSpotPrivateRest:
    config = VenueConfig(
        venue=Venue.MEXC,
        market=Market.SPOT,
        rest_url="http://127.0.0.1:1",
        ws_url="ws://127.0.0.1:1/ws",
        api_key=Secret("k"),
        api_secret=Secret("s"),
    )
    return MexcSpotPrivateRest(config, {})


def test_ids_are_legal_and_unique():
    rest = _rest()
    ids = [rest.new_client_order_id() for _ in range(50_000)]
    assert len(set(ids)) == len(ids)
    assert all(_LEGAL(cid) for cid in ids)


def test_seeding_the_random_module_does_not_repeat_ids():
    rest = _rest()
    random.seed(7)
    first = rest.new_client_order_id()
    random.seed(7)
    assert rest.new_client_order_id() != first


def test_a_forked_child_draws_other_ids_than_its_parent():
    rest = _rest()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send one id, leave without running the parent's cleanup
        os.write(write, rest.new_client_order_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    # the parent's next id is what the child would draw with the parent's generator state
    assert _LEGAL(child) and child != rest.new_client_order_id()
