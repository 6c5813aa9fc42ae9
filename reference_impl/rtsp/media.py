"""Generated media, deterministic and small: H.264 access units, a tone as PCMA and L16 audio.

Nothing is stored. H.264 parameter sets are written field by field with an Exp-Golomb bit
writer (ITU-T H.264 §7.3.2.1.1, §7.3.2.2); slices carry a real slice header (§7.3.3) and then
synthetic filler, so the framing is well formed though pictures do not decode. Audio is a sine
tone, A-law (G.711) or 16-bit linear. The `*_stream` functions wire each into an RTP stream.
"""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass
from functools import lru_cache

from reference_impl.rtsp.packetizer import (
    DEFAULT_MTU,
    DYNAMIC_PAYLOAD_TYPE,
    H264_CLOCK,
    PCMA_PAYLOAD_TYPE,
    SEQ_JUMP,
    AudioStream,
    H264Stream,
    RtpSender,
    audio_sdp_media,
    h264_sdp_media,
    l16_payload_type,
)

CLOCK_RATE = 8000  # PCMA, RFC 3551 §4.5.14
SAMPLES_PER_PACKET = 160  # 20 ms, the RFC 3551 §4.5 default packetization interval
PACKET_SECONDS = SAMPLES_PER_PACKET / CLOCK_RATE
TONE_HZ = 440.0
TONE_AMPLITUDE = 8000

# -- H.264 ------------------------------------------------------------------------------------

NAL_SLICE, NAL_IDR, NAL_SPS, NAL_PPS = 1, 5, 7, 8
_NO_ZERO = bytes([1]) + bytes(range(1, 256))  # filler without 0x00 never emulates a start code


@dataclass(frozen=True)
class H264Config:
    """The generated video: size in pixels (multiples of 16), frame rate, GOP, slice sizes."""

    width: int = 64
    height: int = 64
    fps: int = 25
    gop: int = 25  # an IDR access unit (SPS, PPS, IDR slice) every `gop` frames
    idr_size: int = 3000  # octets of an IDR slice: above the MTU, so it goes as FU-A
    slice_size: int = 400  # octets of a non-IDR slice, give or take 100


