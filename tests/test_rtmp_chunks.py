"""The RTMP chunk stream (RTMP 1.0 §5.3): byte vectors, round trips, deviations, totality."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.common.events import NeedData, ProtocolError, Violation
from reference_impl.rtmp.chunks import (
    MAX_CHUNK_SIZE,
    MAX_CSID,
    REQUIREMENT_IDS,
    ChunkReader,
    ChunkWriter,
    Message,
)

EXT = 0x1000000  # the first timestamp past the 24-bit field


def drain(reader: ChunkReader) -> list[Message | Violation]:
    """Every event the bytes so far make, up to NeedData."""
    found: list[Message | Violation] = []
    while not isinstance(event := reader.next_event(), NeedData):
        found.append(event)
    return found


def read(data: bytes, chunk_size: int = 128) -> list[Message | Violation]:
    reader = ChunkReader(chunk_size)
    reader.receive_data(data)
    return drain(reader)


def violations(events: list[Message | Violation]) -> list[str]:
    return [e.requirement_id for e in events if isinstance(e, Violation)]


# -- byte vectors (§5.3.1) ---------------------------------------------------------------------


def test_a_type_0_header_carries_the_message_stream_id_little_endian() -> None:
    data = ChunkWriter().write(Message(3, 1000, 20, 1, b"abc"))
    assert data == bytes.fromhex("03 0003e8 000003 14 01000000") + b"abc"
    assert read(data) == [Message(3, 1000, 20, 1, b"abc")]


@pytest.mark.parametrize(
    ("csid", "basic"),
    [(2, "02"), (63, "3f"), (64, "0000"), (319, "00ff"), (320, "010001"), (MAX_CSID, "01ffff")],
)
def test_chunk_stream_ids_from_64_take_a_two_byte_and_from_320_a_three_byte_form(
    csid: int, basic: str
) -> None:
    data = ChunkWriter().write(Message(csid, 0, 8, 0, b"x"))
    assert data.startswith(bytes.fromhex(basic) + bytes(3))
    assert read(data) == [Message(csid, 0, 8, 0, b"x")]


def test_a_reader_accepts_the_three_byte_form_for_a_small_chunk_stream_id() -> None:
    data = bytes.fromhex("01 0000 000000 000001 08 00000000") + b"x"
    assert read(data) == [Message(64, 0, 8, 0, b"x")]


def test_a_300_byte_message_at_chunk_size_128_is_three_chunks_with_type_3_continuations() -> None:
    payload = bytes(range(256)) + bytes(44)
    data = ChunkWriter(128).write(Message(3, 0, 20, 0, payload))
    assert len(data) == 12 + 128 + 1 + 128 + 1 + 44
    assert data[12 + 128] == data[12 + 128 + 1 + 128] == 0xC3
    assert read(data) == [Message(3, 0, 20, 0, payload)]


def test_an_extended_timestamp_follows_the_header_and_is_repeated_in_every_type_3_chunk() -> None:
    data = ChunkWriter(128).write(Message(4, EXT, 9, 1, bytes(200)))
    assert data[1:4] == b"\xff\xff\xff"
    assert data[12:16] == b"\x01\x00\x00\x00"
    assert data[16 + 128 : 16 + 128 + 5] == b"\xc4\x01\x00\x00\x00"
    assert read(data) == [Message(4, EXT, 9, 1, bytes(200))]


def test_without_the_repeat_type_3_chunks_carry_only_data() -> None:
    data = ChunkWriter(128, repeat_extended_timestamp=False).write(
        Message(4, EXT, 9, 1, bytes(200))
    )
    assert len(data) == 16 + 128 + 1 + 72


# -- header compression (§5.3.1.2) -------------------------------------------------------------


def test_each_message_gets_the_smallest_header_its_predecessor_on_the_chunk_stream_allows() -> None:
    writer = ChunkWriter()
    sent = [
        Message(5, 100, 8, 1, b"aa"),  # first on the chunk stream: type 0
        Message(5, 120, 8, 1, b"bb"),  # only the delta is new: type 2
        Message(5, 140, 8, 1, b"cc"),  # header and delta as before: type 3
        Message(5, 160, 8, 1, b"ddd"),  # a new length: type 1
        Message(5, 160, 8, 2, b"eee"),  # a new message stream: type 0
        Message(5, 150, 8, 2, b"fff"),  # time went backwards: type 0
    ]
    data = [writer.write(m) for m in sent]
    assert [d[0] >> 6 for d in data] == [0, 2, 3, 1, 0, 0]
    assert read(b"".join(data)) == sent


def test_without_compression_every_message_starts_with_a_type_0_header() -> None:
    writer = ChunkWriter(compress=False)
    data = [writer.write(Message(5, 10 * i, 8, 1, b"aa")) for i in range(3)]
    assert [d[0] >> 6 for d in data] == [0, 0, 0]


def test_a_type_3_header_after_type_0_adds_the_type_0_timestamp_again() -> None:
    # §5.3.1.2.4: the delta of a type 3 chunk right after type 0 is the type 0 timestamp.
    data = bytes.fromhex("03 000064 000001 08 00000000") + b"a" + b"\xc3" + b"b"
    assert read(data) == [Message(3, 100, 8, 0, b"a"), Message(3, 200, 8, 0, b"b")]


def test_an_extended_delta_is_carried_by_type_2_and_type_3_headers_alike() -> None:
    writer = ChunkWriter(50)
    sent = [Message(6, i * EXT, 9, 1, bytes([i]) * 120) for i in range(4)]
    data = [writer.write(m) for m in sent]
    assert [d[0] >> 6 for d in data] == [0, 2, 3, 3]
    assert data[2][1:5] == b"\x01\x00\x00\x00"  # a type 3 header repeats the extended delta
    assert read(b"".join(data), 50) == sent


def test_timestamps_accumulate_past_32_bits_without_wrapping() -> None:
    writer = ChunkWriter()
    sent = [Message(3, 0xFFFFFF00 + 0x80 * i, 8, 0, b"a") for i in range(4)]
    data = b"".join(writer.write(m) for m in sent)
    # The last type 2 header lands past 2**32: the reader does not wrap it.
    assert [m.timestamp for m in read(data) if isinstance(m, Message)] == [
        0xFFFFFF00,
        0xFFFFFF80,
        0x100000000,
        0x100000080,
    ]


# -- round trips (hypothesis) ------------------------------------------------------------------

csids = st.one_of(st.sampled_from([2, 3, 63, 64, 319, 320, MAX_CSID]), st.integers(2, MAX_CSID))
stamps = st.one_of(st.integers(0, 100), st.integers(EXT - 20, EXT + 20), st.integers(0, 2**32 - 1))
payloads = st.one_of(st.sampled_from([b"", b"a" * 5, b"b" * 200]), st.binary(max_size=1000))
raw_messages = st.lists(
    st.tuples(
        csids,
        stamps,
        st.one_of(st.sampled_from([8, 9]), st.integers(1, 22)),
        st.one_of(st.sampled_from([0, 1]), st.integers(0, 2**32 - 1)),
        payloads,
    ),
    max_size=10,
)
chunk_sizes = st.one_of(st.sampled_from([1, 128]), st.integers(1, 4096))


def monotonic(raw: list[tuple[int, int, int, int, bytes]]) -> list[Message]:
    """Messages whose timestamps never go back on a chunk stream: each csid's stamps, sorted."""
    by_csid: dict[int, list[int]] = {}
    for csid, stamp, *_ in raw:
        by_csid.setdefault(csid, []).append(stamp)
    for stamps_of_csid in by_csid.values():
        stamps_of_csid.sort(reverse=True)
    return [Message(c, by_csid[c].pop(), t, s, p) for c, _, t, s, p in raw]


