"""Journals a composite's order state changes and fills, as a private listener.

Registered with `venue.add_private_listener(JournalListener(journal, name))`: the
composite calls it on the hot path after applying each update, so it only wraps the
(immutable) model object in an event and queues it.
"""

from __future__ import annotations

import time

from cexarb.exchange.handlers import PrivateListener
from cexarb.journal.events import Fill, OrderUpdate
from cexarb.journal.writer import Recorder
from cexarb.model import Execution, Order

_now = time.time


class JournalListener(PrivateListener):
    __slots__ = ("_record", "_venue")

    def __init__(self, journal: Recorder, venue: str) -> None:
        self._record = journal.record
        self._venue = venue

    def on_order(self, order: Order) -> None:
        self._record(OrderUpdate(ts=_now(), venue=self._venue, order=order))

    def on_execution(self, execution: Execution) -> None:
        self._record(Fill(ts=_now(), venue=self._venue, fill=execution))
