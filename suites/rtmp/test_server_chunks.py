"""RTMP server: the chunk stream (RTMP 1.0 §5.3) and protocol control messages (§5.4)."""

from __future__ import annotations

import pytest

from harness.verdict import Conformance
from reference_impl.rtmp import amf0, media
from reference_impl.rtmp.chunks import ChunkWriter, Message
from reference_impl.rtmp.messages import (
    Abort,
    Acknowledgement,
    Command,
    Media,
    MessageType,
    SetChunkSize,
    UserControl,
    UserControlType,
    WindowAckSize,
)
from suites.rtmp.conftest import (
    RtmpTarget,
    barrier,
    collect_media,
    connected,
    session,
    start_playing,
    start_publishing,
)

pytestmark = [pytest.mark.rtmp, pytest.mark.server]

SMALL_CHUNKS = 128  # the default chunk size, which the interleaving tests keep


def _command(name: str, tid: float, *args: object, size: int | None = None) -> bytes:
    """An AMF0 command payload, padded with a string argument to exactly `size` bytes."""
    payload = amf0.encode_all(name, tid, None, *args)
    if size is not None:
        pad = size - len(payload) - 3
        assert pad >= 0, f"{name} needs {len(payload)} bytes, more than {size}"
        payload = amf0.encode_all(name, tid, None, *args, "x" * pad)
    return payload


def _chunks(csid: int, payload: bytes) -> list[bytes]:
    """One command message on `csid` at the default chunk size, chunk by chunk."""
    data = ChunkWriter(SMALL_CHUNKS).write(Message(csid, 0, MessageType.COMMAND_AMF0, 0, payload))
    first, rest = data[: 12 + SMALL_CHUNKS], data[12 + SMALL_CHUNKS :]
    return [first] + [rest[i : i + 1 + SMALL_CHUNKS] for i in range(0, len(rest), 1 + SMALL_CHUNKS)]


@pytest.mark.requirement(
    "RTMP-CHUNK-FIRST-FMT0",
    "RTMP-CHUNK-LENGTH-CHANGE",
    "RTMP-CHUNK-SIZE-RANGE",
    "RTMP-CTRL-CHANNEL",
    "RTMP-CTRL-LENGTH",
    "RTMP-CTRL-PEER-BW-LIMIT",
    "RTMP-CHUNK-CSID-RESERVED",
)
async def test_what_the_server_sends_while_connecting_is_well_chunked(
    rtmp_target: RtmpTarget,
) -> None:
    """Each chunk stream starts with a type 0 header; control messages go on stream 0, csid 2,
    with their fixed sizes; Set Chunk Size and Set Peer Bandwidth carry valid values."""
    async with session(rtmp_target.url) as client:
        await connected(client)
        await barrier(client)


