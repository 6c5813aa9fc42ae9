"""Generated FLV tag bodies for RTMP audio and video messages (FLV 10.1 §E.4.2, §E.4.3).

Video is the generated H.264 of the RTSP package (well-formed parameter sets and slice headers)
in AVC form: a sequence header with the AVCDecoderConfigurationRecord (ISO/IEC 14496-15
§5.2.4.1), then length-prefixed NAL units. Audio is the same A-law tone (sound format 7), or
AAC with a sequence header (AudioSpecificConfig, ISO/IEC 14496-3 §1.6.2.1) and synthetic frames
for tests that only need the framing.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from reference_impl.rtmp.messages import Media, MessageType
from reference_impl.rtsp.media import h264_access_unit, h264_pps, h264_sps, pcma_frame

FPS = 25
AUDIO_FRAME_MS = 20
# FLV VIDEODATA first byte: frame type (1 key, 2 inter) << 4 | codec 7 (AVC)
KEY_AVC, INTER_AVC = 0x17, 0x27
# FLV AUDIODATA first byte: format 7 (A-law), "5.5 kHz" rate bits, 16-bit, mono (rate ignored
# for G.711, which is always 8 kHz); format 10 (AAC) is always flagged 44 kHz stereo 16-bit.
ALAW_FLAGS, AAC_FLAGS = 0x72, 0xAF
AAC_LC_44100_STEREO = bytes([0x12, 0x10])


def avc_sequence_header() -> bytes:
    sps, pps = h264_sps(), h264_pps()
    record = bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]) + struct.pack(">H", len(sps)) + sps
    record += bytes([1]) + struct.pack(">H", len(pps)) + pps
    return bytes([KEY_AVC, 0, 0, 0, 0]) + record


def avc_frame(index: int) -> bytes:
    """Access unit `index` (an IDR every second) as an AVC NALU video tag body."""
    nals = [n for n in h264_access_unit(index) if n[0] & 0x1F not in (7, 8)]
    key = index % FPS == 0
    body = b"".join(struct.pack(">I", len(n)) + n for n in nals)
    return bytes([KEY_AVC if key else INTER_AVC, 1, 0, 0, 0]) + body


def alaw_frame(index: int) -> bytes:
    return bytes([ALAW_FLAGS]) + pcma_frame(index)


def aac_sequence_header() -> bytes:
    return bytes([AAC_FLAGS, 0]) + AAC_LC_44100_STEREO


def aac_frame(index: int) -> bytes:
    return bytes([AAC_FLAGS, 1]) + bytes([0x21, 0x10, index & 0xFF, 0x00])


@dataclass(frozen=True)
class Source:
    """What a generated stream carries: AVC video and A-law or AAC audio."""

    aac: bool = False
    start_ms: int = 0


def generate(source: Source, stream_id: int, count: int) -> Iterator[Media]:
    """The first `count` media messages of a stream: sequence headers, then frames in order."""
    video, audio = MessageType.VIDEO, MessageType.AUDIO
    t0 = source.start_ms
    yield Media(video, t0, avc_sequence_header(), stream_id)
    if source.aac:
        yield Media(audio, t0, aac_sequence_header(), stream_id)
    sent, frame, chunk = 2 if source.aac else 1, 0, 0
    while sent < count:
        video_ms = frame * 1000 // FPS
        audio_ms = chunk * AUDIO_FRAME_MS
        if video_ms <= audio_ms:
            yield Media(video, t0 + video_ms, avc_frame(frame), stream_id)
            frame += 1
        else:
            body = aac_frame(chunk) if source.aac else alaw_frame(chunk)
            yield Media(audio, t0 + audio_ms, body, stream_id)
            chunk += 1
        sent += 1


def metadata(aac: bool = False) -> dict[str, object]:
    """An onMetaData object describing the generated stream (FLV 10.1 §E.5)."""
    return {
        "width": 64.0,
        "height": 64.0,
        "framerate": float(FPS),
        "videocodecid": 7.0,
        "audiocodecid": 10.0 if aac else 7.0,
        "encoder": "streamconform",
    }
