"""RTP, SDP and Transport parsers: total on any input, exact round trips, spec rules reported."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.common.events import ProtocolError
from reference_impl.rtsp.media import PcmaPacketizer, alaw_encode
from reference_impl.rtsp.rtp import RtpPacket, StreamChecker, parse_rtp, serialize_rtp
from reference_impl.rtsp.sdp import parse_sdp, resolve_control, serialize_sdp
from reference_impl.rtsp.transport import parse_transports

packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=64),
    marker=st.booleans(),
    csrcs=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
    extension=st.none()
    | st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=16).map(lambda b: b[: len(b) // 4 * 4])),
    padding=st.integers(0, 8),
)


@settings(max_examples=200, deadline=None)
@given(packets)
def test_a_serialised_rtp_packet_parses_back_to_itself(packet: RtpPacket) -> None:
    parsed, violations = parse_rtp(serialize_rtp(packet))
    assert violations == [] and parsed == packet


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_any_bytes_are_an_rtp_packet_with_violations_or_a_protocol_error(data: bytes) -> None:
    try:
        packet, _ = parse_rtp(data)
    except ProtocolError:
        assert len(data) < 12
    else:
        assert len(packet.payload) <= len(data)


def test_version_and_impossible_padding_are_reported() -> None:
    good = serialize_rtp(RtpPacket(8, 1, 2, 3, b"abcd"))
    _, v1 = parse_rtp(bytes([0x40]) + good[1:])
    assert [v.requirement_id for v in v1] == ["RTSP-RTP-VERSION"]
    _, v2 = parse_rtp(bytes([good[0] | 0x20]) + good[1:-1] + b"\xff")
    assert [v.requirement_id for v in v2] == ["RTSP-RTP-LENGTH"]


def test_the_stream_checker_sees_jumps_wraps_and_ssrc_changes() -> None:
    checker = StreamChecker()
    assert checker.check(RtpPacket(8, 0xFFFF, 100, 7)) == []
    assert checker.check(RtpPacket(8, 0, 260, 7)) == []  # the sequence wraps: no violation
    jumped = checker.check(RtpPacket(8, 5, 420, 7))
    assert [v.requirement_id for v in jumped] == ["RTSP-RTP-SEQ-CONTINUOUS"]
    changed = checker.check(RtpPacket(8, 6, 10, 8))
    assert {v.requirement_id for v in changed} == {
        "RTSP-RTP-SSRC-STABLE",
        "RTSP-RTP-TIMESTAMP-MONOTONIC",
    }


def test_the_packetizer_resumes_with_continuous_numbers_unless_faulty() -> None:
    for faulty, expected in ((False, []), (True, ["RTSP-RTP-SEQ-CONTINUOUS"])):
        packetizer = PcmaPacketizer(1, first_sequence=65530, seq_jump_after_resume=faulty)
        checker = StreamChecker()
        found = [v for _ in range(10) for v in checker.check(packetizer.next_packet())]
        packetizer.resumed()
        found += [v for _ in range(10) for v in checker.check(packetizer.next_packet())]
        assert [v.requirement_id for v in found] == expected


def test_alaw_of_silence_and_extremes() -> None:
    assert alaw_encode(0) == 0xD5 and alaw_encode(-1) == 0x55
    assert alaw_encode(32767) == 0xAA and alaw_encode(-32768) == 0x2A


SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\na=control:*\r\n"
    "m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:trackID=0\r\n"
)


def test_a_valid_description_parses_without_violations_and_round_trips() -> None:
    desc, violations = parse_sdp(SDP)
    assert violations == []
    assert desc.media[0].attribute("rtpmap") == "8 PCMA/8000"
    assert serialize_sdp(desc) == SDP


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_description_with_violations(text: str) -> None:
    desc, violations = parse_sdp(text)
    assert isinstance(violations, list) and len(desc.lines) <= 2000


def test_rfc_4566_rules_are_reported() -> None:
    broken = (
        SDP.replace("v=0\r\n", "").replace("\r\n", "\n").replace("m=audio 0 RTP/AVP 8", "m=audio")
    )
    ids = {v.requirement_id for v in parse_sdp(broken + "junk\n")[1]}
    assert ids == {
        "RTSP-SDP-VERSION",
        "RTSP-SDP-REQUIRED",
        "RTSP-SDP-CRLF",
        "RTSP-SDP-MEDIA",
        "RTSP-SDP-SYNTAX",
    }


def test_control_urls_resolve_as_rfc_2326_appendix_c_says() -> None:
    url = "rtsp://h:554/movie"
    assert (
        resolve_control("trackID=0", "rtsp://h:554/movie/", None, url)
        == "rtsp://h:554/movie/trackID=0"
    )
    assert resolve_control("trackID=0", None, None, url) == "rtsp://h:554/movie/trackID=0"
    assert resolve_control("rtsp://o/x", "rtsp://h/", None, url) == "rtsp://o/x"
    assert resolve_control("*", "rtsp://h/b/", None, url) == "rtsp://h/b/"


def test_transport_choices_are_read_in_order_with_pairs() -> None:
    (tcp, udp) = parse_transports(
        "RTP/AVP/TCP;unicast;interleaved=2-3, RTP/AVP;unicast;client_port=5000"
    )
    assert tcp.tcp and tcp.pair("interleaved") == (2, 3)
    assert not udp.tcp and udp.pair("client_port") == (5000, 5001)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_transport_header_parses(header: str) -> None:
    for spec in parse_transports(header):
        spec.pair("client_port")
