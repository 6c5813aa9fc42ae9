"""RTP packets (RFC 3550 §5.1): parse and serialise, plus a checker of a received stream."""

from __future__ import annotations

from dataclasses import dataclass, field

from reference_impl.common.events import Event, ProtocolError, Violation

RTP_VERSION = 2
HEADER = 12


@dataclass(frozen=True)
class RtpPacket(Event):
    """One RTP packet; `payload` excludes header, CSRCs, extension and padding."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = field(repr=False, default=b"")
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None
    padding: int = 0
    version: int = RTP_VERSION


def serialize_rtp(p: RtpPacket) -> bytes:
    first = (p.version << 6) | (0x20 if p.padding else 0) | (0x10 if p.extension else 0)
    first |= len(p.csrcs)
    out = bytearray([first, (0x80 if p.marker else 0) | p.payload_type])
    out += p.sequence.to_bytes(2, "big") + p.timestamp.to_bytes(4, "big")
    out += p.ssrc.to_bytes(4, "big")
    for csrc in p.csrcs:
        out += csrc.to_bytes(4, "big")
    if p.extension is not None:
        profile, data = p.extension
        out += profile.to_bytes(2, "big") + (len(data) // 4).to_bytes(2, "big") + data
    out += p.payload
    if p.padding:
        out += bytes(p.padding - 1) + bytes([p.padding])
    return bytes(out)


def parse_rtp(data: bytes) -> tuple[RtpPacket, list[Violation]]:
    """Parse one packet; ProtocolError only when no header can be read at all."""
    if len(data) < HEADER:
        raise ProtocolError(f"{len(data)} bytes cannot hold the 12-byte RTP header")
    violations: list[Violation] = []
    version = data[0] >> 6
    # RFC 3550 §5.1: the version field is 2.
    if version != RTP_VERSION:
        violations.append(Violation("RTSP-RTP-VERSION", f"RTP version {version}, not 2"))
    count = data[0] & 0x0F
    end = len(data)
    offset = HEADER + 4 * count
    if offset > end:
        violations.append(Violation("RTSP-RTP-LENGTH", f"{count} CSRCs do not fit the packet"))
        offset, count = end, 0
    csrcs = tuple(
        int.from_bytes(data[HEADER + 4 * i : HEADER + 4 * i + 4], "big") for i in range(count)
    )
    extension = None
    if data[0] & 0x10 and offset + 4 <= end:
        length = int.from_bytes(data[offset + 2 : offset + 4], "big") * 4
        extension = (
            int.from_bytes(data[offset : offset + 2], "big"),
            data[offset + 4 : offset + 4 + length],
        )
        offset = min(end, offset + 4 + length)
    padding = 0
    if data[0] & 0x20 and end > offset:
        padding = data[-1]
        # RFC 3550 §5.1: the last padding octet counts the padding, itself included.
        if padding == 0 or padding > end - offset:
            violations.append(
                Violation("RTSP-RTP-LENGTH", f"padding count {padding} is impossible")
            )
            padding = 0
    packet = RtpPacket(
        payload_type=data[1] & 0x7F,
        sequence=int.from_bytes(data[2:4], "big"),
        timestamp=int.from_bytes(data[4:8], "big"),
        ssrc=int.from_bytes(data[8:12], "big"),
        payload=bytes(data[offset : end - padding]),
        marker=bool(data[1] & 0x80),
        csrcs=csrcs,
        extension=extension,
        padding=padding,
        version=version,
    )
    return packet, violations


@dataclass
class StreamChecker:
    """Checks a received RTP stream packet by packet: sequence, SSRC, timestamps (sans-IO)."""

    ssrc: int | None = None
    last_sequence: int | None = None
    last_timestamp: int | None = None
    received: int = 0
    lost: int = 0

    def check(self, packet: RtpPacket) -> list[Violation]:
        out: list[Violation] = []
        self.received += 1
        # RFC 3550 §8: one source keeps one SSRC unless it detects a collision.
        if self.ssrc is not None and packet.ssrc != self.ssrc:
            out.append(
                Violation(
                    "RTSP-RTP-SSRC-STABLE", f"SSRC changed {self.ssrc:#x} -> {packet.ssrc:#x}"
                )
            )
        self.ssrc = packet.ssrc
        if self.last_sequence is not None:
            step = (packet.sequence - self.last_sequence) & 0xFFFF
            # RFC 3550 §5.1: the sequence number grows by one per packet, wrapping at 2^16.
            # On loopback nothing is lost or reordered, so any other step is the sender's.
            if step != 1:
                self.lost += max(0, step - 1) if step < 0x8000 else 0
                out.append(
                    Violation(
                        "RTSP-RTP-SEQ-CONTINUOUS",
                        f"sequence {self.last_sequence} followed by {packet.sequence}",
                    )
                )
        if self.last_timestamp is not None:
            delta = (packet.timestamp - self.last_timestamp) & 0xFFFFFFFF
            # RFC 3550 §5.1: timestamps follow the sampling clock, so they never go back.
            if delta >= 0x80000000:
                out.append(
                    Violation(
                        "RTSP-RTP-TIMESTAMP-MONOTONIC",
                        f"timestamp {self.last_timestamp} followed by {packet.timestamp}",
                    )
                )
        self.last_sequence, self.last_timestamp = packet.sequence, packet.timestamp
        return out
