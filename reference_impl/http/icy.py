"""ICY metadata (SHOUTcast/Icecast practice): metadata blocks interleaved with the audio.

A client that sends `Icy-MetaData: 1` may get `icy-metaint: N`; then after every N bytes of
audio comes one block: a length byte L and 16·L bytes of `Key='value';` pairs padded with NUL
(L = 0: no change). No specification exists; the rules are what Icecast and players do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reference_impl.common.events import Event, NeedData, Violation

_PAIRS = re.compile(rb"^(?:[A-Za-z]+='[^']*';)*$")


@dataclass(frozen=True)
class IcyMetadata(Event):
    """One metadata block's pairs (empty for a zero-length block)."""

    pairs: dict[str, str]


def format_block(pairs: dict[str, str]) -> bytes:
    text = "".join(f"{k}='{v}';" for k, v in pairs.items()).encode("utf-8")[: 255 * 16]
    length = -(-len(text) // 16)
    return bytes([length]) + text.ljust(16 * length, b"\0")


class IcyReader:
    """Audio bytes with metadata blocks in; metadata events and violations out."""

    def __init__(self, metaint: int) -> None:
        self.metaint = metaint
        self.audio = 0  # audio bytes since the last block
        self.audio_total = 0
        self._buffer = bytearray()
        self._events: list[Event] = []

    def receive_data(self, data: bytes) -> None:
        self._buffer += data
        while self._step():
            pass

    def next_event(self) -> Event:
        return self._events.pop(0) if self._events else NeedData()

    def _step(self) -> bool:
        if self.audio < self.metaint:
            take = min(self.metaint - self.audio, len(self._buffer))
            del self._buffer[:take]
            self.audio += take
            self.audio_total += take
            return take > 0
        if not self._buffer:
            return False
        size = 16 * self._buffer[0]
        if len(self._buffer) < 1 + size:
            return False
        raw = bytes(self._buffer[1 : 1 + size])
        del self._buffer[: 1 + size]
        self.audio = 0
        text = raw.rstrip(b"\0")
        if not _PAIRS.match(text) or b"\0" in text:
            self._events.append(
                Violation(
                    "HTTP-ICY-FRAMING",
                    f"a metadata block after {self.audio_total} audio bytes reads {raw[:60]!r}",
                )
            )
            return True
        pairs = dict(
            (k.decode("latin-1"), v.decode("utf-8", "replace"))
            for k, v in re.findall(rb"([A-Za-z]+)='([^']*)';", text)
        )
        self._events.append(IcyMetadata(pairs))
        return True
