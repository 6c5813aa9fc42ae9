"""RTP (RFC 3550 §5.1): exact round trips, totality on any bytes, the stream tracker, catalogue."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.catalogue import load_catalogue
from reference_impl.common.events import Event, ProtocolError, Violation
from reference_impl.rtsp import packetizer, rtcp, rtp, sdp
from reference_impl.rtsp.rtp import (
    Duplicate,
    Reordered,
    RtpExtension,
    RtpPacket,
    SequenceGap,
    SequenceTracker,
    StreamChecker,
    parse_rtp,
    serialize_rtp,
)

u32 = st.integers(0, 0xFFFFFFFF)
packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=st.integers(0, 0xFFFF),
    timestamp=u32,
    ssrc=u32,
    payload=st.binary(max_size=64),
    marker=st.booleans(),
    csrcs=st.lists(u32, max_size=15).map(tuple),
    extension=st.none()
    | st.builds(RtpExtension, st.integers(0, 0xFFFF), st.binary(max_size=5).map(lambda b: b * 4)),
    padding=st.integers(0, 255),
)


def ids(events: list[Event] | list[Violation]) -> list[str]:
    return [e.requirement_id for e in events if isinstance(e, Violation)]


# -- parse and serialise ----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(packets)
def test_a_serialised_packet_parses_back_to_itself(packet: RtpPacket) -> None:
    data = serialize_rtp(packet)
    parsed, violations = parse_rtp(data)
    assert violations == [] and parsed == packet
    assert serialize_rtp(parsed) == data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=96))
def test_any_bytes_are_a_packet_with_violations_or_a_protocol_error(data: bytes) -> None:
    try:
        packet, violations = parse_rtp(data)
    except ProtocolError:
        assert len(data) < 12
        return
    assert len(packet.payload) + packet.padding <= len(data) - 12
    assert all(v.requirement_id in rtp.REQUIREMENT_IDS for v in violations)
    if not violations:
        # Nothing to report means nothing was lost: the bytes come back exactly.
        assert serialize_rtp(packet) == data


GOOD = serialize_rtp(RtpPacket(8, 1, 2, 3, b"abcdefgh"))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (bytes([0x40]) + GOOD[1:], ["RTSP-RTP-VERSION"]),
        (bytes([GOOD[0] | 0x20]) + GOOD[1:-1] + b"\xff", ["RTSP-RTP-LENGTH"]),  # padding > packet
        (bytes([GOOD[0] | 0x20]) + GOOD[1:-1] + b"\x00", ["RTSP-RTP-LENGTH"]),  # padding count 0
        (bytes([GOOD[0] | 0x05]) + GOOD[1:], ["RTSP-RTP-LENGTH"]),  # 5 CSRCs, room for 2
        (bytes([GOOD[0] | 0x10]) + GOOD[1:14], ["RTSP-RTP-LENGTH"]),  # X set, no room
        (bytes([GOOD[0] | 0x10]) + GOOD[1:12] + b"\x00\x01\x00\x09abcd", ["RTSP-RTP-LENGTH"]),
        (bytes([0x30]) + GOOD[1:12], ["RTSP-RTP-VERSION", "RTSP-RTP-LENGTH", "RTSP-RTP-LENGTH"]),
    ],
    ids=["version", "padding-long", "padding-zero", "csrc", "ext-room", "ext-overrun", "all"],
)
def test_each_framing_deviation_is_reported(data: bytes, expected: list[str]) -> None:
    assert ids(parse_rtp(data)[1]) == expected


def test_the_header_is_read_exactly() -> None:
    data = bytes.fromhex("b2e1fffe00000064deadbeef0000000100000002bede0001cafebabe") + b"xy\x00\x02"
    packet, violations = parse_rtp(data)
    assert violations == []
    assert (packet.version, packet.has_padding, packet.has_extension) == (2, True, True)
    assert (packet.marker, packet.payload_type, packet.sequence) == (True, 97, 0xFFFE)
    assert (packet.timestamp, packet.ssrc, packet.csrcs) == (100, 0xDEADBEEF, (1, 2))
    assert packet.extension == RtpExtension(0xBEDE, bytes.fromhex("cafebabe"))
    assert (packet.payload, packet.padding) == (b"xy", 2)


@pytest.mark.parametrize(
    "packet",
    [
        RtpPacket(128, 0, 0, 0),
        RtpPacket(0, 0x10000, 0, 0),
        RtpPacket(0, 0, -1, 0),
        RtpPacket(0, 0, 0, 0, csrcs=tuple(range(16))),
        RtpPacket(0, 0, 0, 0, extension=(1, b"abc")),
        RtpPacket(0, 0, 0, 0, padding=256),
    ],
)
def test_serialising_a_field_that_does_not_fit_is_refused(packet: RtpPacket) -> None:
    with pytest.raises(ValueError):
        serialize_rtp(packet)


# -- the tracker ------------------------------------------------------------------------------


def feed(tracker: SequenceTracker, *sequences: int, ts_step: int = 160) -> list[Event]:
    return [e for s in sequences for e in tracker.receive(RtpPacket(8, s & 0xFFFF, s * ts_step, 7))]


def test_the_sequence_wraps_without_a_word() -> None:
    tracker = SequenceTracker()
    assert feed(tracker, 0xFFFE, 0xFFFF, 0x10000, 0x10001) == []
    assert (tracker.received, tracker.lost, tracker.highest_sequence) == (4, 0, 0x10001)


def test_gaps_reorders_and_duplicates_are_data_and_on_a_reliable_link_violations() -> None:
    tracker = SequenceTracker()
    events = feed(tracker, 10, 11, 14, 12, 12, 15)
    data = [e for e in events if not isinstance(e, Violation)]
    assert data == [SequenceGap(11, 14, 2), Reordered(12, 14), Duplicate(12)]
    assert ids(events) == ["RTSP-RTP-SEQ-CONTINUOUS"] * 3
    assert (tracker.received, tracker.expected, tracker.lost) == (5, 6, 1)
    assert (tracker.reordered, tracker.duplicates) == (1, 1)


def test_on_a_lossy_link_gaps_are_only_data() -> None:
    tracker = SequenceTracker(reliable=False)
    assert feed(tracker, 1, 5) == [SequenceGap(1, 5, 3)]


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 0xFFFF), st.lists(st.integers(0, 400), min_size=1, max_size=60))
def test_counters_agree_with_what_arrived(start: int, offsets: list[int]) -> None:
    tracker = SequenceTracker(reliable=False)
    for offset in offsets:
        tracker.receive(RtpPacket(8, (start + offset) & 0xFFFF, 0, 1))
    distinct = len(set(offsets))
    assert tracker.received == distinct
    assert tracker.duplicates == len(offsets) - distinct
    assert tracker.expected == max(offsets) - min(offsets) + 1
    assert tracker.lost == tracker.expected - distinct
    first = (start + offsets[0]) & 0xFFFF  # the extended scale starts in cycle 0
    assert tracker.highest_sequence == first + max(offsets) - offsets[0]


def test_the_sequence_stays_continuous_across_a_resume() -> None:
    tracker = SequenceTracker()
    feed(tracker, 1, 2, 3)
    tracker.resumed()
    jumped = feed(tracker, 1003)
    assert ids(jumped) == ["RTSP-RTP-SEQ-CONTINUOUS"]
    assert "after PLAY resumed" in next(v.detail for v in jumped if isinstance(v, Violation))


def test_timestamps_may_repeat_but_not_go_back_unless_a_seek_said_so() -> None:
    tracker = SequenceTracker()
    stamps = [(1, 100), (2, 100), (3, 90)]
    found = [e for s, t in stamps for e in tracker.receive(RtpPacket(96, s, t, 1))]
    assert ids(found) == ["RTSP-RTP-TIMESTAMP-MONOTONIC"]
    tracker.resumed(seek=True)
    assert tracker.receive(RtpPacket(96, 4, 5, 1)) == []
    assert ids(tracker.receive(RtpPacket(96, 5, 4, 1))) == ["RTSP-RTP-TIMESTAMP-MONOTONIC"]
    # A late packet carries an older timestamp: that is the network's doing, not the sender's.
    late = SequenceTracker(reliable=False)
    assert [type(e) for e in feed(late, 1, 3, 2)] == [SequenceGap, Reordered]


def test_ssrc_changes_and_unannounced_payload_types_are_reported() -> None:
    tracker = SequenceTracker(payload_types=[96])
    assert tracker.receive(RtpPacket(96, 1, 0, 5)) == []
    assert ids(tracker.receive(RtpPacket(97, 2, 0, 5))) == ["RTSP-RTP-PAYLOAD-TYPE"]
    assert ids(tracker.receive(RtpPacket(97, 3, 0, 5))) == []  # once per payload type
    assert ids(tracker.receive(RtpPacket(96, 4, 0, 6))) == ["RTSP-RTP-SSRC-STABLE"]


def test_the_timestamp_rate_is_judged_against_the_arrival_times() -> None:
    def run(clock: int, sent_clock: int) -> list[str]:
        tracker = SequenceTracker(clock_rate=clock)
        return [
            v
            for n in range(200)
            for v in ids(tracker.receive(RtpPacket(8, n, n * sent_clock // 50, 1), now=n / 50))
        ]

    assert run(8000, 8000) == []
    assert run(90000, 8000) == ["RTSP-RTP-TIMESTAMP-RATE"]  # reported once
    assert run(8000, 90000) == ["RTSP-RTP-TIMESTAMP-RATE"]


def test_jitter_follows_rfc_3550_and_is_zero_for_perfect_timing() -> None:
    steady, shaky = SequenceTracker(clock_rate=8000), SequenceTracker(clock_rate=8000)
    for n in range(50):
        steady.receive(RtpPacket(8, n, n * 160, 1), now=n * 0.02)
        shaky.receive(RtpPacket(8, n, n * 160, 1), now=n * 0.02 + (0.005 if n % 2 else 0))
    assert steady.jitter == 0
    assert 20 < shaky.jitter <= 40  # |D| is 40 ticks each packet; J converges towards it


def test_the_stream_checker_keeps_the_suites_api() -> None:
    checker = StreamChecker()
    assert checker.check(RtpPacket(8, 0xFFFF, 100, 7)) == []
    assert checker.check(RtpPacket(8, 0, 260, 7)) == []
    assert ids(checker.check(RtpPacket(8, 5, 420, 7))) == ["RTSP-RTP-SEQ-CONTINUOUS"]
    assert set(ids(checker.check(RtpPacket(8, 6, 10, 8)))) == {
        "RTSP-RTP-SSRC-STABLE",
        "RTSP-RTP-TIMESTAMP-MONOTONIC",
    }
    assert (checker.received, checker.lost) == (4, 4)


# -- the catalogue ----------------------------------------------------------------------------


def test_every_id_the_media_checkers_report_is_catalogued() -> None:
    catalogue = load_catalogue()
    reported = rtp.REQUIREMENT_IDS | rtcp.REQUIREMENT_IDS | sdp.REQUIREMENT_IDS
    reported |= packetizer.REQUIREMENT_IDS
    assert sorted(reported - set(catalogue.requirements)) == []
