"""RTMP server: NetConnection and NetStream commands and their answers (RTMP 1.0 §7.2)."""

from __future__ import annotations

import pytest

from harness.verdict import Conformance
from reference_impl.rtmp import media
from reference_impl.rtmp.messages import Command, UserControl, UserControlType
from suites.rtmp.conftest import (
    RtmpTarget,
    barrier,
    connected,
    new_stream,
    session,
    start_playing,
    start_publishing,
)

pytestmark = [pytest.mark.rtmp, pytest.mark.server]


def _code(status: Command | None) -> str:
    return str(status.info().get("code")) if status is not None else "nothing"


@pytest.mark.requirement(
    "RTMP-CMD-CONNECT-RESULT",
    "RTMP-CMD-TRANSACTION-ID",
    "RTMP-CMD-OBJECT-ENCODING",
    "RTMP-CTRL-CONNECT-SEQUENCE",
    "RTMP-AMF0-VALID",
    "RTMP-AMF0-COMMAND-SHAPE",
)
async def test_connect_is_answered_with_connect_success(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """connect (transaction 1) gets _result 1 with NetConnection.Connect.Success; on the way the
    server states its window and the peer bandwidth; the answer says objectEncoding 0."""
    async with session(rtmp_target.url) as client:
        client.send(Command("connect", 1.0, client.connect_object()))
        answer = await client.wait_for(
            lambda e: isinstance(e, Command) and e.name in ("_result", "_error")
        )
        assert isinstance(answer, Command) or answer is None
        conformance.expect(
            answer is not None and answer.transaction_id == 1.0,
            "RTMP-CMD-TRANSACTION-ID",
            f"connect (transaction 1) was answered with transaction "
            f"{answer.transaction_id if answer else None}",
        )
        info = answer.info() if answer is not None else {}
        conformance.expect(
            answer is not None
            and answer.name == "_result"
            and info.get("code") == "NetConnection.Connect.Success",
            "RTMP-CMD-CONNECT-RESULT",
            f"connect got {answer.name if answer else 'no answer'} with code {info.get('code')}",
        )
        encoding = info.get("objectEncoding")
        conformance.expect(
            encoding in (None, 0.0),
            "RTMP-CMD-OBJECT-ENCODING",
            f"an AMF0 client was told objectEncoding {encoding}",
        )
        kinds = {type(event).__name__ for event, _ in client.log}
        conformance.expect(
            {"WindowAckSize", "SetPeerBandwidth"} <= kinds,
            "RTMP-CTRL-CONNECT-SEQUENCE",
            f"while connecting the server sent {sorted(kinds)}",
        )


@pytest.mark.requirement("RTMP-CMD-CREATESTREAM-RESULT", "RTMP-CMD-TRANSACTION-ID")
async def test_create_stream_returns_a_message_stream_id(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """createStream gets _result, same transaction ID, whose argument is a stream ID number."""
    async with session(rtmp_target.url) as client:
        await connected(client)
        client.send(Command("createStream", 7.0, None))
        answer = await client.wait_for(
            lambda e: isinstance(e, Command) and e.name in ("_result", "_error")
        )
        assert answer is None or isinstance(answer, Command)
        conformance.expect(
            answer is not None and answer.transaction_id == 7.0,
            "RTMP-CMD-TRANSACTION-ID",
            f"createStream 7 was answered as {answer.transaction_id if answer else None}",
        )
        value = answer.args[0] if answer is not None and answer.args else None
        conformance.expect(
            isinstance(value, float) and 0 < value < 2**32,
            "RTMP-CMD-CREATESTREAM-RESULT",
            f"createStream _result carries {value!r}, not a stream ID",
        )


@pytest.mark.requirement(
    "RTMP-CMD-PUBLISH-START",
    "RTMP-CMD-STATUS-FIELDS",
    "RTMP-CMD-STATUS-STREAM",
    "RTMP-CMD-FCPUBLISH",
)
async def test_publish_is_answered_with_publish_start_on_the_stream(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """releaseStream, FCPublish, createStream, publish: onStatus NetStream.Publish.Start, on the
    publishing stream, transaction 0, null command object, with level and code."""
    url = rtmp_target.fresh_url("pub")
    name = url.rsplit("/", 1)[1]
    async with session(url) as client:
        await connected(client)
        client.send(Command("releaseStream", client.next_tid(), None, (name,)))
        client.send(Command("FCPublish", client.next_tid(), None, (name,)))
        stream_id = await client.create_stream() if not client.closed else 0
        conformance.expect(
            not client.closed, "RTMP-CMD-FCPUBLISH", "the server closed after FCPublish"
        )
        client.publish(stream_id, name)
        status = await client.wait_for(
            lambda e: (
                isinstance(e, Command)
                and e.name == "onStatus"
                and "Publish" in str(e.info().get("code"))
            )
        )
        assert status is None or isinstance(status, Command)
        conformance.expect(
            _code(status) == "NetStream.Publish.Start",
            "RTMP-CMD-PUBLISH-START",
            f"publish got {_code(status)}",
        )
        _check_status(conformance, status, stream_id)


def _check_status(conformance: Conformance, status: Command | None, stream_id: int) -> None:
    if status is None:
        return
    info = status.info()
    conformance.expect(
        status.transaction_id == 0
        and status.command_object is None
        and isinstance(info.get("level"), str)
        and isinstance(info.get("code"), str),
        "RTMP-CMD-STATUS-FIELDS",
        f"onStatus has transaction {status.transaction_id}, command object "
        f"{status.command_object!r}, level {info.get('level')!r}, code {info.get('code')!r}",
    )
    conformance.expect(
        status.stream_id == stream_id,
        "RTMP-CMD-STATUS-STREAM",
        f"onStatus {info.get('code')} came on stream {status.stream_id}, not {stream_id}",
    )


@pytest.mark.requirement(
    "RTMP-CMD-PLAY-START",
    "RTMP-CMD-PLAY-RESET",
    "RTMP-UC-STREAM-BEGIN",
    "RTMP-UC-EVENT-LENGTH",
    "RTMP-CMD-STATUS-FIELDS",
    "RTMP-CMD-STATUS-STREAM",
    "RTMP-CHUNK-MSID-LE",
)
async def test_play_is_answered_with_stream_begin_and_play_start(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """play of a published stream: StreamBegin with the stream ID, Play.Reset, then Play.Start,
    all on the player's stream (whose ID, little-endian in the chunk header, must read back)."""
    url = rtmp_target.fresh_url("play")
    name = url.rsplit("/", 1)[1]
    async with session(url) as publisher, session(url) as player:
        published, _ = await start_publishing(publisher, name)
        # A stream becomes functional once media flows (nginx-rtmp sends StreamBegin then).
        for item in media.generate(media.Source(), published, 5):
            publisher.send(item)
        await barrier(publisher)
        stream_id, statuses = await start_playing(player, name)
        codes = [_code(s) for s in statuses]
        conformance.expect(
            "NetStream.Play.Start" in codes,
            "RTMP-CMD-PLAY-START",
            f"play got {codes or 'no onStatus'}",
        )
        conformance.expect(
            "NetStream.Play.Reset" in codes,
            "RTMP-CMD-PLAY-RESET",
            f"play got {codes or 'no onStatus'}, without NetStream.Play.Reset",
        )
        begins = [
            e.value
            for e, _ in player.log
            if isinstance(e, UserControl) and e.kind == UserControlType.STREAM_BEGIN
        ]
        if stream_id not in begins:
            # Some live servers send StreamBegin only once media flows: give it a moment.
            await player.wait_for(
                lambda e: isinstance(e, UserControl) and e.kind == UserControlType.STREAM_BEGIN,
                2.0,
            )
            begins = [
                e.value
                for e, _ in player.log
                if isinstance(e, UserControl) and e.kind == UserControlType.STREAM_BEGIN
            ]
        conformance.expect(
            stream_id in begins,
            "RTMP-UC-STREAM-BEGIN",
            f"StreamBegin came for streams {begins}, not for {stream_id}",
        )
        for status in statuses:
            _check_status(conformance, status, stream_id)
        little_endian = all(s.stream_id == stream_id for s in statuses)
        conformance.expect(
            little_endian or not statuses,
            "RTMP-CHUNK-MSID-LE",
            f"the play answers' stream IDs read {[s.stream_id for s in statuses]}, not {stream_id}",
        )


@pytest.mark.requirement("RTMP-CMD-PUBLISH-BADNAME")
async def test_a_second_publisher_of_a_name_is_refused(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """While one client publishes a name, another's publish of it is refused."""
    url = rtmp_target.fresh_url("dup")
    name = url.rsplit("/", 1)[1]
    async with session(url) as first, session(url) as second:
        await start_publishing(first, name)
        await barrier(first)
        _, status = await start_publishing(second, name)
        conformance.expect(
            second.closed or _code(status) != "NetStream.Publish.Start",
            "RTMP-CMD-PUBLISH-BADNAME",
            f"a second publisher of {name} got {_code(status)}",
        )


@pytest.mark.requirement("RTMP-CMD-UNKNOWN")
async def test_an_unknown_command_leaves_the_connection_usable(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """A command the server does not know gets _error or nothing; createStream still works."""
    async with session(rtmp_target.url) as client:
        await connected(client)
        client.send(Command("streamconformNoSuchCommand", 5.0, None, ("x",)))
        conformance.expect(
            await barrier(client),
            "RTMP-CMD-UNKNOWN",
            "after an unknown command the connection no longer answers createStream",
        )


@pytest.mark.requirement("RTMP-CMD-DELETESTREAM")
async def test_delete_stream_ends_publishing_so_the_name_is_free_again(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """After deleteStream of a publishing stream, the name can be published again."""
    url = rtmp_target.fresh_url("del")
    name = url.rsplit("/", 1)[1]
    async with session(url) as client:
        stream_id, _ = await start_publishing(client, name)
        client.send(Command("deleteStream", 0.0, None, (float(stream_id),)))
        again = await new_stream(client)
        client.publish(again, name)
        status = await client.status(again)
        conformance.expect(
            _code(status) == "NetStream.Publish.Start",
            "RTMP-CMD-DELETESTREAM",
            f"publishing {name} again after deleteStream got {_code(status)}",
        )
