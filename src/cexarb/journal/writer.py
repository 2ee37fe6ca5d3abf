"""The journal writer: `record(event)` on the hot path, batched writes in a background task.

`record` appends to a list and returns (a few hundred ns; see the bench row). A
drainer task wakes every `flush_interval_s`, or at once when a batch is full,
numbers the events (run_id, seq) and writes the batch in one transaction. When the
database is unreachable the batch is appended to the spool file instead, and every
later batch follows it there, so order is kept; every `retry_s` the drainer replays
the spool and, once all of it is written, deletes it. Rows are keyed, so a batch
written twice (the ack lost, then replayed) is one set of rows: nothing lost,
nothing twice.

The queue is bounded: if the drainer falls `max_queue` events behind (it cannot
while the spool works; it writes a local file) further events are counted in
`dropped` and logged once, never allowed to grow the process without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cexarb.journal.backends import Backend, open_backend
from cexarb.journal.events import Event
from cexarb.journal.spool import Spool
from cexarb.logs import log_kv
from cexarb.model.errors import JournalUnavailable

log = logging.getLogger("cexarb.journal")


class Recorder(Protocol):
    """What a producer (the engine, a listener, a stream follower) needs from a journal."""

    def record(self, event: Event) -> None: ...


def new_run_id() -> str:
    """Sortable by start time, unique across hosts."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


@dataclass(slots=True)
class JournalStats:
    delivered: int = 0  # taken from the queue and written or spooled
    written: int = 0
    spooled: int = 0
    replayed: int = 0
    dropped: int = 0
    batches: int = 0
    write_errors: int = 0
    spooling: bool = False
    last_error: str = ""


class Journal:
    def __init__(
        self,
        backend: Backend,
        *,
        run_id: str | None = None,
        spool_path: Path | None = None,
        batch_size: int = 1000,
        flush_interval_s: float = 0.2,
        retry_s: float = 1.0,
        max_queue: int = 200_000,
    ) -> None:
        self.backend = backend
        self.run_id = run_id or new_run_id()
        self.spool = Spool(spool_path or Path("cexarb-journal.spool"))
        self.stats = JournalStats()
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._retry_s = retry_s
        self._max_queue = max_queue
        self._queue: list[Event] = []
        self._seq = itertools.count(1)
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task | None = None
        self._next_retry = 0.0
        # Events the drainer has taken from the queue and not yet delivered.
        self._in_hand = 0

    @classmethod
    def open(cls, url: str, **kwargs) -> Journal:
        """A journal on `url` (file path, sqlite:///..., postgresql://...); call `start()` next."""
        return cls(open_backend(url), **kwargs)

    # -- producer side (hot path) -----------------------------------------------------------
    def record(self, event: Event) -> None:
        """Queue one event; never blocks, never raises."""
        queue = self._queue
        if len(queue) >= self._max_queue:
            self._drop()
            return
        queue.append(event)
        if len(queue) == self._batch_size:
            self._wake.set()

    def _drop(self) -> None:
        self.stats.dropped += 1
        if self.stats.dropped == 1:
            log_kv(log, logging.ERROR, "journal_dropping", queued=len(self._queue), backend=self.backend.url)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and migrate; if the database is away, start spooling (the run goes on)."""
        try:
            await self.backend.connect()
            await self.backend.migrate()
        except JournalUnavailable as exc:
            self._unavailable(exc)
        self._task = asyncio.create_task(self._drain(), name="journal-drain")

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def draining(self) -> bool:
        """True while the drainer task runs (from start until close, or until it is cancelled)."""
        return self._task is not None and not self._task.done()

    async def flush(self) -> None:
        """Wait until everything recorded so far is written or spooled."""
        target = self.stats.delivered + self._in_hand + len(self._queue)
        while self.stats.delivered < target and self.draining:
            self._progress.clear()
            self._wake.set()
            await self._progress.wait()

    async def close(self, *, replay_timeout_s: float = 5.0) -> None:
        """Write what is queued (or spool it), try once more to empty the spool, disconnect."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self.spool.pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._replay(), replay_timeout_s)
        await self.backend.close()
        log_kv(
            log,
            logging.INFO,
            "journal_closed",
            backend=self.backend.url,
            run_id=self.run_id,
            written=self.stats.written,
            spooled_left=self.spool.pending,
            dropped=self.stats.dropped,
        )

    # -- drainer ----------------------------------------------------------------------------
    async def _drain(self) -> None:
        try:
            await self._drain_loop()
        finally:
            self._progress.set()  # a flush() waiting on a writer that ended must not hang

    async def _drain_loop(self) -> None:
        while True:
            if not self._queue:
                if self._closing:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._flush_interval_s)
                self._wake.clear()
            batch, self._queue = self._queue, []
            if batch:
                self._in_hand = len(batch)
                self._number(batch)
                await self._deliver(batch)
                self.stats.delivered += len(batch)
                self._in_hand = 0
                self._progress.set()
            elif self.spool.pending and time.monotonic() >= self._next_retry:
                await self._replay()

    def _number(self, batch: list[Event]) -> None:
        run_id, seq = self.run_id, self._seq
        for ev in batch:
            if not ev.run_id:
                ev.run_id = run_id
            if not ev.seq:
                ev.seq = next(seq)
            if not ev.ts:
                ev.ts = time.time()

    async def _deliver(self, batch: list[Event]) -> None:
        self.stats.batches += 1
        if self.spool.pending and time.monotonic() >= self._next_retry:
            await self._replay()
        if not self.spool.pending:
            try:
                await self.backend.write(batch)
                self.stats.written += len(batch)
                return
            except Exception as exc:
                self._unavailable(exc)
        try:
            await asyncio.to_thread(self.spool.append, batch)
        except OSError as exc:
            # Neither the database nor the local disk takes it: count the loss, say so, go on.
            self.stats.dropped += len(batch)
            log_kv(
                log, logging.ERROR, "journal_lost", events=len(batch), spool=self.spool.path, error=repr(exc)
            )
            return
        self.stats.spooled += len(batch)

    async def _replay(self) -> None:
        """Write every spooled batch, then delete the spool; stop at the first failure."""
        try:
            batches = await asyncio.to_thread(self.spool.read)
            for batch in batches:
                await self.backend.write(batch)
        except Exception as exc:
            self._unavailable(exc)
            return
        await asyncio.to_thread(self.spool.clear)
        replayed = sum(map(len, batches))
        self.stats.replayed += replayed
        self.stats.written += replayed
        if self.stats.spooling:
            self.stats.spooling = False
            log_kv(
                log,
                logging.WARNING,
                "journal_recovered",
                backend=self.backend.url,
                replayed=self.stats.replayed,
            )

    def _unavailable(self, exc: Exception) -> None:
        """The batch could not be written: spool it. A lost database is expected; anything
        else is a bug, logged with its traceback, and the batch still waits in the spool."""
        if not isinstance(exc, JournalUnavailable):
            log.error("journal write failed: %r (batch kept in %s)", exc, self.spool.path, exc_info=exc)
        self.stats.write_errors += 1
        self.stats.last_error = str(exc)
        self._next_retry = time.monotonic() + self._retry_s
        if not self.stats.spooling:
            self.stats.spooling = True
            log_kv(
                log,
                logging.WARNING,
                "journal_spooling",
                backend=self.backend.url,
                spool=self.spool.path,
                error=str(exc),
            )
