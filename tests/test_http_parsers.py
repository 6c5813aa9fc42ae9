"""HTTP streaming parsers: the SSE algorithm, multipart and response framing, under any split."""

from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.common.events import Event, ProtocolError, Violation
from reference_impl.http.connection import BodyData, ResponseEnd, ResponseHead, ResponseReader
from reference_impl.http.multipart import Closed, MultipartParser, Part, format_part
from reference_impl.http.sse import (
    Comment,
    FieldIgnored,
    MessageEvent,
    RetryChanged,
    SSEParser,
    format_event,
)


def parse_sse(pieces: list[bytes]) -> list[Event]:
    parser = SSEParser()
    events: list[Event] = []
    for piece in pieces:
        parser.receive_data(piece)
        events += parser.events()
    return events


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    return [p for p in pieces if p]  # an empty read means the end of the stream


# -- Server-Sent Events (WHATWG HTML §9.2.6) -------------------------------------------------


def test_data_lines_are_joined_with_lf_and_the_event_takes_its_type_and_id() -> None:
    events = parse_sse([b"event: tick\nid: 7\ndata: a\ndata: b\n\n"])
    assert events == [MessageEvent("tick", "a\nb", "7")]


def test_cr_lf_and_crlf_all_end_lines_even_when_a_crlf_is_split() -> None:
    stream = b"data: one\r\rdata: two\n\ndata: three\r\n\r\n"
    for cut in range(len(stream) + 1):
        events = parse_sse([p for p in (stream[:cut], stream[cut:]) if p])
        assert [e.data for e in events if isinstance(e, MessageEvent)] == ["one", "two", "three"]


def test_one_leading_bom_is_stripped_even_when_split_across_reads() -> None:
    bom = "\ufeff".encode()
    events = parse_sse([bom[:1], bom[1:] + b"data: x\n\n"])
    assert events == [MessageEvent("message", "x", "")]


def test_an_event_with_no_data_dispatches_nothing_but_keeps_its_id() -> None:
    parser = SSEParser()
    parser.receive_data(b"id: 5\n\ndata: later\n\n")
    assert parser.events() == [MessageEvent("message", "later", "5")]


def test_an_id_with_nul_is_ignored_and_retry_takes_digits_only() -> None:
    events = parse_sse([b"id: a\x00b\nretry: 12x\nretry: 300\ndata: d\n\n"])
    assert FieldIgnored("id", "a\x00b") in events and FieldIgnored("retry", "12x") in events
    assert RetryChanged(300) in events
    assert MessageEvent("message", "d", "") in events


def test_comments_and_unknown_fields_are_ignored() -> None:
    events = parse_sse([b": heartbeat\nfoo: bar\ndata: x\n\n"])
    assert events == [
        Comment(" heartbeat"),
        FieldIgnored("foo", "bar"),
        MessageEvent("message", "x", ""),
    ]


def test_an_event_not_ended_by_a_blank_line_is_discarded_at_the_end() -> None:
    parser = SSEParser()
    parser.receive_data(b"data: complete\n\ndata: partial\n")
    parser.receive_data(b"")
    assert parser.events() == [MessageEvent("message", "complete", "")]


_line_text = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            _line_text, st.one_of(st.none(), st.from_regex(r"[a-z0-9]{1,5}", fullmatch=True))
        ),
        min_size=1,
        max_size=8,
    ),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=6),
)
def test_any_split_of_a_served_stream_gives_the_events_it_was_made_of(
    items: list[tuple[str, str | None]], cuts: list[int]
) -> None:
    stream = b"".join(format_event(data, id=event_id) for data, event_id in items)
    whole = parse_sse([stream])
    assert parse_sse(split(stream, cuts)) == whole
    assert [e.data for e in whole if isinstance(e, MessageEvent)] == [d for d, _ in items]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(min_value=0, max_value=400), max_size=5))
def test_arbitrary_bytes_give_events_or_a_protocol_error_and_any_split_gives_the_same(
    data: bytes, cuts: list[int]
) -> None:
    try:
        whole = parse_sse([data])
    except ProtocolError:
        return
    assert parse_sse(split(data, cuts)) == whole


# -- multipart/x-mixed-replace (RFC 2046 §5.1.1) ----------------------------------------------