@settings(max_examples=150, deadline=None)
@given(raw_messages, chunk_sizes, st.booleans())
def test_the_reader_returns_whatever_messages_the_writer_chunked(
    raw: list[tuple[int, int, int, int, bytes]], chunk_size: int, compress: bool
) -> None:
    sent = monotonic(raw)
    writer = ChunkWriter(chunk_size, compress=compress)
    data = b"".join(writer.write(m) for m in sent)
    assert read(data, chunk_size) == sent


@settings(max_examples=150, deadline=None)
@given(raw_messages, chunk_sizes, st.data())
def test_how_the_bytes_are_split_on_the_way_does_not_change_the_messages(
    raw: list[tuple[int, int, int, int, bytes]], chunk_size: int, data: st.DataObject
) -> None:
    sent = monotonic(raw)
    writer = ChunkWriter(chunk_size)
    wire = b"".join(writer.write(m) for m in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=20)))
    reader = ChunkReader(chunk_size)
    got: list[Message | Violation] = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        reader.receive_data(wire[start:end])
        got += drain(reader)
    assert got == sent
    assert reader.buffered == 0
    assert reader.bytes_received == len(wire)


# -- chunk size and interleaving (§5.3.1, §5.4.1) ----------------------------------------------


def test_set_chunk_size_applies_to_the_chunks_after_the_message_that_carried_it() -> None:
    writer = ChunkWriter()
    set_size = Message(2, 0, 1, 0, (256).to_bytes(4, "big"))
    data = writer.write(set_size)
    writer.set_chunk_size(256)
    long = Message(3, 0, 20, 0, bytes(range(256)) * 2)
    data += writer.write(long)
    reader = ChunkReader()
    reader.receive_data(data)
    assert reader.next_event() == set_size
    reader.set_chunk_size(256)
    assert drain(reader) == [long]


