"""Event base types shared by every sans-IO protocol core."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Base class of everything a protocol core emits."""


@dataclass(frozen=True)
class Violation(Event):
    """The peer deviated from a catalogued requirement; `detail` says how, in our words."""

    requirement_id: str
    detail: str


@dataclass(frozen=True)
class NeedData(Event):
    """The core cannot produce another event until more bytes arrive."""


@dataclass(frozen=True)
class ConnectionClosed(Event):
    """The peer closed its side of the connection."""


class ProtocolError(Exception):
    """Input that cannot be framed at all; the connection cannot continue."""

    def __init__(self, message: str, requirement_id: str | None = None) -> None:
        super().__init__(message)
        self.requirement_id = requirement_id
