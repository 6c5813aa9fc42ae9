"""RTMP server: live media from one publisher to many players (RTMP 1.0 §7.1.4, §7.1.5)."""

from __future__ import annotations

import pytest

from harness.verdict import Conformance
from reference_impl.rtmp import media
from reference_impl.rtmp.live import is_sequence_header
from reference_impl.rtmp.messages import (
    Command,
    DataMessage,
    Media,
    MessageType,
    UserControl,
    UserControlType,
)
from suites.rtmp.conftest import (
    RtmpTarget,
    barrier,
    collect_media,
    session,
    start_playing,
    start_publishing,
)

pytestmark = [pytest.mark.rtmp, pytest.mark.server]

MESSAGES = 60


@pytest.mark.requirement(
    "RTMP-MEDIA-FANOUT",
    "RTMP-MEDIA-STREAM-ID",
    "RTMP-MEDIA-TIMESTAMP-ORDER",
    "RTMP-MEDIA-METADATA",
)
async def test_every_player_receives_each_media_message_the_publisher_sends(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """Two players of a live stream each get all its audio and video, in order, unchanged, on
    their own stream IDs, and the publisher's onMetaData."""
    url = rtmp_target.fresh_url("fan")
    name = url.rsplit("/", 1)[1]
    async with session(url) as publisher, session(url) as one, session(url) as two:
        players = [(one, (await start_playing(one, name))[0])]
        players.append((two, (await start_playing(two, name))[0]))
        stream_id, _ = await start_publishing(publisher, name)
        publisher.send(DataMessage(("@setDataFrame", "onMetaData", media.metadata()), stream_id))
        sent = list(media.generate(media.Source(), stream_id, MESSAGES))
        for item in sent:
            publisher.send(item)
        for index, (player, player_stream) in enumerate(players, 1):
            got = await collect_media(player, MESSAGES, 8.0)
            conformance.expect(
                [m.payload for m in got] == [m.payload for m in sent],
                "RTMP-MEDIA-FANOUT",
                f"player {index} got {len(got)} of {MESSAGES} messages"
                + ("" if len(got) < MESSAGES else " with payloads changed or reordered"),
            )
            streams = sorted({m.stream_id for m in got})
            conformance.expect(
                streams in ([], [player_stream]),
                "RTMP-MEDIA-STREAM-ID",
                f"player {index} plays stream {player_stream} but media came on {streams}",
            )
            meta = [
                e
                for e, _ in player.log
                if isinstance(e, DataMessage) and "onMetaData" in e.values[:2]
            ]
            conformance.expect(
                bool(meta), "RTMP-MEDIA-METADATA", f"player {index} got no onMetaData"
            )


@pytest.mark.requirement("RTMP-MEDIA-CODEC-HEADERS")
async def test_a_late_player_gets_the_sequence_headers_before_the_first_frame(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """A player joining a running AVC + AAC stream gets both sequence headers before frames."""
    url = rtmp_target.fresh_url("late")
    name = url.rsplit("/", 1)[1]
    async with session(url) as publisher, session(url) as player:
        stream_id, _ = await start_publishing(publisher, name)
        items = list(media.generate(media.Source(aac=True), stream_id, 200))
        for item in items[:100]:
            publisher.send(item)
        await barrier(publisher)  # the server has taken the headers before the player comes
        await start_playing(player, name)
        for item in items[100:]:
            publisher.send(item)
        got: list[Media] = []

        def both_kinds(event: object) -> bool:
            # Live servers may hold video back until the next key frame: wait for both kinds.
            if isinstance(event, Media):
                got.append(event)
            return {m.type_id for m in got} >= {MessageType.VIDEO, MessageType.AUDIO}

        await player.wait_for(both_kinds, 8.0)
        for kind, label in ((MessageType.VIDEO, "AVC"), (MessageType.AUDIO, "AAC")):
            first = next((m for m in got if m.type_id == kind), None)
            conformance.expect(
                first is not None and is_sequence_header(first),
                "RTMP-MEDIA-CODEC-HEADERS",
                f"a late player's first {label} message is "
                + ("missing" if first is None else "a coded frame, not the sequence header"),
            )


@pytest.mark.requirement("RTMP-CMD-UNPUBLISH-NOTIFY", "RTMP-UC-STREAM-EOF")
async def test_players_are_told_when_the_publisher_stops(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """When the publisher deletes its stream, players get UnpublishNotify or StreamEOF."""
    url = rtmp_target.fresh_url("stop")
    name = url.rsplit("/", 1)[1]
    async with session(url) as publisher, session(url) as player:
        await start_playing(player, name)
        stream_id, _ = await start_publishing(publisher, name)
        for item in media.generate(media.Source(), stream_id, 5):
            publisher.send(item)
        publisher.send(Command("FCUnpublish", 0.0, None, (name,)))
        publisher.send(Command("deleteStream", 0.0, None, (float(stream_id),)))

        def told(event: object) -> bool:
            if isinstance(event, UserControl):
                return event.kind == UserControlType.STREAM_EOF
            return isinstance(event, Command) and "Unpublish" in str(event.info().get("code"))

        notice = await player.wait_for(told, 5.0)
        conformance.expect(
            notice is not None,
            "RTMP-CMD-UNPUBLISH-NOTIFY",
            "players heard nothing when the publisher deleted its stream",
        )
        conformance.expect(
            any(
                isinstance(e, UserControl) and e.kind == UserControlType.STREAM_EOF
                for e, _ in player.log
            )
            or notice is not None,
            "RTMP-UC-STREAM-EOF",
            "no StreamEOF (or unpublish status) reached the player",
        )
