"""RTP packets (RFC 3550 §5.1): parse and serialise, plus sans-IO checkers of a received stream.

`parse_rtp` is lenient and exact: whatever can be framed becomes a packet, every deviation a
`Violation`. `SequenceTracker` follows one received stream (sequence numbers with 16-bit wrap,
timestamps, SSRC, jitter); arrival times are passed in, never read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from reference_impl.common.events import Event, ProtocolError, Violation

RTP_VERSION = 2
HEADER = 12
MAX_CSRCS = 15  # four-bit CC field

#: every requirement ID this module can report
REQUIREMENT_IDS = frozenset(
    {
        "RTSP-RTP-VERSION",
        "RTSP-RTP-LENGTH",
        "RTSP-RTP-SEQ-CONTINUOUS",
        "RTSP-RTP-TIMESTAMP-MONOTONIC",
        "RTSP-RTP-TIMESTAMP-RATE",
        "RTSP-RTP-SSRC-STABLE",
        "RTSP-RTP-PAYLOAD-TYPE",
    }
)


class RtpExtension(NamedTuple):
    """The header extension (RFC 3550 §5.3.1): a profile-defined word, then 32-bit words."""

    profile: int
    data: bytes


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
    extension: tuple[int, bytes] | None = None  # (profile, data); parse gives an RtpExtension
    padding: int = 0  # padding octets, the count octet included; 0 means the P bit is clear
    version: int = RTP_VERSION

    @property
    def has_padding(self) -> bool:
        return self.padding > 0

    @property
    def has_extension(self) -> bool:
        return self.extension is not None


def serialize_rtp(p: RtpPacket) -> bytes:
    """The packet's bytes; ValueError for a field that does not fit its width."""
    _check_fields(p)
    first = (p.version << 6) | (0x20 if p.padding else 0) | (0x10 if p.extension else 0)
    out = bytearray([first | len(p.csrcs), (0x80 if p.marker else 0) | p.payload_type])
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


def _check_fields(p: RtpPacket) -> None:
    widths = {"version": (p.version, 3), "payload_type": (p.payload_type, 127)}
    widths |= {"sequence": (p.sequence, 0xFFFF), "timestamp": (p.timestamp, 0xFFFFFFFF)}
    widths |= {"ssrc": (p.ssrc, 0xFFFFFFFF), "padding": (p.padding, 255)}
    for name, (value, top) in widths.items():
        if not 0 <= value <= top:
            raise ValueError(f"RTP {name} {value} is outside 0..{top}")
    if len(p.csrcs) > MAX_CSRCS or any(not 0 <= c <= 0xFFFFFFFF for c in p.csrcs):
        raise ValueError("at most 15 CSRCs of 32 bits each (RFC 3550 §5.1)")
    if p.extension is not None:
        profile, data = p.extension
        if not 0 <= profile <= 0xFFFF or len(data) % 4 or len(data) > 4 * 0xFFFF:
            raise ValueError("the extension is a 16-bit profile and whole 32-bit words (§5.3.1)")


