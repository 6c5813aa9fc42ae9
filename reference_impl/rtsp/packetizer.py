"""RTP packetization of H.264 (RFC 6184) and PCMA/L16 audio (RFC 3551), its checking reverse,
and the SDP media sections that announce each stream.

Media time is passed in (seconds, or clock ticks), never read: after PAUSE and PLAY the
timestamps go on from the pause point and sequence numbers by one (RFC 2326 §10.5, §10.6).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reference_impl.common.events import Event, ProtocolError, Violation
from reference_impl.rtsp.rtp import HEADER, RtpPacket

H264_CLOCK = 90000  # RFC 6184 §5.1
DEFAULT_MTU = 1400  # RTP header and payload; leaves room for IP, UDP and interleaving
NAL_STAP_A, NAL_FU_A = 24, 28
PCMA_PAYLOAD_TYPE = 8  # RFC 3551 §6, Table 4
L16_STEREO_PAYLOAD_TYPE, L16_MONO_PAYLOAD_TYPE = 10, 11  # both 44.1 kHz
DYNAMIC_PAYLOAD_TYPE = 96
SEQ_JUMP = 1000  # what the fault rtp_seq_jump_after_pause skips at each resume
MAX_FRAMES_PER_CALL = 500  # bounds the burst when the caller's media time leaps ahead

# RFC 6184 §5.2, Table 3: NAL unit types allowed in each packetization mode.
ALLOWED_TYPES = {
    0: frozenset(range(1, 24)),
    1: frozenset(range(1, 24)) | {NAL_STAP_A, NAL_FU_A},
    2: frozenset({25, 26, 27, 28, 29}),
}

#: every requirement ID this module can report
REQUIREMENT_IDS = frozenset(
    {
        "RTSP-RTP-H264-MARKER",
        "RTSP-RTP-H264-FORBIDDEN-BIT",
        "RTSP-RTP-H264-MODE",
        "RTSP-RTP-H264-PAYLOAD",
        "RTSP-RTP-H264-FU-START-END",
        "RTSP-RTP-H264-FU-ORDER",
        "RTSP-RTP-AUDIO-TIMESTAMP-STEP",
        "RTSP-RTP-L16-FRAME",
    }
)


@dataclass
class RtpSender:
    """Sequence numbers and timestamps of one outgoing stream (RFC 3550 §5.1).

    A timestamp is `first_timestamp` plus media time in clock ticks; the sequence number grows
    by one per packet. `seq_jump_after_resume` is the fault rtp_seq_jump_after_pause: each
    resume skips that many sequence numbers.
    """

    ssrc: int
    payload_type: int
    clock_rate: int
    first_sequence: int = 0
    first_timestamp: int = 0
    seq_jump_after_resume: int = 0
    packets_sent: int = 0
    octets_sent: int = 0  # payload octets, as an SR counts them (RFC 3550 §6.4.1)
    paused: bool = False
    _skipped: int = field(default=0, repr=False)

    @property
    def next_sequence(self) -> int:
        return (self.first_sequence + self.packets_sent + self._skipped) & 0xFFFF

    def timestamp(self, ticks: int) -> int:
        return (self.first_timestamp + ticks) & 0xFFFFFFFF

    def packet(self, ticks: int, payload: bytes, marker: bool = False) -> RtpPacket:
        """The next packet, for media time `ticks` in clock units."""
        packet = RtpPacket(
            self.payload_type, self.next_sequence, self.timestamp(ticks), self.ssrc, payload, marker
        )
        self.packets_sent += 1
        self.octets_sent += len(payload)
        return packet

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._skipped += self.seq_jump_after_resume


# -- H.264 (RFC 6184) -------------------------------------------------------------------------


def h264_payloads(nal: bytes, max_payload: int) -> list[bytes]:
    """One NAL unit as RTP payloads: a single NAL unit packet if it fits (RFC 6184 §5.6), else
    FU-A fragments (§5.8) that carry its F and NRI bits in the FU indicator."""
    if not nal:
        raise ValueError("a NAL unit has at least its one-octet header")
    if len(nal) <= max_payload:
        return [nal]
    if max_payload < 3:
        raise ValueError("an FU-A needs room for its two header octets and one more")
    indicator = (nal[0] & 0xE0) | NAL_FU_A
    kind, body, size = nal[0] & 0x1F, nal[1:], max_payload - 2
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    # §5.8: S on the first fragment, E on the last; never both (the NAL would fit whole).
    return [
        bytes([indicator, kind | (0x80 if i == 0 else 0) | (0x40 if i == len(chunks) - 1 else 0)])
        + chunk
        for i, chunk in enumerate(chunks)
    ]


def packetize_h264(
    sender: RtpSender, access_unit: Sequence[bytes], ticks: int, mtu: int = DEFAULT_MTU
) -> list[RtpPacket]:
    """An access unit as packets with one timestamp; the marker on the last (RFC 6184 §5.1)."""
    payloads = [p for nal in access_unit for p in h264_payloads(nal, mtu - HEADER)]
    last = len(payloads) - 1
    return [sender.packet(ticks, p, marker=i == last) for i, p in enumerate(payloads)]


@dataclass(frozen=True)
class AccessUnit(Event):
    """The NAL units of one access unit, reassembled, and their RTP timestamp."""

    timestamp: int
    nal_units: tuple[bytes, ...]


class H264Depacketizer:
    """Reassembles received H.264 RTP packets into access units and checks RFC 6184 on the way.

    Packets are fed in arrival order; single NAL units, STAP-A and FU-A are reassembled (mode 0
    and 1). Bounded by `max_access_unit` octets and `max_nal_units` per access unit.
    """

    def __init__(
        self,
        packetization_mode: int = 1,
        max_access_unit: int = 4 << 20,
        max_nal_units: int = 1024,
    ) -> None:
        self.mode = packetization_mode
        self.max_access_unit = max_access_unit
        self.max_nal_units = max_nal_units
        self._timestamp: int | None = None
        self._nals: list[bytes] = []
        self._size = 0
        self._fu: bytearray | None = None
        self._last_sequence: int | None = None
        self._marker = False

    def receive(self, packet: RtpPacket) -> list[Event]:
        """Access units completed by this packet, then violations."""
        events: list[Event] = []
        out: list[Violation] = []
        at = f"packet {packet.sequence}"
        if self._timestamp is not None and packet.timestamp != self._timestamp:
            # RFC 6184 §5.1: the marker is set on the last packet of an access unit.
            if not self._marker:
                out.append(
                    Violation(
                        "RTSP-RTP-H264-MARKER",
                        f"access unit {self._timestamp} ended without a marker bit",
                    )
                )
            events += self._complete(at, out)
        elif self._marker and packet.timestamp == self._timestamp:
            out.append(
                Violation("RTSP-RTP-H264-MARKER", f"{at} follows the marker with its timestamp")
            )
        contiguous = (
            self._last_sequence is None or packet.sequence == (self._last_sequence + 1) & 0xFFFF
        )
        self._timestamp, self._last_sequence = packet.timestamp, packet.sequence
        self._payload(packet.payload, contiguous, at, out)
        self._marker = packet.marker
        if packet.marker:
            events += self._complete(at, out)
        return [*events, *out]

    def flush(self) -> list[Event]:
        """The access unit in progress, at the end of the stream."""
        out: list[Violation] = []
        return [*self._complete("end of stream", out), *out]

    def _payload(self, payload: bytes, contiguous: bool, at: str, out: list[Violation]) -> None:
        if not payload:
            out.append(Violation("RTSP-RTP-H264-PAYLOAD", f"{at} has an empty payload"))
            return
        kind = payload[0] & 0x1F
        # RFC 6184 §5.3: F (forbidden_zero_bit) is 0 in what a sender sends.
        if payload[0] & 0x80:
            out.append(Violation("RTSP-RTP-H264-FORBIDDEN-BIT", f"{at} has the F bit set"))
        if kind not in ALLOWED_TYPES.get(self.mode, ()):
            out.append(
                Violation(
                    "RTSP-RTP-H264-MODE",
                    f"{at}: NAL unit type {kind} in packetization mode {self.mode}",
                )
            )
        if 1 <= kind <= 23:
            if self._fu is not None:
                out.append(Violation("RTSP-RTP-H264-FU-ORDER", f"{at} interrupts an FU-A"))
                self._fu = None
            self._add(payload)
        elif kind == NAL_STAP_A:
            self._stap_a(payload, at, out)
        elif kind == NAL_FU_A:
            self._fu_a(payload, contiguous, at, out)

    def _stap_a(self, payload: bytes, at: str, out: list[Violation]) -> None:
        # RFC 6184 §5.7.1: after the STAP-A header, 16-bit sizes each followed by a NAL unit.
        offset, found = 1, 0
        while offset < len(payload):
            size = int.from_bytes(payload[offset : offset + 2], "big")
            if offset + 2 > len(payload) or size == 0 or offset + 2 + size > len(payload):
                out.append(Violation("RTSP-RTP-H264-PAYLOAD", f"{at}: STAP-A sizes overrun"))
                return
            self._add(payload[offset + 2 : offset + 2 + size])
            offset, found = offset + 2 + size, found + 1
        if not found:
            out.append(Violation("RTSP-RTP-H264-PAYLOAD", f"{at}: STAP-A holds no NAL unit"))

    def _fu_a(self, payload: bytes, contiguous: bool, at: str, out: list[Violation]) -> None:
        if len(payload) < 3:
            out.append(Violation("RTSP-RTP-H264-PAYLOAD", f"{at}: FU-A of {len(payload)} octets"))
            return
        start, end = bool(payload[1] & 0x80), bool(payload[1] & 0x40)
        # RFC 6184 §5.8: a NAL unit is never sent as one FU: S and E are not both set.
        if start and end:
            out.append(Violation("RTSP-RTP-H264-FU-START-END", f"{at}: FU-A with S and E set"))
        if start:
            if self._fu is not None:
                out.append(Violation("RTSP-RTP-H264-FU-ORDER", f"{at}: FU-A restarts"))
            self._fu = bytearray([(payload[0] & 0xE0) | (payload[1] & 0x1F)])
        elif self._fu is None:
            out.append(Violation("RTSP-RTP-H264-FU-ORDER", f"{at}: FU-A fragment without start"))
            return
        elif not contiguous:
            # §5.8: fragments go in consecutive sequence numbers.
            out.append(Violation("RTSP-RTP-H264-FU-ORDER", f"{at}: FU-A sequence gap"))
            self._fu = None
            return
        self._fu += payload[2:]
        self._bound(len(self._fu))
        if end:
            self._add(bytes(self._fu))
            self._fu = None

    def _add(self, nal: bytes) -> None:
        self._nals.append(bytes(nal))
        self._size += len(nal)
        self._bound(0)

    def _bound(self, pending: int) -> None:
        if self._size + pending > self.max_access_unit or len(self._nals) > self.max_nal_units:
            raise ProtocolError(
                f"access unit beyond {self.max_access_unit} octets or {self.max_nal_units} NALs"
            )

    def _complete(self, at: str, out: list[Violation]) -> list[Event]:
        if self._fu is not None:
            out.append(Violation("RTSP-RTP-H264-FU-ORDER", f"{at}: access unit ends inside FU"))
            self._fu = None
        if not self._nals or self._timestamp is None:
            return []
        unit = AccessUnit(self._timestamp, tuple(self._nals))
        self._nals, self._size = [], 0
        return [unit]


# -- audio (RFC 3551) -------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioFrame(Event):
    """The audio of one packet: timestamp, samples per channel, payload."""

    timestamp: int
    samples: int
    payload: bytes = field(repr=False)


# RFC 3551 §4.5: octets per sample of the sample-based encodings we check.
SAMPLE_OCTETS = {"PCMA": 1, "PCMU": 1, "L16": 2, "L8": 1}


class AudioDepacketizer:
    """Checks received sample-based audio (RFC 3551 §4.2, §4.5): frame size, timestamp steps."""

    def __init__(self, encoding: str, channels: int = 1) -> None:
        self.encoding = encoding.upper()
        self.frame_octets = SAMPLE_OCTETS[self.encoding] * channels
        self._last: tuple[int, int, int] | None = None  # sequence, timestamp, samples

    def receive(self, packet: RtpPacket) -> list[Event]:
        out: list[Event] = []
        at = f"packet {packet.sequence}"
        # RFC 3551 §4.5.11: L16 samples are 16 bits, channels interleaved, whole sample frames.
        if self.encoding == "L16" and len(packet.payload) % self.frame_octets:
            out.append(
                Violation(
                    "RTSP-RTP-L16-FRAME",
                    f"{at}: {len(packet.payload)} octets are not whole {self.frame_octets}-octet "
                    "sample frames",
                )
            )
        samples = len(packet.payload) // self.frame_octets
        if self._last is not None and packet.sequence == (self._last[0] + 1) & 0xFFFF:
            step = (packet.timestamp - self._last[1]) & 0xFFFFFFFF
            step = step - (1 << 32) if step >= 1 << 31 else step
            # RFC 3551 §4.2 and RFC 3550 §5.1: the timestamp counts samples, so it advances by
            # the previous packet's count, more only where a talkspurt starts (marker, §4.1).
            if step != self._last[2] and not (packet.marker and step > self._last[2]):
                out.append(
                    Violation(
                        "RTSP-RTP-AUDIO-TIMESTAMP-STEP",
                        f"{at}: timestamp advanced {step}, the previous packet held "
                        f"{self._last[2]} samples",
                    )
                )
        self._last = (packet.sequence, packet.timestamp, samples)
        return [AudioFrame(packet.timestamp, samples, packet.payload), *out]


# -- streams driven by media time -------------------------------------------------------------


@dataclass
class AudioStream:
    """Audio frames as RTP, one frame per packet (RFC 3551 §4.2); media time passed in.

    `frames(index)` gives frame `index`; each holds `samples_per_frame` samples per channel.
    The marker is set on the first packet and the first after a resume (talkspurt, §4.1).
    """

    sender: RtpSender
    frames: Callable[[int], bytes]
    samples_per_frame: int
    next_frame: int = 0
    _talkspurt: bool = field(default=True, repr=False)

    @property
    def ssrc(self) -> int:
        return self.sender.ssrc

    @property
    def next_sequence(self) -> int:
        return self.sender.next_sequence

    @property
    def next_timestamp(self) -> int:
        return self.sender.timestamp(self.next_frame * self.samples_per_frame)

    @property
    def frame_seconds(self) -> float:
        return self.samples_per_frame / self.sender.clock_rate

    def next_packet(self) -> RtpPacket:
        """The next frame's packet, whatever the time."""
        index = self.next_frame
        self.next_frame += 1
        marker, self._talkspurt = self._talkspurt, False
        return self.sender.packet(index * self.samples_per_frame, self.frames(index), marker)

    def packets_until(self, media_time: float) -> list[RtpPacket]:
        """Packets of the frames that start at or before `media_time` and are not sent yet."""
        if self.sender.paused:
            return []
        due = _ticks(media_time, self.sender.clock_rate)
        out: list[RtpPacket] = []
        while self.next_frame * self.samples_per_frame <= due and len(out) < MAX_FRAMES_PER_CALL:
            out.append(self.next_packet())
        return out

    def seek(self, media_time: float) -> None:
        """PLAY with a Range: the next frame is the one at `media_time`; timestamps follow."""
        ticks = _ticks(media_time, self.sender.clock_rate)
        self.next_frame = -(-ticks // self.samples_per_frame)
        self._talkspurt = True

    def pause(self) -> None:
        self.sender.pause()

    def resume(self) -> None:
        self.sender.resume()
        self._talkspurt = True


@dataclass
class H264Stream:
    """H.264 access units as RTP (RFC 6184), `fps` frames a second; media time passed in."""

    sender: RtpSender
    frames: Callable[[int], Sequence[bytes]]
    fps: int = 25
    mtu: int = DEFAULT_MTU
    next_frame: int = 0

    @property
    def ssrc(self) -> int:
        return self.sender.ssrc

    @property
    def next_sequence(self) -> int:
        return self.sender.next_sequence

    @property
    def next_timestamp(self) -> int:
        return self.sender.timestamp(self._frame_ticks(self.next_frame))

    def _frame_ticks(self, index: int) -> int:
        return index * self.sender.clock_rate // self.fps

    def next_packets(self) -> list[RtpPacket]:
        """The packets of the next access unit, whatever the time."""
        index = self.next_frame
        self.next_frame += 1
        return packetize_h264(self.sender, self.frames(index), self._frame_ticks(index), self.mtu)

    def packets_until(self, media_time: float) -> list[RtpPacket]:
        """Packets of the access units due at or before `media_time` and not sent yet."""
        if self.sender.paused:
            return []
        due = _ticks(media_time, self.sender.clock_rate)
        out: list[RtpPacket] = []
        for _ in range(MAX_FRAMES_PER_CALL):
            if self._frame_ticks(self.next_frame) > due:
                break
            out += self.next_packets()
        return out

    def seek(self, media_time: float) -> None:
        """PLAY with a Range: go on from the frame at `media_time`; timestamps follow."""
        self.next_frame = math.ceil(media_time * self.fps - 1e-6)

    def pause(self) -> None:
        self.sender.pause()

    def resume(self) -> None:
        self.sender.resume()


def _ticks(media_time: float, clock_rate: int) -> int:
    # A microsecond of slack so that 0.02 * 8000 counts as the 160 it means.
    return math.floor(media_time * clock_rate + 1e-6 * clock_rate)


# -- SDP media sections (RFC 4566 §5.14, RFC 6184 §8.2.1, RFC 3551 §6) -------------------------


def h264_sdp_media(
    payload_type: int, sps: bytes, pps: bytes, control: str, packetization_mode: int = 1
) -> str:
    """m=video with rtpmap and fmtp: mode, profile-level-id from the SPS, parameter sets."""
    sets = ",".join(base64.b64encode(nal).decode("ascii") for nal in (sps, pps))
    fmtp = (
        f"packetization-mode={packetization_mode};profile-level-id={sps[1:4].hex().upper()};"
        f"sprop-parameter-sets={sets}"
    )
    return (
        f"m=video 0 RTP/AVP {payload_type}\r\n"
        f"a=rtpmap:{payload_type} H264/{H264_CLOCK}\r\n"
        f"a=fmtp:{payload_type} {fmtp}\r\n"
        f"a=control:{control}\r\n"
    )


def audio_sdp_media(
    payload_type: int, encoding: str, clock_rate: int, channels: int, control: str
) -> str:
    """m=audio with its rtpmap; the channel count is left out when it is one (RFC 4566 §6)."""
    suffix = f"/{channels}" if channels != 1 else ""
    return (
        f"m=audio 0 RTP/AVP {payload_type}\r\n"
        f"a=rtpmap:{payload_type} {encoding}/{clock_rate}{suffix}\r\n"
        f"a=control:{control}\r\n"
    )


def l16_payload_type(clock_rate: int, channels: int) -> int:
    """RFC 3551 §6: 10 is L16 44.1 kHz stereo, 11 mono; anything else takes a dynamic type."""
    if clock_rate == 44100 and channels in (1, 2):
        return L16_MONO_PAYLOAD_TYPE if channels == 1 else L16_STEREO_PAYLOAD_TYPE
    return DYNAMIC_PAYLOAD_TYPE
