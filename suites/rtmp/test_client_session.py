"""RTMP client: what a player or publisher sends, observed by a scripted server (§5, §7.2).

The client under test gets the URL of a scripted reference server. A player gets a generated
live stream; a publisher (a client that sends publish) is read and checked. Tests about one
of the two roles are skipped, with the reason, for a client that plays the other.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

import pytest

from harness.clients import ClientUnderTest, wait_for_client
from harness.evidence import TestEvidence
from harness.verdict import Conformance
from reference_impl.rtmp.live import is_sequence_header
from reference_impl.rtmp.messages import (
    Acknowledgement,
    Command,
    DataMessage,
    Media,
    MessageType,
    UserControl,
    UserControlType,
    WindowAckSize,
)
from reference_impl.rtmp.server import PING_VALUE, ReferenceServer
from suites.rtmp.conftest import CLIENT_DEADLINE, scripted_server

pytestmark = [pytest.mark.rtmp, pytest.mark.client]

PUBLISH = "mode=publish"
WINDOW = 4096


def _names(server: ReferenceServer) -> list[str]:
    return [c.name for c in server.commands]


def _first(server: ReferenceServer, name: str) -> Command | None:
    return next((c for c in server.commands if c.name == name), None)


def _played_or_published(server: ReferenceServer) -> bool:
    return bool({"play", "publish"} & set(_names(server)))


def _media(server: ReferenceServer) -> list[Media]:
    return [e for e in server.events if isinstance(e, Media)]


async def _observe(
    client: ClientUnderTest,
    evidence: TestEvidence,
    done: Callable[[ReferenceServer], bool],
    *,
    publish: bool = False,
    **options: object,
) -> ReferenceServer:
    async with scripted_server(**options) as (server, url):
        if publish:
            url += "?" + PUBLISH
        async with client.run(url, evidence.directory) as run:
            await wait_for_client(server, done, run, CLIENT_DEADLINE)
        if run.log_path:
            evidence.extra_files.append(run.log_path)
    return server


def _skip_unless(server: ReferenceServer, command: str) -> None:
    if command not in _names(server):
        sent = ", ".join(dict.fromkeys(_names(server))) or "no command"
        pytest.skip(f"the client sent {sent}; this test needs a client that sends {command}")


@pytest.mark.requirement("RTMP-HS-VERSION", "RTMP-HS-ECHO", "RTMP-HS-ECHO-TIME", "RTMP-HS-ZERO")
async def test_the_client_completes_a_plain_handshake(
    rtmp_client: ClientUnderTest, evidence: TestEvidence
) -> None:
    """C0 is 3 and C2 echoes S1 when the server answers with the plain handshake."""
    server = await _observe(rtmp_client, evidence, lambda s: bool(s.commands), digest=False)
    assert server.connections, "the client never connected"


@pytest.mark.requirement("RTMP-HS-DIGEST", "RTMP-HS-RESPONSE-DIGEST")
async def test_the_client_signs_c1_and_derives_c2_from_the_servers_digest(
    rtmp_client: ClientUnderTest, evidence: TestEvidence
) -> None:
    """A C1 with a version carries a valid player digest; C2 is derived from S1's digest."""
    server = await _observe(rtmp_client, evidence, lambda s: bool(s.commands), digest=True)
    assert server.connections, "the client never connected"


@pytest.mark.requirement("RTMP-HS-WAIT-S2")
async def test_the_client_sends_nothing_after_c2_until_s2_arrives(
    rtmp_client: ClientUnderTest, evidence: TestEvidence
) -> None:
    """With S2 held back, the client sends C2 and then waits (§5.2.1)."""
    server = await _observe(rtmp_client, evidence, lambda s: bool(s.commands), hold_s2=True)
    assert server.connections, "the client never connected"


