"""RTCP (RFC 3550 §6): SR, RR, SDES, BYE and APP packets; compound parse and serialise.

`parse_rtcp` frames a compound packet by the length fields, keeps unknown packet types raw, and
reports every deviation (length and count fields, padding, the compound rules of §6.1) as a
`Violation`. It is bounded: at most `MAX_PACKETS` packets per compound, 31 items per count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reference_impl.common.events import Event, ProtocolError, Violation
from reference_impl.rtsp.rtp import SequenceTracker

RTCP_VERSION = 2
SR, RR, SDES, BYE, APP = 200, 201, 202, 203, 204
MAX_PACKETS = 64  # per compound; real ones hold two to four
MAX_COUNT = 31  # the five-bit count field: report blocks, SDES chunks, BYE sources
CNAME = 1  # RFC 3550 §6.5.1; items 2-8 are NAME EMAIL PHONE LOC TOOL NOTE PRIV (kept raw)
NTP_UNIX_OFFSET = 2208988800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01

#: every requirement ID this module can report
REQUIREMENT_IDS = frozenset(
    {
        "RTSP-RTCP-VERSION",
        "RTSP-RTCP-LENGTH",
        "RTSP-RTCP-COUNT",
        "RTSP-RTCP-PADDING",
        "RTSP-RTCP-SDES-END",
        "RTSP-RTCP-COMPOUND-FIRST",
        "RTSP-RTCP-CNAME",
        "RTSP-RTCP-BYE-LAST",
        "RTSP-RTCP-SR-ACTIVE-SENDER",
        "RTSP-RTCP-SR-SSRC",
    }
)


@dataclass(frozen=True)
class ReportBlock:
    """One reception report (RFC 3550 §6.4.1): loss, highest sequence, jitter, LSR, DLSR."""

    ssrc: int
    fraction_lost: int = 0
    cumulative_lost: int = 0  # signed 24 bits
    highest_sequence: int = 0
    jitter: int = 0
    last_sr: int = 0
    delay_since_last_sr: int = 0


@dataclass(frozen=True)
class RtcpPacket(Event):
    """Base of the RTCP packets; each has `padding`: padding octets, the count octet included."""


@dataclass(frozen=True)
class SenderReport(RtcpPacket):
    """SR (RFC 3550 §6.4.1): sender info, then up to 31 report blocks."""

    ssrc: int
    ntp_timestamp: int = 0
    rtp_timestamp: int = 0
    packet_count: int = 0
    octet_count: int = 0
    reports: tuple[ReportBlock, ...] = ()
    extension: bytes = b""  # profile-specific, whole words
    padding: int = 0


@dataclass(frozen=True)
class ReceiverReport(RtcpPacket):
    """RR (RFC 3550 §6.4.2): the reporter's SSRC and up to 31 report blocks."""

    ssrc: int
    reports: tuple[ReportBlock, ...] = ()
    extension: bytes = b""
    padding: int = 0


@dataclass(frozen=True)
class SdesChunk:
    """One SDES chunk (RFC 3550 §6.5): a source and its (type, value) items in order."""

    ssrc: int
    items: tuple[tuple[int, bytes], ...] = ()

    @property
    def cname(self) -> str | None:
        value = next((v for t, v in self.items if t == CNAME), None)
        return None if value is None else value.decode("utf-8", "replace")


@dataclass(frozen=True)
class SourceDescription(RtcpPacket):
    """SDES (RFC 3550 §6.5): up to 31 chunks."""

    chunks: tuple[SdesChunk, ...] = ()
    padding: int = 0


@dataclass(frozen=True)
class Goodbye(RtcpPacket):
    """BYE (RFC 3550 §6.6): the sources leaving and an optional reason."""

    ssrcs: tuple[int, ...] = ()
    reason: bytes | None = None
    padding: int = 0


@dataclass(frozen=True)
class AppPacket(RtcpPacket):
    """APP (RFC 3550 §6.7): subtype, source, four-character name, application data."""

    subtype: int
    ssrc: int
    name: bytes
    data: bytes = b""
    padding: int = 0


