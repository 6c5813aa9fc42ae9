"""RTCP (RFC 3550 §6): compound round trips, totality and bounds, the §6.1 compound rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.common.events import ProtocolError, Violation
from reference_impl.rtsp import rtcp
from reference_impl.rtsp.rtcp import (
    AnyRtcp,
    AppPacket,
    Goodbye,
    ReceiverReport,
    ReportBlock,
    SdesChunk,
    SenderReport,
    SourceDescription,
    UnknownRtcp,
    compact_ntp,
    ntp_timestamp,
    parse_rtcp,
    report_block,
    sender_violations,
    serialize_packet,
    serialize_rtcp,
)
from reference_impl.rtsp.rtp import RtpPacket, SequenceTracker

u32 = st.integers(0, 0xFFFFFFFF)
words = st.binary(max_size=3).map(lambda b: b * 4)
blocks = st.builds(
    ReportBlock,
    ssrc=u32,
    fraction_lost=st.integers(0, 255),
    cumulative_lost=st.integers(-(1 << 23), (1 << 23) - 1),
    highest_sequence=u32,
    jitter=u32,
    last_sr=u32,
    delay_since_last_sr=u32,
)
reports = st.lists(blocks, max_size=4).map(tuple)
items = st.lists(st.tuples(st.integers(1, 8), st.binary(max_size=12)), max_size=3).map(tuple)
any_packet: st.SearchStrategy[AnyRtcp] = st.one_of(
    st.builds(
        SenderReport,
        ssrc=u32,
        ntp_timestamp=st.integers(0, (1 << 64) - 1),
        rtp_timestamp=u32,
        packet_count=u32,
        octet_count=u32,
        reports=reports,
        extension=words,
    ),
    st.builds(ReceiverReport, ssrc=u32, reports=reports, extension=words),
    st.builds(
        SourceDescription, chunks=st.lists(st.builds(SdesChunk, u32, items), max_size=3).map(tuple)
    ),
    st.builds(
        Goodbye,
        ssrcs=st.lists(u32, max_size=3).map(tuple),
        reason=st.none() | st.binary(max_size=20),
    ),
    st.builds(AppPacket, st.integers(0, 31), u32, st.binary(min_size=4, max_size=4), words),
    st.builds(UnknownRtcp, st.sampled_from([205, 206, 207]), st.integers(0, 31), words),
)


def ids(violations: list[Violation]) -> list[str]:
    return [v.requirement_id for v in violations]


ME = 0x1234
RR = ReceiverReport(ME, (ReportBlock(0xAB, 1, 2, 3, 4, 5, 6),))
SDES = SourceDescription((SdesChunk(ME, ((1, b"me@host"), (6, b"tool"))),))


@settings(max_examples=150, deadline=None)
@given(st.lists(any_packet, min_size=1, max_size=5), st.sampled_from([0, 4, 8, 252]))
def test_a_serialised_compound_parses_back_to_its_packets(
    packets: list[AnyRtcp], padding: int
) -> None:
    # padding is allowed on the last packet only (RFC 3550 §6.4.1)
    last = packets[-1]
    packets[-1] = type(last)(**{**last.__dict__, "padding": padding})
    data = serialize_rtcp(packets)
    parsed, violations = parse_rtcp(data, compound=False)
    assert violations == [] and parsed == packets
    assert serialize_rtcp(parsed) == data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120) | st.lists(any_packet, max_size=4).map(serialize_rtcp))
def test_any_bytes_are_packets_with_violations_or_a_protocol_error(data: bytes) -> None:
    try:
        packets, violations = parse_rtcp(data)
    except ProtocolError:
        assert len(data) < 4
        return
    assert 1 <= len(packets) <= rtcp.MAX_PACKETS
    assert all(v.requirement_id in rtcp.REQUIREMENT_IDS for v in violations)


def test_a_well_formed_compound_has_nothing_to_report() -> None:
    sr = SenderReport(ME, ntp_timestamp(0.0), 160, 1, 160)
    compounds: list[list[AnyRtcp]] = [[RR, SDES], [sr, SDES, Goodbye((ME,), b"bye")]]
    for packets in compounds:
        assert parse_rtcp(serialize_rtcp(packets)) == (packets, [])


def test_the_compound_is_bounded() -> None:
    many = serialize_packet(ReceiverReport(1)) * (rtcp.MAX_PACKETS + 1)
    with pytest.raises(ProtocolError, match="more than"):
        parse_rtcp(many)
    with pytest.raises(ValueError):
        serialize_packet(ReceiverReport(1, (ReportBlock(1),) * 32))


def test_the_compound_rules_of_section_6_1() -> None:
    def check(*packets: AnyRtcp) -> list[str]:
        return ids(parse_rtcp(serialize_rtcp(packets))[1])

    assert check(SDES, RR) == ["RTSP-RTCP-COMPOUND-FIRST"]
    assert check(RR) == ["RTSP-RTCP-CNAME"]
    assert check(RR, SourceDescription((SdesChunk(ME, ((2, b"name"),)),))) == ["RTSP-RTCP-CNAME"]
    assert check(RR, SourceDescription((SdesChunk(99, ((1, b"x"),)),))) == ["RTSP-RTCP-CNAME"]
    assert check(RR, Goodbye((ME,)), SDES) == ["RTSP-RTCP-BYE-LAST"]
    padded_first = serialize_packet(ReceiverReport(ME, padding=4)) + serialize_packet(SDES)
    assert ids(parse_rtcp(padded_first)[1]) == ["RTSP-RTCP-PADDING"]


def corrupt(packet: AnyRtcp, at: int, value: int) -> bytes:
    data = bytearray(serialize_packet(packet))
    data[at] = value
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (corrupt(RR, 0, 0x41), ["RTSP-RTCP-VERSION"]),
        (corrupt(RR, 3, 9), ["RTSP-RTCP-LENGTH"]),  # claims more words than there are
        (corrupt(RR, 0, 0x83), ["RTSP-RTCP-COUNT"]),  # three blocks, room for one
        (corrupt(RR, 0, 0xA1)[:-1] + b"\x30", ["RTSP-RTCP-LENGTH"]),  # padding count too big
        (serialize_packet(RR) + b"\x80", ["RTSP-RTCP-LENGTH"]),  # a stray byte
        (bytes.fromhex("81ca0002 00001234 01026d65"), ["RTSP-RTCP-SDES-END"]),
        (bytes.fromhex("82ca0002 00001234 01000000"), ["RTSP-RTCP-COUNT"]),  # SC 2, one chunk
        (bytes.fromhex("81ca0002 00001234 010a6d65"), ["RTSP-RTCP-LENGTH", "RTSP-RTCP-SDES-END"]),
        (bytes.fromhex("82cb0001 00001234"), ["RTSP-RTCP-COUNT"]),  # BYE of two, one there
        (bytes.fromhex("81cb0002 00001234") + b"\x09ab\x00", ["RTSP-RTCP-LENGTH"]),
        (bytes.fromhex("80cc0001 00001234"), ["RTSP-RTCP-LENGTH"]),  # APP without its name
    ],
    ids=[
        "version",
        "length",
        "count",
        "padding",
        "stray",
        "sdes-end",
        "sdes-count",
        "sdes-item",
        "bye-count",
        "bye-reason",
        "app",
    ],
)
def test_each_packet_deviation_is_reported(data: bytes, expected: list[str]) -> None:
    assert ids(parse_rtcp(data, compound=False)[1]) == expected


def test_the_fields_are_read_exactly() -> None:
    data = bytes.fromhex(
        "81c8000c 00001234 83aa1f0a 80000000 00000fa0 00000032 00001f40"
        "0000abcd 05fffffe 00010002 00000010 11112222 00000100"
    )
    (sr,), _ = parse_rtcp(data, compound=False)
    assert sr == SenderReport(
        0x1234,
        0x83AA1F0A80000000,
        4000,
        50,
        8000,
        (ReportBlock(0xABCD, 5, -2, 0x10002, 16, 0x11112222, 256),),
    )
    assert compact_ntp(sr.ntp_timestamp) == 0x1F0A8000


def test_sender_rules_for_a_server_that_sends_the_stream() -> None:
    sr = SenderReport(ME)
    assert sender_violations([sr, SDES], ME, sent=True) == []
    assert ids(sender_violations([RR, SDES], ME, sent=True)) == ["RTSP-RTCP-SR-ACTIVE-SENDER"]
    assert sender_violations([RR, SDES], ME, sent=False) == []
    assert ids(sender_violations([sr, SDES], ME + 1, sent=True)) == ["RTSP-RTCP-SR-SSRC"]


def test_a_report_block_says_what_the_tracker_saw() -> None:
    tracker = SequenceTracker(reliable=False)
    for sequence in (10, 11, 14, 15):  # 12 and 13 lost
        tracker.receive(RtpPacket(8, sequence, 0, 0xFEED))
    block = report_block(tracker, last_sr=7, delay_since_last_sr=9)
    assert block == ReportBlock(0xFEED, 256 * 2 // 6, 2, 15, 0, 7, 9)
    tracker.receive(RtpPacket(8, 16, 0, 0xFEED))
    assert report_block(tracker).fraction_lost == 0  # nothing lost in the new interval


def test_ntp_timestamps_count_from_1900() -> None:
    assert ntp_timestamp(0.0) == rtcp.NTP_UNIX_OFFSET << 32
    assert ntp_timestamp(1.5) & 0xFFFFFFFF == 1 << 31
