"""Generated media and its RTP packetizer: G.711 A-law (PCMA) audio, RFC 3551 §4.5.14.

Deterministic and tiny: a 440 Hz tone, 20 ms per packet (160 samples at 8 kHz). Time is passed
in as media time, so PAUSE and PLAY keep sequence numbers and timestamps continuous.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reference_impl.rtsp.rtp import RtpPacket

PCMA_PAYLOAD_TYPE = 8
CLOCK_RATE = 8000
SAMPLES_PER_PACKET = 160
PACKET_SECONDS = SAMPLES_PER_PACKET / CLOCK_RATE


def alaw_encode(sample: int) -> int:
    """One 16-bit linear sample to A-law (ITU-T G.711)."""
    sign = 0x80 if sample >= 0 else 0x00
    magnitude = min(abs(sample), 32767) >> 3
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (code | sign) ^ 0x55


def tone_frame(index: int) -> bytes:
    """Packet `index` of the tone: 160 A-law samples."""
    start = index * SAMPLES_PER_PACKET
    return bytes(
        alaw_encode(int(8000 * math.sin(2 * math.pi * 440 * (start + n) / CLOCK_RATE)))
        for n in range(SAMPLES_PER_PACKET)
    )


@dataclass
class PcmaPacketizer:
    """Turns media time into RTP packets with continuous sequence numbers and timestamps."""

    ssrc: int
    first_sequence: int = 0
    first_timestamp: int = 0
    sent: int = 0
    seq_jump_after_resume: bool = False  # the fault rtp_seq_jump_after_pause
    _jump: int = 0

    def next_packet(self) -> RtpPacket:
        index = self.sent
        self.sent += 1
        return RtpPacket(
            payload_type=PCMA_PAYLOAD_TYPE,
            sequence=(self.first_sequence + index + self._jump) & 0xFFFF,
            timestamp=(self.first_timestamp + index * SAMPLES_PER_PACKET) & 0xFFFFFFFF,
            ssrc=self.ssrc,
            payload=tone_frame(index % 50),
            marker=index == 0,
        )

    def resumed(self) -> None:
        """After PAUSE, PLAY goes on where it stopped (RFC 2326 §10.5, §10.6)."""
        if self.seq_jump_after_resume:
            self._jump += 1000

    @property
    def next_sequence(self) -> int:
        return (self.first_sequence + self.sent + self._jump) & 0xFFFF

    @property
    def next_timestamp(self) -> int:
        return (self.first_timestamp + self.sent * SAMPLES_PER_PACKET) & 0xFFFFFFFF


def sdp_media(control: str) -> str:
    """The SDP media section of the tone (RFC 4566 §5.14, RFC 3551 static type 8)."""
    return (
        f"m=audio 0 RTP/AVP {PCMA_PAYLOAD_TYPE}\r\na=rtpmap:8 PCMA/8000\r\na=control:{control}\r\n"
    )
