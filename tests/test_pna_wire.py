"""PNA on the wire: requests and responses read back, any split, any bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.common.events import NeedData, ProtocolError, Violation
from reference_impl.pna import rm, wire
from reference_impl.pna.connection import (
    REQUIREMENT_IDS,
    ChallengeBlock,
    ChallengeResponse,
    HeaderReceived,
    KeepAlive,
    PacketReceived,
    PnaChunkReceived,
    PNAConnection,
    RequestReceived,
    Role,
    ServerMessage,
)

RESPONSE = (
    wire.pna_chunk([b"\x00" * 8], challenge=True)
    + rm.rmf(4)
    + rm.prop(bit_rate=32000, packet_size=200, duration_ms=0, num_streams=1)
    + rm.mdpr(0, "audio/x-pn-realaudio", bit_rate=32000, packet_size=200, specific=b".ra\xfd")
    + rm.cont("t")
    + rm.data_header()
    + b"c" * wire.CHALLENGE_BLOCK_SIZE
    + b"".join(wire.data_packet(i, 0x10 + i, 50 * i, bytes([i]) * 30) for i in range(5))
)


def _kinds(conn: PNAConnection) -> list[str]:
    return [type(e).__name__ for e in conn.events()]


def test_a_request_reads_back_with_its_chunks_client_string_and_path() -> None:
    request = wire.parse_request(wire.build_request("/stream.rm"))
    assert request.path == "/stream.rm" and request.trailer == b"yB"
    assert request.client_string == b"streamconform_pna_1.0"
    assert wire.request_problems(request) == []


def test_a_request_is_incomplete_until_its_trailer_arrives() -> None:
    data = wire.build_request("/x")
    conn = PNAConnection(Role.SERVER)
    conn.receive_data(data[:-1])
    assert conn.events() == []
    conn.receive_data(data[-1:] + b"!" + wire.challenge_response(b"a" * 32))
    events = conn.events()
    assert isinstance(events[0], RequestReceived)
    assert events[1:] == [KeepAlive(), ChallengeResponse(b"a" * 32)]


def test_a_request_without_the_signature_is_unframable() -> None:
    conn = PNAConnection(Role.SERVER)
    conn.receive_data(b"GET / HTTP/1.0\r\n\r\n")
    try:
        conn.events()
    except ProtocolError as exc:
        assert exc.requirement_id == "PNA-REQ-SIGNATURE"
    else:
        raise AssertionError("no ProtocolError")


def test_a_conformant_response_reads_as_chunk_headers_block_packets() -> None:
    conn = PNAConnection(Role.CLIENT)
    conn.receive_data(RESPONSE)
    kinds = _kinds(conn)
    assert kinds[0] == PnaChunkReceived.__name__
    assert kinds.count(HeaderReceived.__name__) == 5
    assert kinds[6] == ChallengeBlock.__name__
    assert kinds[7:] == [PacketReceived.__name__] * 5


def test_a_refusal_is_a_server_message_inside_a_pna_chunk() -> None:
    conn = PNAConnection(Role.CLIENT)
    conn.receive_data(wire.refusal("no such stream"))
    assert conn.events() == [ServerMessage("no such stream")]


def test_packets_out_of_order_are_violations() -> None:
    conn = PNAConnection(Role.CLIENT)
    head = RESPONSE[: RESPONSE.index(b"Z")]
    conn.receive_data(head + wire.data_packet(1, 0, 100, b"x") + wire.data_packet(0, 0, 50, b"y"))
    ids = [e.requirement_id for e in conn.events() if isinstance(e, Violation)]
    assert ids == ["PNA-DATA-INDEX", "PNA-DATA-INDEX", "PNA-DATA-TIMESTAMP"]


def test_every_requirement_the_connection_reports_is_catalogued() -> None:
    from harness.catalogue import load_catalogue

    catalogue = load_catalogue()
    assert {i for i in REQUIREMENT_IDS if i not in catalogue} == set()


@settings(max_examples=80, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(RESPONSE) - 1), max_size=10))
def test_any_split_of_a_response_gives_the_same_events(cuts: list[int]) -> None:
    whole = PNAConnection(Role.CLIENT)
    whole.receive_data(RESPONSE)
    expected = whole.events()
    pieces = PNAConnection(Role.CLIENT)
    got = []
    points = sorted({0, len(RESPONSE), *cuts})
    for start, end in zip(points, points[1:], strict=False):
        pieces.receive_data(RESPONSE[start:end])
        got.extend(pieces.events())
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(junk=st.binary(max_size=3000), role=st.sampled_from([Role.CLIENT, Role.SERVER]))
def test_arbitrary_bytes_give_events_or_a_protocol_error(junk: bytes, role: Role) -> None:
    conn = PNAConnection(role)
    conn.receive_data(junk)
    try:
        while not isinstance(conn.next_event(), NeedData):
            pass
    except ProtocolError:
        pass