@dataclass(frozen=True)
class UnknownRtcp(RtcpPacket):
    """A packet type this module does not interpret, kept raw (RFC 3550 §6.1: ignored)."""

    packet_type: int
    count: int
    body: bytes = b""
    padding: int = 0


AnyRtcp = SenderReport | ReceiverReport | SourceDescription | Goodbye | AppPacket | UnknownRtcp


# -- parsing ----------------------------------------------------------------------------------


def parse_rtcp(data: bytes, compound: bool = True) -> tuple[list[AnyRtcp], list[Violation]]:
    """Parse a compound packet; ProtocolError if not even one header is there, or past bounds.

    With `compound` the rules of RFC 3550 §6.1 for compound packets are checked too.
    """
    if len(data) < 4:
        raise ProtocolError(f"{len(data)} bytes cannot hold a 4-byte RTCP header")
    packets: list[AnyRtcp] = []
    violations: list[Violation] = []
    offset = 0
    while offset < len(data):
        if len(packets) == MAX_PACKETS:
            raise ProtocolError(f"more than {MAX_PACKETS} packets in one compound RTCP packet")
        if len(data) - offset < 4:
            violations.append(
                Violation("RTSP-RTCP-LENGTH", f"{len(data) - offset} stray bytes end the compound")
            )
            break
        # RFC 3550 §6.4.1: length is the packet's size in 32-bit words minus one.
        size = (int.from_bytes(data[offset + 2 : offset + 4], "big") + 1) * 4
        if offset + size > len(data):
            violations.append(
                Violation(
                    "RTSP-RTCP-LENGTH",
                    f"packet {len(packets) + 1} claims {size} bytes, {len(data) - offset} remain",
                )
            )
            size = len(data) - offset
        last = offset + size >= len(data)
        packets.append(_parse_one(data[offset : offset + size], last, violations))
        offset += size
    if compound:
        violations += compound_violations(packets)
    return packets, violations


def _parse_one(raw: bytes, last: bool, violations: list[Violation]) -> AnyRtcp:
    version, count, kind = raw[0] >> 6, raw[0] & 0x1F, raw[1]
    # RFC 3550 §6.4.1: the version field is 2, as in RTP.
    if version != RTCP_VERSION:
        violations.append(
            Violation("RTSP-RTCP-VERSION", f"RTCP packet {kind} has version {version}")
        )
    body = raw[4:]
    padding = 0
    if raw[0] & 0x20:
        claimed = body[-1] if body else 0
        if claimed == 0 or claimed > len(body):
            violations.append(
                Violation(
                    "RTSP-RTCP-LENGTH", f"padding count {claimed} in a {len(raw)}-byte packet"
                )
            )
        else:
            padding, body = claimed, body[:-claimed]
        # RFC 3550 §6.4.1: padding only ever goes on the last packet of a compound.
        if not last:
            violations.append(
                Violation("RTSP-RTCP-PADDING", f"packet type {kind} is padded but not last")
            )
    if kind in (SR, RR):
        return _parse_report(kind, count, body, padding, violations)
    if kind == SDES:
        return SourceDescription(_parse_sdes(count, body, violations), padding)
    if kind == BYE:
        return _parse_bye(count, body, padding, violations)
    if kind == APP:
        if len(body) < 8:
            violations.append(Violation("RTSP-RTCP-LENGTH", f"APP body of {len(body)} bytes < 8"))
            body = body.ljust(8, b"\0")
        return AppPacket(count, _u32(body, 0), bytes(body[4:8]), bytes(body[8:]), padding)
    return UnknownRtcp(kind, count, bytes(body), padding)