@pytest.mark.requirement(
    "RTMP-CLIENT-CONNECT-FIRST",
    "RTMP-CLIENT-CONNECT-OBJECT",
    "RTMP-CLIENT-FLASHVER",
    "RTMP-AMF0-VALID",
    "RTMP-AMF0-COMMAND-SHAPE",
    "RTMP-CTRL-CHANNEL",
    "RTMP-CTRL-LENGTH",
    "RTMP-CHUNK-FIRST-FMT0",
    "RTMP-CHUNK-SIZE-RANGE",
)
async def test_the_first_command_is_connect_naming_the_app_and_tc_url(
    rtmp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """connect comes first, transaction 1, with app and tcUrl strings matching the URL."""
    server = await _observe(rtmp_client, evidence, lambda s: len(s.commands) >= 2)
    assert server.commands, f"the client sent no command within {CLIENT_DEADLINE:g} s"
    first = server.commands[0]
    conformance.expect(
        first.name == "connect" and first.transaction_id == 1.0,
        "RTMP-CLIENT-CONNECT-FIRST",
        f"the first command is {first.name} with transaction {first.transaction_id}",
    )
    obj = first.command_object if isinstance(first.command_object, dict) else {}
    tc_url = obj.get("tcUrl")
    app = obj.get("app")
    good = isinstance(app, str) and isinstance(tc_url, str)
    if good:
        assert isinstance(tc_url, str)
        parts = urllib.parse.urlsplit(tc_url)
        good = parts.scheme == "rtmp" and parts.path.strip("/").startswith(str(app).strip("/"))
    conformance.expect(
        good,
        "RTMP-CLIENT-CONNECT-OBJECT",
        f"connect names app {app!r} and tcUrl {tc_url!r}",
    )
    conformance.expect(
        isinstance(obj.get("flashVer"), str),
        "RTMP-CLIENT-FLASHVER",
        "connect states no flashVer",
    )


@pytest.mark.requirement(
    "RTMP-CLIENT-STREAM-ID",
    "RTMP-CLIENT-PLAY-ARGS",
    "RTMP-CLIENT-STREAM-TID",
    "RTMP-CHUNK-MSID-LE",
)
async def test_play_goes_on_the_stream_create_stream_returned(
    rtmp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """play: transaction 0, null command object, a name, on the stream createStream gave."""
    server = await _observe(rtmp_client, evidence, lambda s: "play" in _names(s))
    _skip_unless(server, "play")
    play = _first(server, "play")
    assert play is not None
    conformance.expect(
        play.stream_id == 1,
        "RTMP-CLIENT-STREAM-ID",
        f"createStream returned stream 1; play came on stream {play.stream_id}",
    )
    conformance.expect(
        play.command_object is None and bool(play.args) and isinstance(play.args[0], str),
        "RTMP-CLIENT-PLAY-ARGS",
        f"play has command object {play.command_object!r}, arguments {play.args[:1]!r}",
    )
    conformance.expect(
        play.transaction_id == 0,
        "RTMP-CLIENT-STREAM-TID",
        f"play has transaction ID {play.transaction_id}, not 0",
    )


@pytest.mark.requirement("RTMP-CHUNK-SIZE-HONOURED")
async def test_the_client_reads_the_servers_chunks_at_the_size_it_set(
    rtmp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """The server sets 4096-byte chunks before its connect _result; the client reads it and goes
    on to createStream."""
    server = await _observe(rtmp_client, evidence, lambda s: "createStream" in _names(s))
    conformance.expect(
        "createStream" in _names(server),
        "RTMP-CHUNK-SIZE-HONOURED",
        f"after a connect _result in 4096-byte chunks the client sent only {_names(server)}",
    )


@pytest.mark.requirement("RTMP-CTRL-WINDOW-ACK", "RTMP-CTRL-ACK-SEQUENCE")
async def test_the_client_acknowledges_each_window(
    rtmp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """Given a 16 KB window and a live stream, a player sends Acknowledgements."""

    def acked(s: ReferenceServer) -> bool:
        return any(isinstance(e, Acknowledgement) for e in s.events)

    server = await _observe(rtmp_client, evidence, acked, window=WINDOW)
    _skip_unless(server, "play")
    if not acked(server) and server.bytes_sent < 2 * WINDOW:
        pytest.skip(f"the client stopped after {server.bytes_sent} bytes, before 2 windows")
    conformance.expect(
        acked(server),
        "RTMP-CTRL-WINDOW-ACK",
        f"a player given a {WINDOW}-byte window sent no Acknowledgement after "
        f"{server.bytes_sent} bytes",
    )


@pytest.mark.requirement("RTMP-UC-PING")
async def test_the_client_answers_a_ping_request(
    rtmp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """A PingRequest from the server is answered with a PingResponse of the same timestamp."""

    def ponged(s: ReferenceServer) -> bool:
        return any(
            isinstance(e, UserControl) and e.kind == UserControlType.PING_RESPONSE for e in s.events
        )

    server = await _observe(rtmp_client, evidence, ponged, ping=True)
    _skip_unless(server, "play")
    values = [
        e.value
        for e in server.events
        if isinstance(e, UserControl) and e.kind == UserControlType.PING_RESPONSE
    ]
    conformance.expect(
        PING_VALUE in values,
        "RTMP-UC-PING",
        f"PingRequest {PING_VALUE} got PingResponses {values or 'none'}",
    )


@pytest.mark.requirement("RTMP-CTRL-PEER-BW-RESPONSE")
async def test_the_client_answers_set_peer_bandwidth_with_its_window(
    rtmp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """After Set Peer Bandwidth with a new window, the client sends Window Ack Size."""
    server = await _observe(rtmp_client, evidence, lambda s: "createStream" in _names(s))
    conformance.expect(
        any(isinstance(e, WindowAckSize) for e in server.events),
        "RTMP-CTRL-PEER-BW-RESPONSE",
        "the client sent no Window Acknowledgement Size",
    )


@pytest.mark.requirement(
    "RTMP-CLIENT-PUBLISH-ARGS",
    "RTMP-CLIENT-STREAM-TID",
    "RTMP-CLIENT-STREAM-ID",
)
async def test_publish_names_the_stream_and_a_publishing_type(
    rtmp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """publish: transaction 0, null command object, the name, then live, record or append."""
    server = await _observe(rtmp_client, evidence, lambda s: "publish" in _names(s), publish=True)
    _skip_unless(server, "publish")
    publish = _first(server, "publish")
    assert publish is not None
    kind = publish.args[1] if len(publish.args) > 1 else None
    conformance.expect(
        publish.command_object is None
        and bool(publish.args)
        and isinstance(publish.args[0], str)
        and kind in ("live", "record", "append"),
        "RTMP-CLIENT-PUBLISH-ARGS",
        f"publish has command object {publish.command_object!r}, arguments {publish.args!r}",
    )
    conformance.expect(
        publish.transaction_id == 0,
        "RTMP-CLIENT-STREAM-TID",
        f"publish has transaction ID {publish.transaction_id}, not 0",
    )
    conformance.expect(
        publish.stream_id == 1,
        "RTMP-CLIENT-STREAM-ID",
        f"createStream returned stream 1; publish came on stream {publish.stream_id}",
    )


@pytest.mark.requirement(
    "RTMP-CLIENT-MEDIA-FLV", "RTMP-CLIENT-METADATA", "RTMP-MEDIA-TIMESTAMP-ORDER"
)
async def test_published_media_are_flv_tag_bodies_starting_with_the_sequence_header(
    rtmp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """Video starts with the AVC sequence header; audio and video name known codecs; metadata
    comes first."""
    server = await _observe(rtmp_client, evidence, lambda s: len(_media(s)) >= 20, publish=True)
    _skip_unless(server, "publish")
    got = _media(server)
    assert got, "the publisher sent no media"
    video = [m for m in got if m.type_id == MessageType.VIDEO]
    bad = [m for m in got if not _known_codec(m)]
    conformance.expect(
        not bad,
        "RTMP-CLIENT-MEDIA-FLV",
        f"{len(bad)} media messages name no known FLV codec (first byte "
        f"{bad[0].payload[:1].hex() if bad else ''})",
    )
    if video and video[0].payload[:1] and video[0].payload[0] & 0x0F == 7:
        conformance.expect(
            is_sequence_header(video[0]),
            "RTMP-CLIENT-MEDIA-FLV",
            "the first AVC video message is a coded frame, not the sequence header",
        )
    conformance.expect(
        any(isinstance(e, DataMessage) and "onMetaData" in e.values[:2] for e in server.events),
        "RTMP-CLIENT-METADATA",
        "the publisher sent no onMetaData",
    )


def _known_codec(m: Media) -> bool:
    if not m.payload:
        return False
    if m.type_id == MessageType.VIDEO:
        return m.payload[0] & 0x0F in (2, 3, 4, 5, 6, 7, 12) and m.payload[0] >> 4 in range(1, 6)
    return m.payload[0] >> 4 in (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 14, 15)


@pytest.mark.requirement("RTMP-CLIENT-DELETESTREAM")
async def test_the_client_deletes_its_stream_before_it_goes(
    rtmp_client: ClientUnderTest, conformance: Conformance, evidence: TestEvidence
) -> None:
    """A client ends its stream with deleteStream or closeStream before closing (§7.2.2.3)."""

    def over(s: ReferenceServer) -> bool:
        return bool({"deleteStream", "closeStream"} & set(_names(s)))

    server = await _observe(rtmp_client, evidence, over)
    if not _played_or_published(server):
        pytest.skip(f"the client sent {_names(server)}: it never played or published")
    conformance.expect(
        over(server),
        "RTMP-CLIENT-DELETESTREAM",
        f"the client sent {_names(server)} and no deleteStream or closeStream",
    )