class _Bits:
    """An MSB-first bit writer with the Exp-Golomb codes of ITU-T H.264 §9.1."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, width: int, value: int) -> None:
        self.bits += [(value >> i) & 1 for i in range(width - 1, -1, -1)]

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(code.bit_length() - 1, 0)
        self.u(code.bit_length(), code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def bytes(self, trailing: bool = True) -> bytes:
        """The bits so far; with `trailing`, rbsp_trailing_bits (a 1, then 0s to the byte)."""
        bits = self.bits + ([1] if trailing else [])
        bits += [0] * (-len(bits) % 8)
        return bytes(
            sum(bit << (7 - i) for i, bit in enumerate(bits[n : n + 8]))
            for n in range(0, len(bits), 8)
        )


def emulation_prevention(rbsp: bytes) -> bytes:
    """ITU-T H.264 §7.4.1: after two zero octets, an octet 0..3 is preceded by 0x03."""
    out = bytearray()
    zeros = 0
    for octet in rbsp:
        if zeros >= 2 and octet <= 3:
            out.append(3)
            zeros = 0
        out.append(octet)
        zeros = zeros + 1 if octet == 0 else 0
    return bytes(out)


def h264_sps(config: H264Config = H264Config()) -> bytes:
    """A Constrained Baseline SPS, level 3.0 (§7.3.2.1.1): profile-level-id 42C01E."""
    bits = _Bits()
    bits.u(8, 66)  # profile_idc: Baseline
    bits.u(8, 0xC0)  # constraint_set0_flag and constraint_set1_flag: Constrained Baseline
    bits.u(8, 30)  # level_idc 3.0
    bits.ue(0)  # seq_parameter_set_id
    bits.ue(0)  # log2_max_frame_num_minus4: frame_num has 4 bits
    bits.ue(2)  # pic_order_cnt_type 2: order follows decoding, nothing to send
    bits.ue(1)  # max_num_ref_frames
    bits.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    bits.ue(config.width // 16 - 1)  # pic_width_in_mbs_minus1
    bits.ue(config.height // 16 - 1)  # pic_height_in_map_units_minus1
    bits.u(1, 1)  # frame_mbs_only_flag
    bits.u(1, 1)  # direct_8x8_inference_flag
    bits.u(1, 0)  # frame_cropping_flag
    bits.u(1, 0)  # vui_parameters_present_flag
    return bytes([0x60 | NAL_SPS]) + emulation_prevention(bits.bytes())  # NRI 3


def h264_pps() -> bytes:
    """The PPS that goes with `h264_sps` (§7.3.2.2): CAVLC, one slice group, deblocking control."""
    bits = _Bits()
    bits.ue(0)  # pic_parameter_set_id
    bits.ue(0)  # seq_parameter_set_id
    bits.u(1, 0)  # entropy_coding_mode_flag: CAVLC
    bits.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    bits.ue(0)  # num_slice_groups_minus1
    bits.ue(0)  # num_ref_idx_l0_default_active_minus1
    bits.ue(0)  # num_ref_idx_l1_default_active_minus1
    bits.u(1, 0)  # weighted_pred_flag
    bits.u(2, 0)  # weighted_bipred_idc
    bits.se(0)  # pic_init_qp_minus26
    bits.se(0)  # pic_init_qs_minus26
    bits.se(0)  # chroma_qp_index_offset
    bits.u(1, 1)  # deblocking_filter_control_present_flag
    bits.u(1, 0)  # constrained_intra_pred_flag
    bits.u(1, 0)  # redundant_pic_cnt_present_flag
    return bytes([0x60 | NAL_PPS]) + emulation_prevention(bits.bytes())


def _slice(index: int, config: H264Config) -> bytes:
    """A slice NAL unit: the slice header of §7.3.3 for our SPS/PPS, then synthetic filler."""
    position = index % config.gop
    idr = position == 0
    bits = _Bits()
    bits.ue(0)  # first_mb_in_slice
    bits.ue(7 if idr else 5)  # slice_type: all I, or all P
    bits.ue(0)  # pic_parameter_set_id
    bits.u(4, position % 16)  # frame_num
    if idr:
        bits.ue((index // config.gop) % 65536)  # idr_pic_id
    else:
        bits.u(1, 0)  # num_ref_idx_active_override_flag
        bits.u(1, 0)  # ref_pic_list_modification_flag_l0
    bits.u(1, 0)  # IDR: no_output_of_prior_pics_flag; else adaptive_ref_pic_marking_mode_flag
    if idr:
        bits.u(1, 0)  # long_term_reference_flag
    bits.se(0)  # slice_qp_delta
    bits.ue(0)  # disable_deblocking_filter_idc
    bits.se(0)  # slice_alpha_c0_offset_div2
    bits.se(0)  # slice_beta_offset_div2
    header = bits.bytes(trailing=False)
    size = config.idr_size if idr else config.slice_size + (index * 37) % 200 - 100
    filler = random.Random(index).randbytes(max(1, size - len(header))).translate(_NO_ZERO)
    nal_header = (0x60 | NAL_IDR) if idr else (0x40 | NAL_SLICE)  # NRI 3 for IDR, 2 for P
    return bytes([nal_header]) + emulation_prevention(header + filler)


def h264_access_unit(index: int, config: H264Config = H264Config()) -> tuple[bytes, ...]:
    """Access unit `index`: SPS, PPS and an IDR slice at each GOP start, else one P slice."""
    if index % config.gop == 0:
        return (h264_sps(config), h264_pps(), _slice(index, config))
    return (_slice(index, config),)


# -- audio ------------------------------------------------------------------------------------


def tone(
    start: int, count: int, rate: int, frequency: float = TONE_HZ, amplitude: int = TONE_AMPLITUDE
) -> list[int]:
    """`count` 16-bit samples of a sine tone from sample `start` at `rate` Hz."""
    step = 2 * math.pi * frequency / rate
    return [int(amplitude * math.sin(step * (start + n))) for n in range(count)]


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


# 440 Hz and 660 Hz both fit a whole number of periods into a second, that is into 50 frames
# of 20 ms, so frames repeat every 50 and can be cached.
_PERIOD_FRAMES = 50


@lru_cache(maxsize=4 * _PERIOD_FRAMES)
def _pcma(index: int, samples: int) -> bytes:
    return bytes(alaw_encode(s) for s in tone(index * samples, samples, CLOCK_RATE))


def pcma_frame(index: int, samples: int = SAMPLES_PER_PACKET) -> bytes:
    """Frame `index` of the tone as PCMA: `samples` A-law octets at 8 kHz (RFC 3551 §4.5.14)."""
    return _pcma(index % _PERIOD_FRAMES if samples == SAMPLES_PER_PACKET else index, samples)


def tone_frame(index: int) -> bytes:
    """Packet `index` of the tone: 160 A-law samples."""
    return pcma_frame(index)


@lru_cache(maxsize=4 * _PERIOD_FRAMES)
def l16_frame(index: int, rate: int = 44100, channels: int = 2, samples: int = 882) -> bytes:
    """Frame `index` as L16 (RFC 3551 §4.5.11): big-endian 16-bit, channels interleaved; the
    first channel plays 440 Hz, the others 660 Hz."""
    start = index * samples
    voices = [tone(start, samples, rate, TONE_HZ if c == 0 else 660.0) for c in range(channels)]
    interleaved = [voice[n] for n in range(samples) for voice in voices]
    return struct.pack(f">{len(interleaved)}h", *interleaved)


# -- streams ----------------------------------------------------------------------------------


def pcma_stream(
    ssrc: int, first_sequence: int = 0, first_timestamp: int = 0, seq_jump_after_resume: int = 0
) -> AudioStream:
    """The tone as PCMA, static payload type 8, 20 ms a packet."""
    sender = RtpSender(
        ssrc, PCMA_PAYLOAD_TYPE, CLOCK_RATE, first_sequence, first_timestamp, seq_jump_after_resume
    )
    return AudioStream(sender, pcma_frame, SAMPLES_PER_PACKET)


def l16_stream(
    ssrc: int,
    rate: int = 44100,
    channels: int = 2,
    first_sequence: int = 0,
    first_timestamp: int = 0,
    seq_jump_after_resume: int = 0,
) -> AudioStream:
    """The tone as L16 at `rate`, 20 ms a packet; type 10/11 at 44.1 kHz, else dynamic."""
    samples = rate // 50
    sender = RtpSender(
        ssrc,
        l16_payload_type(rate, channels),
        rate,
        first_sequence,
        first_timestamp,
        seq_jump_after_resume,
    )
    # The tone repeats every second, so every 50 frames when a frame is exactly 20 ms.
    period = _PERIOD_FRAMES if rate % 50 == 0 else 1 << 62
    return AudioStream(sender, lambda i: l16_frame(i % period, rate, channels, samples), samples)


def h264_stream(
    ssrc: int,
    config: H264Config = H264Config(),
    mtu: int = DEFAULT_MTU,
    payload_type: int = DYNAMIC_PAYLOAD_TYPE,
    first_sequence: int = 0,
    first_timestamp: int = 0,
    seq_jump_after_resume: int = 0,
) -> H264Stream:
    """The generated video at 90 kHz (RFC 6184 §5.1), packetization mode 1."""
    sender = RtpSender(
        ssrc, payload_type, H264_CLOCK, first_sequence, first_timestamp, seq_jump_after_resume
    )
    return H264Stream(sender, lambda i: h264_access_unit(i, config), config.fps, mtu)


def h264_sdp(
    control: str, config: H264Config = H264Config(), payload_type: int = DYNAMIC_PAYLOAD_TYPE
) -> str:
    """The SDP media section of the generated video."""
    return h264_sdp_media(payload_type, h264_sps(config), h264_pps(), control)


def l16_sdp(control: str, rate: int = 44100, channels: int = 2) -> str:
    """The SDP media section of the L16 tone."""
    return audio_sdp_media(l16_payload_type(rate, channels), "L16", rate, channels, control)


def sdp_media(control: str) -> str:
    """The SDP media section of the PCMA tone (RFC 4566 §5.14, RFC 3551 static type 8)."""
    return audio_sdp_media(PCMA_PAYLOAD_TYPE, "PCMA", CLOCK_RATE, 1, control)


class PcmaPacketizer(AudioStream):
    """The reference server's audio track: the PCMA tone, one packet per `next_packet` call.

    `seq_jump_after_resume` turns on the fault rtp_seq_jump_after_pause.
    """

    def __init__(
        self,
        ssrc: int,
        first_sequence: int = 0,
        first_timestamp: int = 0,
        seq_jump_after_resume: bool = False,
    ) -> None:
        jump = SEQ_JUMP if seq_jump_after_resume else 0
        stream = pcma_stream(ssrc, first_sequence, first_timestamp, jump)
        super().__init__(stream.sender, stream.frames, stream.samples_per_frame)

    def resumed(self) -> None:
        """After PAUSE, PLAY goes on where it stopped (RFC 2326 §10.5, §10.6)."""
        self.resume()
