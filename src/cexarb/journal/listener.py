"""Journals a composite's order state changes and fills, as a private listener.

Registered with `venue.add_private_listener(JournalListener(journal, name, venue.fee_value))`:
the composite calls it on the hot path after applying each update, so it only wraps the
(immutable) model object in an event and queues it. With the composite's `fee_value`, each
fill carries its fee's quote value as the venue charged it, so a report replaying the journal
values a discount-token fee (MX, GT) as the live engine did.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cexarb.exchange.handlers import PrivateListener
from cexarb.journal.events import Fill, OrderUpdate
from cexarb.journal.writer import Recorder
from cexarb.model import Execution, Order

_now = time.time


class JournalListener(PrivateListener):
    __slots__ = ("_fee_value", "_record", "_venue")

    def __init__(
        self, journal: Recorder, venue: str, fee_value: Callable[[Execution], float | None] | None = None
    ) -> None:
        self._record = journal.record
        self._venue = venue
        self._fee_value = fee_value

    def on_order(self, order: Order) -> None:
        self._record(OrderUpdate(ts=_now(), venue=self._venue, order=order))

    def on_execution(self, execution: Execution) -> None:
        value = self._fee_value(execution) if self._fee_value is not None else None
        self._record(Fill(ts=_now(), venue=self._venue, fill=execution, fee_value=value))
