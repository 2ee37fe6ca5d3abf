"""Damaged copies of good frames, for checking a compiled reader declines or agrees."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence


def damaged_frames(base: Sequence[bytes], count: int, seed: int) -> Iterator[bytes]:
    """`count` frames, each one of `base` truncated, bit-flipped, byte-overwritten or spliced.

    Seeded, so a failure names a frame the next run produces again.
    """
    rng = random.Random(seed)
    for _ in range(count):
        data = bytearray(rng.choice(base))
        action = rng.randrange(4)
        if action == 0:
            data = data[: rng.randrange(len(data))]
        elif action == 1:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif action == 2:
            data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            i = rng.randrange(len(data))
            data = data[:i] + data[i:][: rng.randrange(len(data) - i + 1)] * 2
        yield bytes(data)
