"""RealMedia header chunks as PNA sends them: .RMF, PROP, MDPR, CONT, DATA.

Layouts from the RealMedia file format (all integers big-endian): each chunk is a four-byte
tag, a u32 size covering the whole chunk, a u16 object version, then its fields. PROP is 50
bytes (its data offset sits at byte 42); DATA is sent as its 18-byte header only.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PROP_SIZE = 50
DATA_HEADER_SIZE = 18
DATA_OFFSET_AT = 42


def chunk(tag: bytes, body: bytes) -> bytes:
    return tag + struct.pack(">IH", 10 + len(body), 0) + body


def rmf(num_headers: int) -> bytes:
    return chunk(b".RMF", struct.pack(">II", 0, num_headers))


def prop(*, bit_rate: int, packet_size: int, duration_ms: int, num_streams: int) -> bytes:
    fields = struct.pack(
        ">IIIIIIIIIHH",
        bit_rate,
        bit_rate,
        packet_size,
        packet_size,
        0,  # packets: unknown for a live stream
        duration_ms,
        0,  # preroll
        0,  # index offset
        0,  # data offset: the client fills it in
        num_streams,
        0x0002,  # flags: live broadcast
    )
    return chunk(b"PROP", fields)


def mdpr(stream: int, mime: str, *, bit_rate: int, packet_size: int, specific: bytes) -> bytes:
    name, mime_b = b"audio", mime.encode()
    fields = struct.pack(">HIIIIIII", stream, bit_rate, bit_rate, packet_size, packet_size, 0, 0, 0)
    fields += bytes([len(name)]) + name + bytes([len(mime_b)]) + mime_b
    fields += struct.pack(">I", len(specific)) + specific
    return chunk(b"MDPR", fields)


def cont(title: str, author: str = "streamconform") -> bytes:
    parts = [title, author, "", "generated test stream"]
    return chunk(b"CONT", b"".join(struct.pack(">H", len(p)) + p.encode() for p in parts))


def data_header() -> bytes:
    return chunk(b"DATA", struct.pack(">II", 0, 0))


@dataclass(frozen=True)
class HeaderChunk:
    """One RealMedia header chunk as received."""

    tag: bytes
    size: int
    body: bytes

    def num_streams(self) -> int | None:
        """PROP's stream count (None if this is not a whole PROP)."""
        if self.tag != b"PROP" or len(self.body) < PROP_SIZE - 8:
            return None
        return int(struct.unpack_from(">H", self.body, 38)[0])

    def mdpr_stream(self) -> tuple[int, str] | None:
        """MDPR's stream number and MIME type (None if unreadable)."""
        if self.tag != b"MDPR" or len(self.body) < 33:
            return None
        stream = struct.unpack_from(">H", self.body, 2)[0]
        name_len = self.body[32]
        at = 33 + name_len
        if len(self.body) <= at:
            return None
        mime_len = self.body[at]
        return stream, self.body[at + 1 : at + 1 + mime_len].decode("latin-1")
