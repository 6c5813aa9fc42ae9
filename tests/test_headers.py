"""The shared header-block parser: bounded, total on any bytes, independent of how bytes split."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.common.events import ConnectionClosed, Event, ProtocolError
from reference_impl.common.headers import Deviation, Limits, Message, parse_message, serialize
from reference_impl.rtsp.connection import Role, RTSPConnection

token = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12
)
value = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
fields_st = st.lists(
    st.tuples(token.filter(lambda t: t.lower() != "content-length"), value), max_size=8
)

# Bytes that look like RTSP often enough to reach deep states, and arbitrary bytes besides.
rtsp_like = st.lists(
    st.sampled_from(
        [
            b"OPTIONS * RTSP/1.0",
            b"RTSP/1.0 200 OK",
            b"\r\n",
            b"\n",
            b"CSeq: 1",
            b"Content-Length: 3",
            b"Content-Length: x",
            b"$\x00\x00\x02ab",
            b" folded",
            b"abc",
            b":",
            b"\r",
        ]
    ),
    max_size=20,
).map(b"".join)
any_bytes = st.one_of(st.binary(max_size=300), rtsp_like)


def feed(conn: RTSPConnection, chunks: list[bytes]) -> list[object]:
    out: list[object] = []
    try:
        for chunk in filter(None, chunks):  # b"" would mean end of input
            conn.receive_data(chunk)
            out.extend(conn.events())
        conn.receive_data(b"")
        out.extend(conn.events())
    except ProtocolError as exc:
        out.append(("ProtocolError", str(exc)))
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for point in points:
        pieces.append(data[last:point])
        last = point
    pieces.append(data[last:])
    return [p for p in pieces if p]


@settings(max_examples=300, deadline=None)
@given(any_bytes)
def test_any_bytes_either_parse_or_end_in_a_protocol_error(data: bytes) -> None:
    try:
        parse_message(data)
    except ProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    any_bytes,
    st.lists(st.integers(min_value=0, max_value=400), max_size=10),
    st.sampled_from([Role.CLIENT, Role.SERVER]),
)
def test_the_same_bytes_in_any_split_give_the_same_events(
    data: bytes, cuts: list[int], role: Role
) -> None:
    whole = feed(RTSPConnection(role), [data])
    pieces = feed(RTSPConnection(role), split(data, cuts))
    bytewise = feed(RTSPConnection(role), [data[i : i + 1] for i in range(len(data))])
    assert whole == pieces == bytewise


@settings(max_examples=200, deadline=None)
@given(fields_st, st.binary(max_size=50))
def test_a_serialised_message_parses_back_to_itself(
    fields: list[tuple[str, str]], body: bytes
) -> None:
    all_fields = [*fields, ("Content-Length", str(len(body)))] if body else fields
    data = serialize("DESCRIBE rtsp://h/x RTSP/1.0", all_fields, body)
    parsed = parse_message(data)
    assert parsed is not None and parsed.end == len(data) and parsed.deviations == ()
    assert parsed.message == Message("DESCRIBE rtsp://h/x RTSP/1.0", tuple(all_fields), body)


def test_incomplete_block_needs_more_data() -> None:
    assert parse_message(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n") is None
    assert parse_message(b"X\r\nContent-Length: 5\r\n\r\nabc") is None


def test_deviations_are_reported_not_raised() -> None:
    parsed = parse_message(b"\r\nOPTIONS * RTSP/1.0\nCSeq : 1\n  two\nnocolon\n\n")
    assert parsed is not None
    assert parsed.message.fields == (("CSeq", "1 two"),)
    assert set(parsed.deviations) == {
        Deviation.LEADING_EMPTY_LINE,
        Deviation.BARE_LF,
        Deviation.SPACE_BEFORE_COLON,
        Deviation.FOLDED_LINE,
        Deviation.FIELD_WITHOUT_COLON,
    }


@pytest.mark.parametrize(
    "data",
    [
        b"X\r\nContent-Length: -1\r\n\r\n",
        b"X\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"X\r\nContent-Length: 99999999999\r\n\r\n",
        b"X\r\n" + b"A: b\r\n" * 200 + b"\r\n",
        b"X" * 70000,
    ],
    ids=[
        "negative-length",
        "conflicting-length",
        "huge-length",
        "too-many-fields",
        "endless-block",
    ],
)
def test_input_beyond_bounds_or_unframable_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_message(data, limits=Limits())


def test_connection_reports_close_after_all_is_read() -> None:
    conn = RTSPConnection(Role.SERVER)
    conn.receive_data(b"")
    events: list[Event] = conn.events()
    assert events == [ConnectionClosed()]