def parse_parts(pieces: list[bytes], boundary: str = "b") -> list[Event]:
    parser = MultipartParser(boundary)
    events: list[Event] = []
    for piece in pieces:
        parser.receive_data(piece)
        events += parser.events()
    return events


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.binary(max_size=40).filter(lambda b: b"--b" not in b), min_size=1, max_size=5),
    st.lists(st.integers(min_value=0, max_value=1000), max_size=6),
)
def test_any_split_of_a_mixed_replace_body_gives_its_parts(
    bodies: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(format_part(b, "image/jpeg", "b") for b in bodies) + b"--b--\r\n"
    events = parse_parts(split(stream, cuts))
    assert [e.body for e in events if isinstance(e, Part)] == bodies
    assert isinstance(events[-1], Closed)
    assert not any(isinstance(e, Violation) for e in events)


def test_a_part_whose_content_length_disagrees_with_its_delimiter_is_a_violation() -> None:
    stream = b"--b\r\nContent-Length: 9\r\n\r\nabc\r\n--b--\r\n"
    events = parse_parts([stream])
    assert any(
        isinstance(e, Violation) and e.requirement_id == "HTTP-MULTIPART-PART-LENGTH"
        for e in events
    )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_the_multipart_parser_survives_arbitrary_bytes(data: bytes) -> None:
    try:
        parse_parts([data])
    except ProtocolError:
        pass


# -- response framing through h11 (RFC 9112 §6, §7.1) -----------------------------------------


def read_response(pieces: list[bytes], http10: bool = False) -> list[Event]:
    reader = ResponseReader(http10=http10)
    events: list[Event] = []
    for piece in [*pieces, b""]:
        reader.receive_data(piece)
        events += reader.events()
    return events


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3;ext=ignored\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: yes\r\n\r\n"
)


def test_chunk_extensions_are_ignored_and_trailers_are_accepted() -> None:
    events = read_response([CHUNKED])
    assert b"".join(e.data for e in events if isinstance(e, BodyData)) == b"abcde"
    assert events[-1] == ResponseEnd(True, (("x-trailer", "yes"),))


def test_a_chunked_body_cut_before_its_last_chunk_is_incomplete() -> None:
    events = read_response([CHUNKED[: CHUNKED.index(b"0\r\n")]])
    assert events[-1] == ResponseEnd(False)
    assert any(
        isinstance(e, Violation) and e.requirement_id == "HTTP-CHUNKED-LAST-CHUNK" for e in events
    )


def test_a_chunked_answer_to_http_1_0_is_a_violation() -> None:
    events = read_response([CHUNKED], http10=True)
    assert any(
        isinstance(e, Violation) and e.requirement_id == "HTTP-HTTP10-NO-CHUNKED" for e in events
    )


def test_a_chunk_size_too_large_to_hold_is_refused_not_allocated() -> None:
    huge = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 40 + b"\r\nab"
    with pytest.raises(ProtocolError):
        read_response([huge])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_any_split_of_a_chunked_response_gives_the_same_body(cuts: list[int]) -> None:
    def body(events: list[Event]) -> bytes:
        return b"".join(e.data for e in events if isinstance(e, BodyData))

    assert body(read_response(split(CHUNKED, cuts))) == b"abcde"
    heads = [e for e in read_response(split(CHUNKED, cuts)) if isinstance(e, ResponseHead)]
    assert len(heads) == 1 and heads[0].chunked


def test_h11_is_the_framer() -> None:
    # The project writes no HTTP/1.1 parser of its own (README: libraries used).
    assert ResponseReader()._conn.our_role is h11.CLIENT


def test_icy_blocks_read_back_after_every_metaint_bytes_for_any_split() -> None:
    from reference_impl.http.icy import IcyMetadata, IcyReader, format_block

    stream = b"".join(bytes(100) + format_block({"StreamTitle": f"t{i}"}) for i in range(5))
    for size in (1, 7, 64, len(stream)):
        reader = IcyReader(100)
        for start in range(0, len(stream), size):
            reader.receive_data(stream[start : start + size])
        titles = []
        while isinstance(event := reader.next_event(), IcyMetadata):
            titles.append(event.pairs["StreamTitle"])
        assert titles == [f"t{i}" for i in range(5)]