def _parse_report(
    kind: int, count: int, body: bytes, padding: int, violations: list[Violation]
) -> SenderReport | ReceiverReport:
    fixed = 24 if kind == SR else 4  # SSRC, then for SR NTP(8) RTP(4) packets(4) octets(4)
    if len(body) < fixed:
        violations.append(
            Violation("RTSP-RTCP-LENGTH", f"{'SR' if kind == SR else 'RR'} of {len(body)} bytes")
        )
        body = body.ljust(fixed, b"\0")
    fits = min(count, (len(body) - fixed) // 24)
    # RFC 3550 §6.4.1: RC counts the 24-byte report blocks that follow.
    if fits < count:
        violations.append(
            Violation("RTSP-RTCP-COUNT", f"report count {count}, room for {fits} blocks")
        )
    reports = tuple(_parse_block(body[fixed + 24 * i : fixed + 24 * i + 24]) for i in range(fits))
    extension = bytes(body[fixed + 24 * fits :])
    if kind == RR:
        return ReceiverReport(_u32(body, 0), reports, extension, padding)
    return SenderReport(
        ssrc=_u32(body, 0),
        ntp_timestamp=int.from_bytes(body[4:12], "big"),
        rtp_timestamp=_u32(body, 12),
        packet_count=_u32(body, 16),
        octet_count=_u32(body, 20),
        reports=reports,
        extension=extension,
        padding=padding,
    )


def _parse_block(raw: bytes) -> ReportBlock:
    lost = int.from_bytes(raw[5:8], "big")
    return ReportBlock(
        ssrc=_u32(raw, 0),
        fraction_lost=raw[4],
        cumulative_lost=lost - (1 << 24) if lost & 0x800000 else lost,
        highest_sequence=_u32(raw, 8),
        jitter=_u32(raw, 12),
        last_sr=_u32(raw, 16),
        delay_since_last_sr=_u32(raw, 20),
    )


def _parse_sdes(count: int, body: bytes, violations: list[Violation]) -> tuple[SdesChunk, ...]:
    chunks: list[SdesChunk] = []
    offset = 0
    while len(chunks) < count and offset + 4 <= len(body):
        ssrc, offset = _u32(body, offset), offset + 4
        items: list[tuple[int, bytes]] = []
        # RFC 3550 §6.5: items end with a null octet, then nulls up to a 32-bit boundary.
        while offset < len(body) and body[offset] != 0:
            if offset + 2 > len(body) or offset + 2 + body[offset + 1] > len(body):
                violations.append(
                    Violation("RTSP-RTCP-LENGTH", f"SDES item {body[offset]} overruns")
                )
                offset = len(body)
                break
            length = body[offset + 1]
            items.append((body[offset], bytes(body[offset + 2 : offset + 2 + length])))
            offset += 2 + length
        if offset >= len(body):
            violations.append(
                Violation("RTSP-RTCP-SDES-END", f"SDES chunk {ssrc:#010x} has no null terminator")
            )
        offset = (offset + 4) & ~3  # past the terminator and the nulls to the boundary
        chunks.append(SdesChunk(ssrc, tuple(items)))
    # RFC 3550 §6.5: SC counts the chunks.
    if len(chunks) < count:
        violations.append(
            Violation("RTSP-RTCP-COUNT", f"SDES source count {count}, {len(chunks)} chunks found")
        )
    elif offset < len(body):
        violations.append(
            Violation("RTSP-RTCP-COUNT", f"{len(body) - offset} bytes after {count} SDES chunks")
        )
    return tuple(chunks)


def _parse_bye(count: int, body: bytes, padding: int, violations: list[Violation]) -> Goodbye:
    fits = min(count, len(body) // 4)
    if fits < count:
        violations.append(Violation("RTSP-RTCP-COUNT", f"BYE count {count}, room for {fits}"))
    ssrcs = tuple(_u32(body, 4 * i) for i in range(fits))
    rest = body[4 * fits :]
    reason = None
    if rest:
        # RFC 3550 §6.6: an optional length octet and that many octets of text.
        if 1 + rest[0] > len(rest):
            violations.append(Violation("RTSP-RTCP-LENGTH", f"BYE reason of {rest[0]} overruns"))
        reason = bytes(rest[1 : 1 + rest[0]])
    return Goodbye(ssrcs, reason, padding)


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "big")


# -- rules across packets ---------------------------------------------------------------------


def compound_violations(packets: list[AnyRtcp]) -> list[Violation]:
    """The compound rules of RFC 3550 §6.1 (report first, CNAME present, BYE last)."""
    out: list[Violation] = []
    if not packets:
        return out
    first = packets[0]
    if not isinstance(first, SenderReport | ReceiverReport):
        out.append(
            Violation("RTSP-RTCP-COMPOUND-FIRST", f"the compound starts with {_name(first)}")
        )
    reporter = first.ssrc if isinstance(first, SenderReport | ReceiverReport) else None
    cnames = {
        c.ssrc for p in packets if isinstance(p, SourceDescription) for c in p.chunks if c.cname
    }
    # RFC 3550 §6.1, §6.5.1: every compound carries an SDES CNAME (for the reporting source).
    if not cnames or (reporter is not None and reporter not in cnames):
        whose = f" for {reporter:#010x}" if reporter is not None else ""
        out.append(Violation("RTSP-RTCP-CNAME", f"no SDES CNAME{whose} in the compound"))
    gone: set[int] = set()
    for packet in packets:
        # RFC 3550 §6.1: BYE should be the last packet sent with a given SSRC.
        late = _sources(packet) & gone
        if late:
            out.append(
                Violation("RTSP-RTCP-BYE-LAST", f"{_name(packet)} for {min(late):#010x} after BYE")
            )
        if isinstance(packet, Goodbye):
            gone |= set(packet.ssrcs)
    return out


def sender_violations(packets: list[AnyRtcp], media_ssrc: int, sent: bool) -> list[Violation]:
    """Rules for the RTCP of a server that sends the stream with SSRC `media_ssrc`.

    `sent`: whether RTP went out since the previous report (RFC 3550 §6.4: then it is an SR).
    """
    out: list[Violation] = []
    first = packets[0] if packets else None
    if sent and not isinstance(first, SenderReport):
        what = _name(first) if first is not None else "nothing"
        out.append(
            Violation("RTSP-RTCP-SR-ACTIVE-SENDER", f"an active sender reported with {what}")
        )
    reports = [p for p in packets if isinstance(p, SenderReport)]
    if reports and all(r.ssrc != media_ssrc for r in reports):
        out.append(
            Violation(
                "RTSP-RTCP-SR-SSRC",
                f"SR from {reports[0].ssrc:#010x}, the RTP stream is {media_ssrc:#010x}",
            )
        )
    return out


def _sources(packet: AnyRtcp) -> set[int]:
    if isinstance(packet, SenderReport | ReceiverReport | AppPacket):
        return {packet.ssrc}
    if isinstance(packet, SourceDescription):
        return {c.ssrc for c in packet.chunks}
    return set()


def _name(packet: AnyRtcp) -> str:
    names = {SenderReport: "SR", ReceiverReport: "RR", SourceDescription: "SDES"}
    names |= {Goodbye: "BYE", AppPacket: "APP"}
    if isinstance(packet, UnknownRtcp):
        return f"packet type {packet.packet_type}"
    return names[type(packet)]


# -- serialising ------------------------------------------------------------------------------


def serialize_rtcp(packets: Iterable[AnyRtcp]) -> bytes:
    """A compound packet: the packets' bytes back to back (RFC 3550 §6.1)."""
    return b"".join(serialize_packet(p) for p in packets)


def serialize_packet(packet: AnyRtcp) -> bytes:
    """One packet; ValueError for counts past 31, unaligned data or misfit fields."""
    if isinstance(packet, SenderReport):
        body = packet.ssrc.to_bytes(4, "big") + packet.ntp_timestamp.to_bytes(8, "big")
        body += packet.rtp_timestamp.to_bytes(4, "big") + packet.packet_count.to_bytes(4, "big")
        body += packet.octet_count.to_bytes(4, "big")
        body += b"".join(_block(b) for b in packet.reports) + _words(packet.extension)
        return _frame(SR, len(packet.reports), body, packet.padding)
    if isinstance(packet, ReceiverReport):
        body = packet.ssrc.to_bytes(4, "big") + b"".join(_block(b) for b in packet.reports)
        return _frame(RR, len(packet.reports), body + _words(packet.extension), packet.padding)
    if isinstance(packet, SourceDescription):
        body = b"".join(_chunk(c) for c in packet.chunks)
        return _frame(SDES, len(packet.chunks), body, packet.padding)
    if isinstance(packet, Goodbye):
        body = b"".join(s.to_bytes(4, "big") for s in packet.ssrcs)
        if packet.reason is not None:
            body += _pad4(_item_value(packet.reason))
        return _frame(BYE, len(packet.ssrcs), body, packet.padding)
    if isinstance(packet, AppPacket):
        if len(packet.name) != 4:
            raise ValueError("an APP name is four octets (RFC 3550 §6.7)")
        body = packet.ssrc.to_bytes(4, "big") + packet.name + _words(packet.data)
        return _frame(APP, packet.subtype, body, packet.padding)
    return _frame(packet.packet_type, packet.count, _words(packet.body), packet.padding)


def _frame(kind: int, count: int, body: bytes, padding: int) -> bytes:
    if not 0 <= count <= MAX_COUNT:
        raise ValueError(f"RTCP count {count} is outside 0..31")
    if padding and (padding % 4 or padding > 255):
        raise ValueError("RTCP padding keeps packets whole words: 4..252 in steps of 4")
    if padding:
        body += bytes(padding - 1) + bytes([padding])
    first = (RTCP_VERSION << 6) | (0x20 if padding else 0) | count
    return bytes([first, kind]) + (len(body) // 4).to_bytes(2, "big") + body


def _block(b: ReportBlock) -> bytes:
    return (
        b.ssrc.to_bytes(4, "big")
        + bytes([b.fraction_lost])
        + (b.cumulative_lost & 0xFFFFFF).to_bytes(3, "big")
        + b.highest_sequence.to_bytes(4, "big")
        + b.jitter.to_bytes(4, "big")
        + b.last_sr.to_bytes(4, "big")
        + b.delay_since_last_sr.to_bytes(4, "big")
    )


def _chunk(chunk: SdesChunk) -> bytes:
    out = chunk.ssrc.to_bytes(4, "big")
    for kind, value in chunk.items:
        if not 1 <= kind <= 255:
            raise ValueError("SDES item types are 1..255; 0 ends the list (RFC 3550 §6.5)")
        out += bytes([kind]) + _item_value(value)
    return out + bytes(4 - len(out) % 4)  # at least one null octet, then to the boundary


def _item_value(value: bytes) -> bytes:
    if len(value) > 255:
        raise ValueError("an SDES item or BYE reason holds at most 255 octets")
    return bytes([len(value)]) + value


def _pad4(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


def _words(data: bytes) -> bytes:
    if len(data) % 4:
        raise ValueError("RTCP extension and APP data are whole 32-bit words")
    return data


# -- sending reports, time passed in ----------------------------------------------------------


def ntp_timestamp(unix_time: float) -> int:
    """The 64-bit NTP timestamp of a Unix time (RFC 3550 §4): seconds.fraction since 1900."""
    return round((unix_time + NTP_UNIX_OFFSET) * (1 << 32)) & 0xFFFFFFFFFFFFFFFF


def compact_ntp(ntp: int) -> int:
    """The middle 32 bits of an NTP timestamp: what LSR echoes (RFC 3550 §6.4.1)."""
    return (ntp >> 16) & 0xFFFFFFFF


def report_block(
    tracker: SequenceTracker, last_sr: int = 0, delay_since_last_sr: int = 0
) -> ReportBlock:
    """A reception report from what `tracker` saw since the previous call (RFC 3550 A.3)."""
    expected, received = tracker.interval()
    lost = expected - received
    fraction = 0 if expected <= 0 or lost <= 0 else min(255, (lost << 8) // expected)
    cumulative = max(-0x800000, min(0x7FFFFF, tracker.expected - tracker.received))
    return ReportBlock(
        ssrc=tracker.ssrc or 0,
        fraction_lost=fraction,
        cumulative_lost=cumulative,
        highest_sequence=tracker.highest_sequence & 0xFFFFFFFF,
        jitter=int(tracker.jitter) & 0xFFFFFFFF,
        last_sr=last_sr,
        delay_since_last_sr=delay_since_last_sr,
    )