def test_a_new_chunk_size_applies_from_the_next_chunk_even_inside_a_message() -> None:
    payload = bytes(range(250))
    first = ChunkWriter(128).write(Message(3, 0, 20, 0, payload))[: 12 + 128]
    reader = ChunkReader()
    reader.receive_data(first)
    assert isinstance(reader.next_event(), NeedData)
    reader.set_chunk_size(100)
    reader.receive_data(b"\xc3" + payload[128:228] + b"\xc3" + payload[228:])
    assert drain(reader) == [Message(3, 0, 20, 0, payload)]


def test_messages_whose_chunks_interleave_on_two_chunk_streams_are_reassembled() -> None:
    a, b = Message(4, 10, 9, 1, b"A" * 300), Message(5, 20, 8, 1, b"B" * 300)
    wire_a, wire_b = ChunkWriter().write(a), ChunkWriter().write(b)
    chunks_a = [wire_a[:140], wire_a[140:269], wire_a[269:]]
    chunks_b = [wire_b[:140], wire_b[140:269], wire_b[269:]]
    interleaved = b"".join(x + y for x, y in zip(chunks_a, chunks_b, strict=True))
    assert read(interleaved) == [a, b]


@pytest.mark.parametrize("size", [0, MAX_CHUNK_SIZE + 1])
def test_a_chunk_size_of_zero_or_with_the_top_bit_set_is_refused(size: int) -> None:
    with pytest.raises(ValueError):
        ChunkReader().set_chunk_size(size)
    with pytest.raises(ValueError):
        ChunkWriter().set_chunk_size(size)
    with pytest.raises(ValueError):
        ChunkReader(size)


def test_an_abort_drops_the_partial_message_but_keeps_the_header() -> None:
    wire = ChunkWriter().write(Message(3, 0, 20, 0, b"x" * 200))
    reader = ChunkReader()
    reader.receive_data(wire[:140])
    assert drain(reader) == []
    reader.abort(3)
    reader.receive_data(b"\xc3" + b"y" * 128 + b"\xc3" + b"y" * 72)
    assert drain(reader) == [Message(3, 0, 20, 0, b"y" * 200)]


# -- deviations ------------------------------------------------------------------------------


