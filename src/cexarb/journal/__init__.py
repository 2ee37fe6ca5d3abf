"""The record of what a run did, kept in a real database (SQLite or PostgreSQL).

Producers call `journal.record(event)` with an event from `cexarb.journal.events`;
the `Journal` writes batches off the hot path and spools while the database is away.
"""

from cexarb.journal.events import (
    DecisionMade,
    Event,
    Fill,
    FundingBooked,
    LegDone,
    OrderUpdate,
    RiskEvent,
    RunEnded,
    RunStarted,
    Snapshot,
    TransferBooked,
)
from cexarb.journal.listener import JournalListener
from cexarb.journal.writer import Journal, JournalStats, Recorder, new_run_id

__all__ = [
    "DecisionMade",
    "Event",
    "Fill",
    "FundingBooked",
    "Journal",
    "JournalListener",
    "JournalStats",
    "LegDone",
    "OrderUpdate",
    "Recorder",
    "RiskEvent",
    "RunEnded",
    "RunStarted",
    "Snapshot",
    "TransferBooked",
    "new_run_id",
]
