"""Byte-level mutation shared by the protocol drivers: the edits that know no grammar."""

from __future__ import annotations

import random


def edit_bytes(buf: bytearray, rng: random.Random) -> None:
    """One edit in place: a byte changed, up to 15 random bytes inserted, or up to 15 cut."""
    pos = rng.randrange(len(buf) + 1)
    choice = rng.randrange(3)
    if choice == 0 and buf:
        buf[min(pos, len(buf) - 1)] = rng.randrange(256)
    elif choice == 1:
        buf[pos:pos] = rng.randbytes(rng.randrange(1, 16))
    elif buf:
        del buf[pos : pos + rng.randrange(1, 16)]