def parse_rtp(data: bytes) -> tuple[RtpPacket, list[Violation]]:
    """Parse one packet; ProtocolError only when the fixed header cannot be read at all."""
    if len(data) < HEADER:
        raise ProtocolError(f"{len(data)} bytes cannot hold the 12-byte RTP header")
    violations: list[Violation] = []
    version = data[0] >> 6
    # RFC 3550 §5.1: the version field is 2.
    if version != RTP_VERSION:
        violations.append(Violation("RTSP-RTP-VERSION", f"RTP version {version}, not 2"))
    end = len(data)
    count = data[0] & 0x0F
    fits = min(count, (end - HEADER) // 4)
    csrcs = tuple(
        int.from_bytes(data[HEADER + 4 * i : HEADER + 4 * i + 4], "big") for i in range(fits)
    )
    offset = HEADER + 4 * fits
    # RFC 3550 §5.1: CC counts the CSRC words that follow the fixed header.
    if fits < count:
        violations.append(
            Violation("RTSP-RTP-LENGTH", f"CSRC count {count} but room for {fits} in {end} bytes")
        )
        offset = end
    extension = None
    if data[0] & 0x10:
        extension, offset = _extension(data, offset, violations)
    padding = 0
    if data[0] & 0x20:
        # RFC 3550 §5.1: the last padding octet counts the padding, itself included.
        claimed = data[-1] if end > offset else 0
        if claimed == 0 or claimed > end - offset:
            violations.append(
                Violation(
                    "RTSP-RTP-LENGTH",
                    f"padding count {claimed} is impossible with {end - offset} octets after "
                    "the header",
                )
            )
        else:
            padding = claimed
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


def _extension(
    data: bytes, offset: int, violations: list[Violation]
) -> tuple[RtpExtension | None, int]:
    """RFC 3550 §5.3.1: 16-bit profile, 16-bit length in words, then that many words."""
    end = len(data)
    if offset + 4 > end:
        violations.append(Violation("RTSP-RTP-LENGTH", "X bit set but no room for an extension"))
        return None, end
    words = int.from_bytes(data[offset + 2 : offset + 4], "big")
    stop = offset + 4 + 4 * words
    if stop > end:
        violations.append(
            Violation("RTSP-RTP-LENGTH", f"extension of {words} words overruns the packet")
        )
        stop = end
    profile = int.from_bytes(data[offset : offset + 2], "big")
    return RtpExtension(profile, bytes(data[offset + 4 : stop])), stop


# -- receiving a stream -----------------------------------------------------------------------


@dataclass(frozen=True)
class SequenceGap(Event):
    """Sequence numbers between `previous` and `sequence` were skipped: `missing` packets."""

    previous: int
    sequence: int
    missing: int


@dataclass(frozen=True)
class Reordered(Event):
    """A packet arrived after one with a higher sequence number (`highest`)."""

    sequence: int
    highest: int


@dataclass(frozen=True)
class Duplicate(Event):
    """A packet whose sequence number was already received arrived again."""

    sequence: int


# The wall-clock window before the timestamp rate is judged, and the slack it is judged with:
# senders may burst at the start and the loop that feeds us has its own delays.
RATE_WINDOW = 2.0
RATE_SLACK = 1.0
RATE_TOLERANCE = 0.25


class SequenceTracker:
    """Follows one received RTP stream: sequence, timestamps, SSRC, payload type (sans-IO).

    `reliable` says the link loses and reorders nothing (loopback, interleaved TCP), so every
    gap, reorder or duplicate is the sender's and also a RTSP-RTP-SEQ-CONTINUOUS violation.
    `clock_rate` and arrival times (`now`, seconds on any monotonic scale) enable the rate check
    and the interarrival jitter of RFC 3550 §6.4.1.
    """

    def __init__(
        self,
        clock_rate: int | None = None,
        payload_types: Iterable[int] | None = None,
        reliable: bool = True,
        window: int = 1024,
    ) -> None:
        self.clock_rate = clock_rate
        self.payload_types = frozenset(payload_types) if payload_types is not None else None
        self.reliable = reliable
        self.ssrc: int | None = None
        self.received = 0
        self.duplicates = 0
        self.reordered = 0
        self.jitter = 0.0  # RFC 3550 §6.4.1, in timestamp units
        self._window = window
        self._seen: deque[int] = deque()
        self._seen_set: set[int] = set()
        self._base: int | None = None  # lowest extended sequence number received
        self._highest: int | None = None  # highest extended sequence number received
        self._last_timestamp: int | None = None
        self._transit: float | None = None
        self._rate_base: tuple[float, int] | None = None  # (arrival, timestamp) of a segment
        self._rate_reported = False
        self._resumed = False
        self._seek = False
        self._bad_types: set[int] = set()
        self._prior_expected = 0
        self._prior_received = 0

    # -- counters (RFC 3550 Appendix A.3) --------------------------------------------------------

    @property
    def highest_sequence(self) -> int:
        """The extended highest sequence number received (cycles << 16 | sequence)."""
        return max(self._highest or 0, 0)

    @property
    def expected(self) -> int:
        if self._highest is None or self._base is None:
            return 0
        return self._highest - self._base + 1

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.received)

    def interval(self) -> tuple[int, int]:
        """Packets expected and received since the last call: what a report block needs."""
        expected, received = self.expected, self.received
        out = (expected - self._prior_expected, received - self._prior_received)
        self._prior_expected, self._prior_received = expected, received
        return out

    # -- control ---------------------------------------------------------------------------------

    def resumed(self, seek: bool = False) -> None:
        """PLAY after PAUSE: sequence numbers go on (RFC 2326 §10.5, §10.6); a new wall-clock
        segment starts; with `seek` (a Range elsewhere) the next timestamp may jump."""
        self._resumed = True
        self._seek = seek
        self._rate_base = None
        self._rate_reported = False
        self._transit = None

    # -- input -----------------------------------------------------------------------------------

    def receive(self, packet: RtpPacket, now: float | None = None) -> list[Event]:
        """Observations (gaps, reorders, duplicates) then violations for one packet."""
        events: list[Event] = []
        violations: list[Violation] = []
        self._check_source(packet, violations)
        in_order = self._sequence(packet.sequence, events)
        after = " after PLAY resumed" if self._resumed else ""
        if self.reliable:
            for event in events:
                violations.append(Violation("RTSP-RTP-SEQ-CONTINUOUS", _describe(event) + after))
        if in_order:
            self._timestamps(packet.timestamp, now, violations, after)
            self._resumed = False
        self._jitter(packet.timestamp, now)
        return [*events, *violations]

    def _check_source(self, packet: RtpPacket, violations: list[Violation]) -> None:
        # RFC 3550 §5.1, §8: a source keeps its SSRC unless it detects a collision.
        if self.ssrc is not None and packet.ssrc != self.ssrc:
            violations.append(
                Violation(
                    "RTSP-RTP-SSRC-STABLE", f"SSRC changed {self.ssrc:#010x} -> {packet.ssrc:#010x}"
                )
            )
        self.ssrc = packet.ssrc
        # RFC 4566 §5.14: the m= line lists the payload types the stream may carry.
        types = self.payload_types
        if types is not None and packet.payload_type not in types | self._bad_types:
            self._bad_types.add(packet.payload_type)
            violations.append(
                Violation(
                    "RTSP-RTP-PAYLOAD-TYPE",
                    f"payload type {packet.payload_type} is not among {sorted(types)} announced",
                )
            )

    def _sequence(self, sequence: int, events: list[Event]) -> bool:
        """Place `sequence` on the extended scale (RFC 3550 Appendix A.1); True if it is new
        and highest, that is in order."""
        if self._highest is None:
            self._base = self._highest = sequence
            self._remember(sequence)
            self.received += 1
            return True
        step = (sequence - self._highest) & 0xFFFF
        if step == 0:
            self.duplicates += 1
            events.append(Duplicate(sequence))
            return False
        if step < 0x8000:
            previous = self._highest
            self._highest += step
            if step > 1:
                events.append(SequenceGap(previous & 0xFFFF, sequence, step - 1))
            self._remember(self._highest)
            self.received += 1
            return True
        extended = self._highest - (0x10000 - step)
        if extended in self._seen_set:
            self.duplicates += 1
            events.append(Duplicate(sequence))
            return False
        self.reordered += 1
        events.append(Reordered(sequence, self._highest & 0xFFFF))
        self._remember(extended)
        self._base = min(self._base if self._base is not None else extended, extended)
        self.received += 1
        return False

    def _remember(self, extended: int) -> None:
        # Bounded: only the last `window` sequence numbers are kept for duplicate detection.
        self._seen.append(extended)
        self._seen_set.add(extended)
        if len(self._seen) > self._window:
            self._seen_set.discard(self._seen.popleft())

    def _timestamps(
        self, timestamp: int, now: float | None, violations: list[Violation], after: str
    ) -> None:
        last, self._last_timestamp = self._last_timestamp, timestamp
        seek, self._seek = self._seek, False
        # RFC 3550 §5.1: timestamps follow the sampling clock, so in sequence order they never
        # go back; equal ones are fine (one frame in several packets).
        if last is not None and not seek and _signed32(timestamp - last) < 0:
            violations.append(
                Violation(
                    "RTSP-RTP-TIMESTAMP-MONOTONIC",
                    f"timestamp {last} followed by {timestamp}{after}",
                )
            )
        if self.clock_rate is None or now is None:
            return
        if self._rate_base is None:
            self._rate_base = (now, timestamp)
            return
        start, first = self._rate_base
        wall = now - start
        if self._rate_reported or wall < RATE_WINDOW:
            return
        # RFC 3550 §5.1: the timestamp clock runs at the payload format's rate.
        media = _signed32(timestamp - first) / self.clock_rate
        if abs(media - wall) > RATE_SLACK + RATE_TOLERANCE * wall:
            self._rate_reported = True
            violations.append(
                Violation(
                    "RTSP-RTP-TIMESTAMP-RATE",
                    f"timestamps advanced {media:.2f} s at {self.clock_rate} Hz in {wall:.2f} s",
                )
            )

    def _jitter(self, timestamp: int, now: float | None) -> None:
        if self.clock_rate is None or now is None:
            return
        # RFC 3550 §6.4.1 and Appendix A.8: J += (|D| - J) / 16 over relative transit times.
        transit = now * self.clock_rate - timestamp
        if self._transit is not None:
            delta = abs(_signed32(round(transit - self._transit)))
            self.jitter += (delta - self.jitter) / 16
        self._transit = transit


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 0x100000000 if value >= 0x80000000 else value


def _describe(event: Event) -> str:
    if isinstance(event, SequenceGap):
        return f"sequence {event.previous} followed by {event.sequence} ({event.missing} skipped)"
    if isinstance(event, Reordered):
        return f"sequence {event.sequence} arrived after {event.highest}"
    assert isinstance(event, Duplicate)
    return f"sequence {event.sequence} arrived twice"


class StreamChecker:
    """A `SequenceTracker` on a lossless link that returns violations only (the suites' API)."""

    def __init__(
        self, clock_rate: int | None = None, payload_types: Iterable[int] | None = None
    ) -> None:
        self.tracker = SequenceTracker(clock_rate, payload_types, reliable=True)

    def check(self, packet: RtpPacket, now: float | None = None) -> list[Violation]:
        return [e for e in self.tracker.receive(packet, now) if isinstance(e, Violation)]

    def resumed(self, seek: bool = False) -> None:
        self.tracker.resumed(seek)

    @property
    def received(self) -> int:
        return self.tracker.received

    @property
    def lost(self) -> int:
        return self.tracker.lost
