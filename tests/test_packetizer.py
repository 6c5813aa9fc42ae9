"""Generated media and its RTP packetization: FU-A reassembly, markers, timestamps across
PAUSE and PLAY, the rtp_seq_jump_after_pause fault, and the checks of the reverse direction."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.common.events import Event, ProtocolError, Violation
from reference_impl.rtsp import packetizer
from reference_impl.rtsp.media import (
    H264Config,
    PcmaPacketizer,
    alaw_encode,
    h264_access_unit,
    h264_pps,
    h264_sdp,
    h264_sps,
    h264_stream,
    l16_frame,
    l16_stream,
    pcma_frame,
    pcma_stream,
    sdp_media,
    tone,
)
from reference_impl.rtsp.packetizer import (
    AccessUnit,
    AudioDepacketizer,
    AudioFrame,
    H264Depacketizer,
    RtpSender,
    h264_payloads,
    packetize_h264,
)
from reference_impl.rtsp.rtp import (
    RtpPacket,
    SequenceGap,
    SequenceTracker,
    parse_rtp,
    serialize_rtp,
)
from reference_impl.rtsp.sdp import check_sdp, parse_sdp


def ids(events: list[Event]) -> list[str]:
    return [e.requirement_id for e in events if isinstance(e, Violation)]


def units(events: list[Event]) -> list[AccessUnit]:
    return [e for e in events if isinstance(e, AccessUnit)]


def depacketize(packets: list[RtpPacket], mode: int = 1) -> tuple[list[AccessUnit], list[str]]:
    depacketizer = H264Depacketizer(mode)
    events = [e for p in packets for e in depacketizer.receive(p)] + depacketizer.flush()
    return units(events), ids(events)


nal_units = st.builds(
    lambda kind, nri, body: bytes([nri << 5 | kind]) + body,
    st.integers(1, 23),
    st.integers(0, 3),
    st.binary(max_size=3000),
)


@settings(max_examples=150, deadline=None)
@given(nal_units, st.integers(3, 1500))
def test_a_nal_unit_comes_back_from_its_fragments(nal: bytes, max_payload: int) -> None:
    payloads = h264_payloads(nal, max_payload)
    assert all(len(p) <= max_payload for p in payloads)
    if len(nal) <= max_payload:
        assert payloads == [nal]  # a single NAL unit packet (RFC 6184 §5.6)
    else:
        headers = [p[1] for p in payloads]
        assert [h >> 6 for h in headers] == [2] + [0] * (len(payloads) - 2) + [1]  # S ... E
        assert all(p[0] == (nal[0] & 0xE0) | 28 for p in payloads)
    sender = RtpSender(1, 96, 90000)
    packets = [sender.packet(0, p, marker=i == len(payloads) - 1) for i, p in enumerate(payloads)]
    assert depacketize(packets) == ([AccessUnit(0, (nal,))], [])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(nal_units, min_size=1, max_size=4), min_size=1, max_size=5),
    st.integers(40, 1500),
)
def test_access_units_come_back_with_one_marker_each(aus: list[list[bytes]], mtu: int) -> None:
    sender = RtpSender(1, 96, 90000, first_sequence=0xFFF0)
    packets = [p for n, au in enumerate(aus) for p in packetize_h264(sender, au, n * 3000, mtu)]
    assert all(len(serialize_rtp(p)) <= mtu for p in packets)
    assert sum(p.marker for p in packets) == len(aus)
    assert depacketize(packets) == (
        [AccessUnit(n * 3000, tuple(au)) for n, au in enumerate(aus)],
        [],
    )


# -- the generated video ----------------------------------------------------------------------


def test_the_parameter_sets_are_written_field_by_field() -> None:
    assert h264_sps().hex() == "6742c01eda1099"  # Constrained Baseline 3.0, 4x4 macroblocks
    assert h264_pps().hex() == "68ce3c80"
    assert h264_sps(H264Config(width=1280, height=720))[1:4].hex() == "42c01e"


def test_access_units_are_well_framed_nal_units() -> None:
    config = H264Config()
    kinds = [[nal[0] & 0x1F for nal in h264_access_unit(i, config)] for i in range(30)]
    assert kinds[0] == kinds[25] == [7, 8, 5] and all(k == [1] for k in kinds[1:25])
    for i in range(30):
        for nal in h264_access_unit(i, config):
            assert nal[0] & 0x80 == 0 and nal[-1] != 0
            # emulation prevention: no start code, nor 00 00 0x, inside a NAL unit
            assert re.search(b"\x00\x00[\x00-\x03]", nal) is None
    assert h264_access_unit(3) == h264_access_unit(3)  # deterministic


def test_a_stream_of_video_reassembles_into_what_was_generated() -> None:
    stream = h264_stream(0xC0FFEE, first_sequence=65500, first_timestamp=0xFFFFF000)
    packets = stream.packets_until(1.96)  # frames 0..49
    assert packets[0].payload_type == 96 and packets[0].ssrc == 0xC0FFEE
    got, violations = depacketize(packets)
    assert violations == []
    assert [u.nal_units for u in got] == [h264_access_unit(i) for i in range(50)]
    assert [u.timestamp for u in got] == [(0xFFFFF000 + 3600 * i) & 0xFFFFFFFF for i in range(50)]
    assert any(p.payload[0] & 0x1F == 28 for p in packets)  # the IDR slices went as FU-A
    assert stream.packets_until(1.96) == []  # nothing twice


def check_stream(packets: list[RtpPacket], tracker: SequenceTracker, arrival: float) -> list[str]:
    found = []
    for packet in packets:
        parsed, violations = parse_rtp(serialize_rtp(packet))
        found += ids(list(violations)) + ids(tracker.receive(parsed, now=arrival))
    return found


@pytest.mark.parametrize("faulty", [False, True], ids=["conformant", "rtp_seq_jump_after_pause"])
def test_video_goes_on_after_pause_and_play_unless_the_fault_is_on(faulty: bool) -> None:
    stream = h264_stream(7, seq_jump_after_resume=packetizer.SEQ_JUMP if faulty else 0)
    tracker = SequenceTracker(clock_rate=90000)
    before = stream.packets_until(1.0)
    assert check_stream(before, tracker, 1.0) == []
    stream.pause()
    assert stream.packets_until(5.0) == []  # paused: nothing, whatever the caller says
    stream.resume()
    tracker.resumed()
    after = stream.packets_until(2.0)  # media time goes on from the pause point
    assert after[0].timestamp - before[-1].timestamp == 3600  # one frame later, not 4 s later
    found = check_stream(after, tracker, 30.0)
    events = tracker.receive(RtpPacket(96, (after[-1].sequence + 1) & 0xFFFF, 0, 7))
    assert not any(isinstance(e, SequenceGap) for e in events)
    if faulty:
        assert after[0].sequence == (before[-1].sequence + 1 + packetizer.SEQ_JUMP) & 0xFFFF
        assert found == ["RTSP-RTP-SEQ-CONTINUOUS"]
    else:
        assert after[0].sequence == (before[-1].sequence + 1) & 0xFFFF
        assert found == []
    assert depacketize(before + after)[1] == []


def test_a_seek_moves_timestamps_with_media_time_and_keeps_sequence_numbers() -> None:
    stream = h264_stream(7)
    before = stream.packets_until(0.5)
    stream.pause()
    stream.seek(10.0)
    stream.resume()
    after = stream.packets_until(10.0)
    assert after[0].timestamp == 10 * 90000 and after[0].sequence == before[-1].sequence + 1
    tracker = SequenceTracker()
    check_stream(before, tracker, 0)
    tracker.resumed(seek=True)
    assert check_stream(after, tracker, 0) == []


def test_a_leap_of_media_time_is_sent_in_bounded_bursts() -> None:
    stream = pcma_stream(1)
    assert len(stream.packets_until(1e9)) == packetizer.MAX_FRAMES_PER_CALL


# -- the generated audio ----------------------------------------------------------------------


def test_alaw_of_silence_and_extremes() -> None:
    assert alaw_encode(0) == 0xD5 and alaw_encode(-1) == 0x55
    assert alaw_encode(32767) == 0xAA and alaw_encode(-32768) == 0x2A


def test_the_tone_repeats_every_second() -> None:
    assert tone(0, 8, 8000) == tone(8000, 8, 8000)
    assert pcma_frame(3) == pcma_frame(53) and len(pcma_frame(0)) == 160
    assert len(l16_frame(0)) == 882 * 2 * 2 and l16_frame(1) == l16_frame(51)


def test_pcma_packets_step_by_their_samples_and_mark_each_talkspurt() -> None:
    stream = pcma_stream(5, first_sequence=65535, first_timestamp=100)
    first = stream.packets_until(0.5)  # frames at 0, 20, ..., 500 ms
    assert len(first) == 26 and [p.marker for p in first] == [True] + [False] * 25
    assert {p.payload_type for p in first} == {8} and {len(p.payload) for p in first} == {160}
    stream.pause()
    stream.resume()
    second = stream.packets_until(1.0)
    assert second[0].marker and second[0].timestamp == first[-1].timestamp + 160
    checker = AudioDepacketizer("PCMA")
    events = [e for p in first + second for e in checker.receive(p)]
    assert ids(events) == [] and sum(isinstance(e, AudioFrame) for e in events) == 51


@pytest.mark.parametrize(
    ("rate", "channels", "payload_type"), [(44100, 2, 10), (44100, 1, 11), (48000, 2, 96)]
)
def test_l16_takes_the_static_types_at_44k1_and_a_dynamic_one_otherwise(
    rate: int, channels: int, payload_type: int
) -> None:
    stream = l16_stream(9, rate, channels)
    packets = stream.packets_until(0.1)
    assert {p.payload_type for p in packets} == {payload_type}
    assert {len(p.payload) for p in packets} == {rate // 50 * 2 * channels}
    assert packets[1].timestamp - packets[0].timestamp == rate // 50
    checker = AudioDepacketizer("L16", channels)
    assert ids([e for p in packets for e in checker.receive(p)]) == []


def test_audio_deviations_are_reported() -> None:
    l16 = AudioDepacketizer("L16", 2)
    assert ids(l16.receive(RtpPacket(10, 1, 0, 1, b"\x00" * 6))) == ["RTSP-RTP-L16-FRAME"]
    pcma = AudioDepacketizer("PCMA")
    pcma.receive(RtpPacket(8, 1, 0, 1, bytes(160)))
    assert ids(pcma.receive(RtpPacket(8, 2, 100, 1, bytes(160)))) == [
        "RTSP-RTP-AUDIO-TIMESTAMP-STEP"
    ]
    assert ids(pcma.receive(RtpPacket(8, 3, 900, 1, bytes(160)))) == [
        "RTSP-RTP-AUDIO-TIMESTAMP-STEP"
    ]
    assert ids(pcma.receive(RtpPacket(8, 4, 1900, 1, bytes(160), marker=True))) == []  # talkspurt


def test_the_reference_servers_packetizer_keeps_its_api() -> None:
    packetizer_ = PcmaPacketizer(1, first_sequence=65530, first_timestamp=7)
    announced = (packetizer_.next_sequence, packetizer_.next_timestamp)
    packet = packetizer_.next_packet()
    assert (packet.sequence, packet.timestamp) == announced == (65530, 7)
    assert packet.marker and packet.payload == pcma_frame(0)
    packetizer_.resumed()
    assert packetizer_.next_packet().marker


# -- H.264 deviations -------------------------------------------------------------------------


def packet(sequence: int, payload: bytes, timestamp: int = 0, marker: bool = False) -> RtpPacket:
    return RtpPacket(96, sequence, timestamp, 1, payload, marker)


IDR = bytes([0x65]) + bytes(range(1, 50))


@pytest.mark.parametrize(
    ("packets", "expected"),
    [
        ([packet(1, IDR), packet(2, IDR, 3000, True)], ["RTSP-RTP-H264-MARKER"]),
        ([packet(1, IDR, 0, True), packet(2, IDR, 0, True)], ["RTSP-RTP-H264-MARKER"]),
        ([packet(1, b"\xe5abc", 0, True)], ["RTSP-RTP-H264-FORBIDDEN-BIT"]),
        ([packet(1, b"\x7c\xc5abc", 0, True)], ["RTSP-RTP-H264-FU-START-END"]),  # S and E
        ([packet(1, b"\x7c\x05ab", 0, True)], ["RTSP-RTP-H264-FU-ORDER"]),  # no start
        (
            [packet(1, b"\x7c\x85ab"), packet(3, b"\x7c\x45ab", 0, True)],
            ["RTSP-RTP-H264-FU-ORDER"],  # a gap inside the FU
        ),
        ([packet(1, b"\x7c\x85ab"), packet(2, IDR, 0, True)], ["RTSP-RTP-H264-FU-ORDER"]),
        ([packet(1, b"\x7c\x85ab", 0, True)], ["RTSP-RTP-H264-FU-ORDER"]),  # marker mid-FU
        ([packet(1, b"", 0, True)], ["RTSP-RTP-H264-PAYLOAD"]),
        ([packet(1, b"\x78\x00\x09ab", 0, True)], ["RTSP-RTP-H264-PAYLOAD"]),  # STAP-A overrun
        ([packet(1, b"\x7d\x85ab", 0, True)], ["RTSP-RTP-H264-MODE"]),  # FU-B in mode 1
        ([packet(1, b"\x7e", 0, True)], ["RTSP-RTP-H264-MODE"]),  # type 30
    ],
    ids=[
        "no-marker",
        "after-marker",
        "f-bit",
        "fu-start-end",
        "fu-no-start",
        "fu-gap",
        "fu-interrupted",
        "fu-unfinished",
        "empty",
        "stap-a",
        "mode-fu-b",
        "mode-type-30",
    ],
)
def test_each_h264_deviation_is_reported(packets: list[RtpPacket], expected: list[str]) -> None:
    assert depacketize(packets)[1] == expected


def test_packetization_mode_0_allows_single_nal_units_only() -> None:
    sender = RtpSender(1, 96, 90000)
    assert depacketize(packetize_h264(sender, [IDR], 0), mode=0)[1] == []
    fragmented = packetize_h264(sender, [IDR], 0, mtu=30)
    assert set(depacketize(fragmented, mode=0)[1]) == {"RTSP-RTP-H264-MODE"}


def test_stap_a_is_unpacked() -> None:
    stap = b"\x78" + b"".join(len(n).to_bytes(2, "big") + n for n in (h264_sps(), h264_pps()))
    assert depacketize([packet(1, stap, 5, True)]) == (
        [AccessUnit(5, (h264_sps(), h264_pps()))],
        [],
    )


def test_reassembly_is_bounded() -> None:
    depacketizer = H264Depacketizer(max_access_unit=100)
    depacketizer.receive(packet(1, b"\x7c\x85" + bytes(60)))
    with pytest.raises(ProtocolError):
        depacketizer.receive(packet(2, b"\x7c\x05" + bytes(60)))


# -- SDP sections -----------------------------------------------------------------------------


def test_each_streams_sdp_section_announces_it() -> None:
    head = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
    desc, violations = parse_sdp(head + h264_sdp("v") + sdp_media("a"))
    assert violations == [] and check_sdp(desc) == []
    fmtp = desc.media[0].fmtp(96)
    sets = [base64.b64decode(s) for s in fmtp["sprop-parameter-sets"].split(",")]
    assert sets == [h264_sps(), h264_pps()] and fmtp["profile-level-id"] == "42C01E"
    assert sdp_media("trackID=0") == (
        "m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:trackID=0\r\n"
    )
