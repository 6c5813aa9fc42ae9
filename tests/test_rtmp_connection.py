"""The sans-IO RTMP connection and messages: both roles talking, split invariance, hostile bytes."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.common.events import Event, NeedData, ProtocolError, Violation
from reference_impl.rtmp import messages
from reference_impl.rtmp.chunks import Message
from reference_impl.rtmp.connection import REQUIREMENT_IDS, Role, RTMPConnection
from reference_impl.rtmp.handshake import HandshakeComplete
from reference_impl.rtmp.messages import (
    Abort,
    Acknowledgement,
    Command,
    DataMessage,
    Media,
    MessageType,
    SetChunkSize,
    SetPeerBandwidth,
    UserControl,
    UserControlType,
    WindowAckSize,
)


def _pair() -> tuple[RTMPConnection, RTMPConnection]:
    client = RTMPConnection(Role.CLIENT, random=os.urandom(3072))
    server = RTMPConnection(Role.SERVER, random=os.urandom(3072))
    server.receive_data(client.initial_data())
    assert isinstance(server.next_event(), NeedData)
    client.receive_data(server.data_to_send())
    assert isinstance(client.next_event(), HandshakeComplete)
    server.receive_data(client.data_to_send())
    assert isinstance(server.next_event(), HandshakeComplete)
    return client, server


def test_a_client_and_a_server_complete_the_digest_handshake() -> None:
    client, server = _pair()
    assert client.handshake is not None and client.handshake.digest
    assert server.handshake is not None and server.handshake.digest


SAMPLES: list[Event] = [
    SetChunkSize(4096),
    WindowAckSize(2_500_000),
    SetPeerBandwidth(2_500_000, 2),
    Acknowledgement(1000),
    UserControl(UserControlType.STREAM_BEGIN, 1),
    UserControl(UserControlType.SET_BUFFER_LENGTH, 1, 3000),
    Command("connect", 1.0, {"app": "live", "tcUrl": "rtmp://127.0.0.1/live"}),
    Command("onStatus", 0.0, None, ({"level": "status", "code": "NetStream.Play.Start"},), 1),
    DataMessage(("onMetaData", {"width": 64.0}), 1),
    Media(MessageType.VIDEO, 40, bytes([0x17, 1, 0, 0, 0]) + bytes(5000), 1),
    Media(MessageType.AUDIO, 0x1000000, bytes([0xAF, 1]) + bytes(300), 1),
]


def test_every_message_kind_goes_across_unchanged_and_without_violations() -> None:
    client, server = _pair()
    for event in SAMPLES:
        server.receive_data(client.send(event))
    got = server.events()
    assert [e for e in got if isinstance(e, Violation)] == []
    assert got == SAMPLES


def test_a_set_chunk_size_applies_to_the_senders_next_chunk() -> None:
    client, server = _pair()
    big = Command("connect", 1.0, {"pad": "x" * 3000})
    server.receive_data(client.send(SetChunkSize(4096)) + client.send(big))
    assert server.events() == [SetChunkSize(4096), big]


def test_control_messages_off_chunk_stream_2_are_violations() -> None:
    client, server = _pair()
    server.receive_data(client.send(WindowAckSize(100), csid=3))
    ids = [e.requirement_id for e in server.events() if isinstance(e, Violation)]
    assert ids == ["RTMP-CTRL-CHANNEL"]


def test_media_timestamps_going_back_are_a_violation() -> None:
    client, server = _pair()
    for stamp in (40, 80, 60):
        server.receive_data(client.send(Media(MessageType.VIDEO, stamp, b"\x27\x01", 1)))
    ids = [e.requirement_id for e in server.events() if isinstance(e, Violation)]
    assert ids == ["RTMP-MEDIA-TIMESTAMP-ORDER"]


def test_an_abort_drops_the_partial_message() -> None:
    client, server = _pair()
    data = client.send(Command("createStream", 2.0, None, ("x" * 400,)))
    server.receive_data(data[: 12 + 128] + client.send(Abort(3)))  # one whole chunk
    assert server.events() == [Abort(3)]


def test_the_receiver_owes_an_acknowledgement_per_window() -> None:
    client, server = _pair()
    server.receive_data(client.send(WindowAckSize(1000)))
    server.events()
    assert server.ack_due() is not None  # the handshake alone is more than a window
    server.receive_data(client.send(Media(MessageType.AUDIO, 0, bytes(2000), 1)))
    server.events()
    ack = server.ack_due()
    assert ack is not None and ack.sequence > 2000


def test_a_truncated_command_is_reported_not_raised() -> None:
    client, server = _pair()
    payload = messages.encode(Command("connect", 1.0, {"app": "x"})).payload[:-3]
    server.receive_data(client.send_message(Message(3, 0, MessageType.COMMAND_AMF0, 0, payload)))
    ids = [e.requirement_id for e in server.events() if isinstance(e, Violation)]
    assert ids == ["RTMP-AMF0-VALID"]


def test_every_requirement_the_connection_reports_is_catalogued() -> None:
    from harness.catalogue import load_catalogue

    catalogue = load_catalogue()
    from reference_impl.rtmp.connection import ALL_REQUIREMENT_IDS

    assert REQUIREMENT_IDS <= ALL_REQUIREMENT_IDS
    assert {i for i in ALL_REQUIREMENT_IDS if i not in catalogue} == set()


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=20000), max_size=12))
def test_any_split_of_the_bytes_gives_the_same_events(cuts: list[int]) -> None:
    client, server = _pair()
    data = b"".join(client.send(e) for e in SAMPLES)
    points = sorted({c % len(data) for c in cuts} | {0, len(data)})
    for start, end in zip(points, points[1:], strict=False):
        server.receive_data(data[start:end])
    assert server.events() == SAMPLES


@settings(max_examples=150, deadline=None)
@given(junk=st.binary(max_size=4000))
def test_arbitrary_bytes_after_the_handshake_give_events_or_a_protocol_error(junk: bytes) -> None:
    _, server = _pair()
    server.receive_data(junk)
    try:
        server.events()
    except ProtocolError:
        pass


@settings(max_examples=100, deadline=None)
@given(junk=st.binary(min_size=1, max_size=4000))
def test_arbitrary_bytes_as_a_handshake_never_raise(junk: bytes) -> None:
    server = RTMPConnection(Role.SERVER, random=os.urandom(3072))
    server.receive_data(junk)
    server.events()
