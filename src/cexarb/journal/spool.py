"""A local file that holds the journal's batches while the database is away.

Append-only records: 4-byte big-endian length, then one msgpack batch. A record
cut short by a crash is ignored on reading (its events were never acknowledged as
written, and the batch before it is whole). The file outlives the process: a run
that starts and finds batches left by a previous one replays them first.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from cexarb.journal.events import Event, decode_batch, encode_batch

_LEN = struct.Struct(">I")


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except OSError:  # missing, or a path that cannot hold a file
            return False

    def append(self, batch: list[Event]) -> None:
        """Add one batch and make it durable (fsync) before returning."""
        data = encode_batch(batch)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as f:
            f.write(_LEN.pack(len(data)) + data)
            f.flush()
            os.fsync(f.fileno())

    def read(self) -> list[list[Event]]:
        """Every whole batch in the file, oldest first."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        out, pos = [], 0
        while pos + _LEN.size <= len(raw):
            (size,) = _LEN.unpack_from(raw, pos)
            end = pos + _LEN.size + size
            if end > len(raw):
                break  # cut short by a crash mid-write
            out.append(decode_batch(raw[pos + _LEN.size : end]))
            pos = end
        return out

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