def test_old_librtmp_chunks_without_the_repeat_read_back_with_one_violation() -> None:
    writer = ChunkWriter(128, repeat_extended_timestamp=False)
    sent = [Message(4, EXT, 9, 1, bytes(300)), Message(5, EXT + 7, 9, 1, b"\x02" * 300)]
    events = read(b"".join(writer.write(m) for m in sent))
    assert [e for e in events if isinstance(e, Message)] == sent
    assert violations(events) == ["RTMP-CHUNK-EXTTS-REPEAT"]


def test_a_chunk_stream_that_starts_with_type_1_is_reported_and_read_with_zeros() -> None:
    data = bytes.fromhex("43 000010 000002 08") + b"ab"
    events = read(data)
    assert violations(events) == ["RTMP-CHUNK-FIRST-FMT0"]
    assert events[-1] == Message(3, 16, 8, 0, b"ab")


def test_a_new_header_before_the_message_on_its_chunk_stream_is_complete_is_reported() -> None:
    partial = ChunkWriter().write(Message(3, 0, 20, 0, b"x" * 300))[: 12 + 128]
    whole = Message(3, 5, 20, 0, b"result")
    events = read(partial + ChunkWriter().write(whole))
    assert violations(events) == ["RTMP-CHUNK-LENGTH-CHANGE"]
    assert events[-1] == whole


def test_every_reported_requirement_is_listed() -> None:
    assert REQUIREMENT_IDS == {
        "RTMP-CHUNK-FIRST-FMT0",
        "RTMP-CHUNK-EXTTS-REPEAT",
        "RTMP-CHUNK-LENGTH-CHANGE",
    }


# -- unframable input and totality -------------------------------------------------------------


def test_a_message_longer_than_allowed_is_a_protocol_error() -> None:
    reader = ChunkReader(max_message_size=1000)
    reader.receive_data(bytes.fromhex("03 000000 0003e9 14 00000000"))
    with pytest.raises(ProtocolError):
        reader.next_event()


def test_more_chunk_streams_than_allowed_is_a_protocol_error() -> None:
    writer, reader = ChunkWriter(), ChunkReader(max_streams=3)
    for csid in (3, 4, 5):
        reader.receive_data(writer.write(Message(csid, 0, 8, 0, b"x")))
    assert len(drain(reader)) == 3
    reader.receive_data(writer.write(Message(6, 0, 8, 0, b"x")))
    with pytest.raises(ProtocolError):
        reader.next_event()


@pytest.mark.parametrize("chunk_size", [128, MAX_CHUNK_SIZE])
def test_a_claimed_16_mb_message_holds_only_the_bytes_that_arrived(chunk_size: int) -> None:
    reader = ChunkReader()
    reader.set_chunk_size(chunk_size)
    # Ten 128-byte chunks of it, or at the largest chunk size ten pieces of its one chunk.
    first = bytes.fromhex("03 000000 ffffff 09 01000000") + bytes(128)
    more = b"\xc3" + bytes(128) if chunk_size == 128 else bytes(129)
    tracemalloc.start()
    try:
        reader.receive_data(first)
        assert isinstance(reader.next_event(), NeedData)
        for _ in range(10):
            reader.receive_data(more)
            assert isinstance(reader.next_event(), NeedData)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000
    assert reader.buffered == (0 if chunk_size == 128 else 12 + 128 + 1290)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.binary(max_size=300), max_size=8),
    st.integers(1, 300),
    st.integers(1, 8),
    st.integers(0, 5000),
)
def test_arbitrary_bytes_give_only_events_or_a_protocol_error(
    pieces: list[bytes], chunk_size: int, max_streams: int, max_message_size: int
) -> None:
    reader = ChunkReader(chunk_size, max_streams=max_streams, max_message_size=max_message_size)
    fed = 0
    try:
        for piece in pieces:
            reader.receive_data(piece)
            fed += len(piece)
            for event in drain(reader):
                assert isinstance(event, Message | Violation)
                if isinstance(event, Violation):
                    assert event.requirement_id in REQUIREMENT_IDS
                else:
                    assert len(event.payload) <= max_message_size
    except ProtocolError:
        pass
    assert reader.bytes_received == fed
