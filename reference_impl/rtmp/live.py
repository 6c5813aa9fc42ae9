"""Live streams of the reference server: one publisher, many players, no I/O.

A stream keeps what a late player needs before the first coded frame (FLV 10.1 §E.4.2.1,
§E.4.3.1: the AVC and AAC sequence headers) and the last onMetaData. Players are callbacks,
so the server's sessions decide how bytes reach their sockets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reference_impl.rtmp.messages import Media, MessageType

Deliver = Callable[["Media | tuple[str, Any]"], None]

AVC_CODEC_ID, AAC_SOUND_FORMAT = 7, 10


def is_sequence_header(media: Media) -> bool:
    """True for an AVC or AAC sequence header (codec configuration, not a coded frame)."""
    p = media.payload
    if len(p) < 2:
        return False
    if media.type_id == MessageType.VIDEO:
        return p[0] & 0x0F == AVC_CODEC_ID and p[1] == 0
    return p[0] >> 4 == AAC_SOUND_FORMAT and p[1] == 0


@dataclass
class LiveStream:
    """One published name: its publisher's session key, cached headers, and players."""

    name: str
    publisher: object | None = None
    metadata: dict[str, Any] | None = None
    headers: dict[int, Media] = field(default_factory=dict)
    players: dict[object, Deliver] = field(default_factory=dict)
    media_count: int = 0

    def late_join(self) -> list[Media | tuple[str, Any]]:
        """What a player joining now gets first: metadata, then the sequence headers."""
        first: list[Media | tuple[str, Any]] = []
        if self.metadata is not None:
            first.append(("onMetaData", self.metadata))
        first.extend(self.headers[t] for t in sorted(self.headers, reverse=True))
        return first


class LiveHub:
    """Every live stream of one server, by name."""

    def __init__(self) -> None:
        self.streams: dict[str, LiveStream] = {}

    def stream(self, name: str) -> LiveStream:
        if name not in self.streams:
            self.streams[name] = LiveStream(name)
        return self.streams[name]

    def publish(self, name: str, publisher: object, *, allow_duplicate: bool = False) -> bool:
        """Register a publisher; False if the name is already being published."""
        live = self.stream(name)
        if live.publisher is not None and not allow_duplicate:
            return False
        live.publisher = publisher
        return True

    def unpublish(self, name: str, publisher: object) -> list[Deliver]:
        """End a publish; returns the players to tell."""
        live = self.streams.get(name)
        if live is None or live.publisher is not publisher:
            return []
        live.publisher = None
        live.headers.clear()
        live.metadata = None
        return list(live.players.values())

    def play(self, name: str, player: object, deliver: Deliver) -> list[Media | tuple[str, Any]]:
        live = self.stream(name)
        live.players[player] = deliver
        return live.late_join() if live.publisher is not None else []

    def stop_playing(self, player: object) -> None:
        for live in self.streams.values():
            live.players.pop(player, None)

    def media(self, name: str, media: Media) -> list[Deliver]:
        """Record a publisher's media; returns the players it goes to."""
        live = self.stream(name)
        live.media_count += 1
        if is_sequence_header(media):
            live.headers[media.type_id] = media
        return list(live.players.values())