@pytest.mark.requirement("RTMP-CHUNK-SIZE-HONOURED")
async def test_the_server_reads_chunks_at_the_size_the_client_set(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """After the client's Set Chunk Size of 4096, a 3000-byte connect arrives in one chunk."""
    async with session(rtmp_target.url) as client:
        client.send(SetChunkSize(4096))
        client.send(Command("connect", 1.0, client.connect_object(pad="p" * 2800)))
        answer = await client.wait_for_answer(1.0)
        conformance.expect(
            answer is not None and answer.name == "_result",
            "RTMP-CHUNK-SIZE-HONOURED",
            f"a connect sent in 4096-byte chunks got {answer.name if answer else 'no answer'}",
        )


@pytest.mark.requirement("RTMP-CHUNK-INTERLEAVE")
async def test_the_server_reassembles_commands_whose_chunks_interleave(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """Two 300-byte commands on chunk streams 10 and 11, their chunks alternating, both answered."""
    async with session(rtmp_target.url) as client:
        await connected(client, chunk_size=None)
        first = _chunks(10, _command("createStream", 20.0, size=300))
        second = _chunks(11, _command("createStream", 21.0, size=300))
        for a, b in zip(first, second, strict=True):
            client.write(a + b)
        answers = [await client.wait_for_answer(tid) for tid in (20.0, 21.0)]
        conformance.expect(
            all(a is not None for a in answers),
            "RTMP-CHUNK-INTERLEAVE",
            f"of two interleaved createStream, {sum(a is not None for a in answers)} were answered",
        )


@pytest.mark.requirement("RTMP-CHUNK-ABORT")
async def test_an_abort_message_discards_the_partial_message(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """A command cut off by Abort is dropped: the next message on that chunk stream stands alone."""
    async with session(rtmp_target.url) as client:
        await connected(client, chunk_size=None)
        junk = _chunks(12, _command("noSuchCommand", 30.0, size=200))
        client.write(junk[0])
        client.send(Abort(12))
        # The same header again, as type 3 chunks: only a server that dropped the partial
        # message reads this as a fresh createStream (one that kept it reads garbage).
        fresh = _chunks(12, _command("createStream", 31.0, size=200))
        client.write(bytes([0xC0 | 12]) + fresh[0][12:] + b"".join(fresh[1:]))
        answer = await client.wait_for_answer(31.0)
        conformance.expect(
            answer is not None,
            "RTMP-CHUNK-ABORT",
            "a createStream sent after an Abort of its chunk stream was not answered",
        )


@pytest.mark.requirement("RTMP-CHUNK-EXTTS-REPEAT", "RTMP-MEDIA-TIMESTAMP-ORDER")
async def test_extended_timestamps_are_repeated_on_continuation_chunks(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """Media stamped past 0xFFFFFF and longer than a chunk reach a player whole and in order."""
    name_url = rtmp_target.fresh_url("exts")
    name = name_url.rsplit("/", 1)[1]
    async with session(name_url) as player, session(name_url) as publisher:
        await start_playing(player, name)
        stream_id, _ = await start_publishing(publisher, name)
        base = 0x1000000
        # Servers hold video back until they have the AVC sequence header, so it goes first;
        # padded past any chunk size, so that the first message a player gets spans chunks
        # under a type 0 header with an extended timestamp (padding after the record is
        # ignored by its readers).
        header = media.avc_sequence_header() + bytes(9000)
        sent = [
            Media(
                MessageType.VIDEO,
                base + 40 * i,
                bytes([0x17, 1, 0, 0, 0]) + bytes([i]) * 9000,
                stream_id,
            )
            for i in range(1, 13)  # node-media-server writes to players ten messages at a time
        ]
        publisher.send(Media(MessageType.VIDEO, base, header, stream_id))
        for item in sent:
            publisher.send(item)
        got = await collect_media(player, 6, 5.0)
        frames = [m for m in got if m.payload[1:2] == b"\x01"][:5]
        conformance.expect(
            [m.payload for m in frames] == [m.payload for m in sent[:5]]
            and [m.timestamp - frames[0].timestamp for m in frames] == [40 * i for i in range(5)],
            "RTMP-CHUNK-EXTTS-REPEAT",
            f"a player got {len(frames)} of 5 long frames stamped past 0xFFFFFF intact",
        )


@pytest.mark.requirement("RTMP-CTRL-WINDOW-ACK", "RTMP-CTRL-ACK-SEQUENCE")
async def test_the_server_acknowledges_each_window_it_receives(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """Given a 4096-byte window, the server acknowledges once 4096 bytes more have arrived."""
    name_url = rtmp_target.fresh_url("ack")
    async with session(name_url) as client:
        stream_id, _ = await start_publishing(client, name_url.rsplit("/", 1)[1])
        client.send(WindowAckSize(4096))
        for i in range(8):
            client.send(Media(MessageType.AUDIO, 20 * i, bytes([0xAF, 1]) + bytes(2000), stream_id))
        ack = await client.wait_for(lambda e: isinstance(e, Acknowledgement), 5.0)
        conformance.expect(
            ack is not None,
            "RTMP-CTRL-WINDOW-ACK",
            f"no Acknowledgement after {client.conn.bytes_sent} bytes with a 4096-byte window",
        )


@pytest.mark.requirement("RTMP-UC-PING", "RTMP-UC-CHANNEL", "RTMP-UC-EVENT-LENGTH")
async def test_a_ping_request_is_answered_with_the_same_timestamp(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """PingRequest carries a timestamp; the PingResponse carries it back (§7.1.7)."""
    async with session(rtmp_target.url) as client:
        await connected(client)
        client.send(UserControl(UserControlType.PING_REQUEST, 424242))
        pong = await client.wait_for(
            lambda e: isinstance(e, UserControl) and e.kind == UserControlType.PING_RESPONSE, 5.0
        )
        value = pong.value if isinstance(pong, UserControl) else None
        conformance.expect(
            value == 424242, "RTMP-UC-PING", f"PingRequest 424242 got PingResponse {value}"
        )


@pytest.mark.requirement("RTMP-CTRL-UNKNOWN-TYPE")
async def test_a_message_of_an_unknown_type_is_ignored(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """A message of type 99 changes nothing: the next command is answered."""
    async with session(rtmp_target.url) as client:
        await connected(client)
        client.send_message(Message(3, 0, 99, 0, b"streamconform"))
        conformance.expect(
            await barrier(client),
            "RTMP-CTRL-UNKNOWN-TYPE",
            "after a message of type 99, createStream was not answered",
        )
