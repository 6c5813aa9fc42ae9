"""Server-Sent Events: the WHATWG event stream parser and serializer, sans-IO.

Bytes in, events out. The parser follows the HTML Living Standard §9.2.6 "Interpreting an event
stream" step by step: UTF-8 decoding with one leading BOM stripped, lines ended by CRLF, LF or
CR (a CR at the end of the input so far waits for the next byte, since it may begin a CRLF),
fields split at the first colon with one leading space of the value removed, and the dispatch
rules of a blank line.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from reference_impl.common.events import Event, ProtocolError

#: longest line we hold before giving up on the stream (a hostile server cannot exhaust memory)
MAX_LINE = 1 << 20
#: longest data buffer of one event
MAX_EVENT = 4 << 20


@dataclass(frozen=True)
class MessageEvent(Event):
    """One dispatched event: its type, data, and the last event ID in force when it came."""

    type: str
    data: str
    last_event_id: str


@dataclass(frozen=True)
class RetryChanged(Event):
    """A `retry` field with only ASCII digits set the reconnection time, in milliseconds."""

    milliseconds: int


@dataclass(frozen=True)
class Comment(Event):
    """A line starting with a colon: ignored by the algorithm, seen by us (heartbeats)."""

    text: str


@dataclass(frozen=True)
class FieldIgnored(Event):
    """A field the algorithm ignores: an unknown name, an id with NUL, a non-digit retry."""

    name: str
    value: str


class SSEParser:
    """The client side of an event stream; `receive_data(b"")` means the stream ended."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._text = ""
        self._first = True
        self._pending_cr = False
        self._data: list[str] = []
        self._data_size = 0
        self._type = ""
        self.last_event_id = ""
        self._events: list[Event] = []
        self.ended = False

    def receive_data(self, data: bytes) -> None:
        if self.ended:
            raise ProtocolError("data after the end of the stream")
        if not data:
            self.ended = True
            self._text += self._decoder.decode(b"", final=True)
            # §9.2.6: once the stream ends, an event not yet dispatched is discarded, so a
            # partial line is dropped too.
            self._text = ""
            return
        self._text += self._decoder.decode(data)
        if self._first and self._text:
            self._first = False
            if self._text.startswith("\ufeff"):
                self._text = self._text[1:]
        self._split_lines()

    def events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def _split_lines(self) -> None:
        text, start = self._text, 0
        if self._pending_cr and text.startswith("\n"):
            start = 1  # the LF of a CRLF whose CR ended the previous input
        self._pending_cr = False
        while True:
            cr = text.find("\r", start)
            lf = text.find("\n", start)
            if cr < 0 and lf < 0:
                break
            if cr >= 0 and (lf < 0 or cr < lf):
                end, next_start = cr, cr + 1
                if cr + 1 < len(text):
                    if text[cr + 1] == "\n":
                        next_start = cr + 2
                else:
                    self._pending_cr = True  # a CRLF may be split across inputs
            else:
                end, next_start = lf, lf + 1
            self._line(text[start:end])
            start = next_start
        self._text = text[start:]
        if len(self._text) > MAX_LINE:
            raise ProtocolError(f"an event stream line longer than {MAX_LINE} characters")

    def _line(self, line: str) -> None:
        if line == "":
            self._dispatch()
            return
        if line.startswith(":"):
            self._events.append(Comment(line[1:]))
            return
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        self._field(name, value)

    def _field(self, name: str, value: str) -> None:
        if name == "event":
            self._type = value
        elif name == "data":
            self._data_size += len(value) + 1
            if self._data_size > MAX_EVENT:
                raise ProtocolError(f"an event with more than {MAX_EVENT} characters of data")
            self._data.append(value)
        elif name == "id":
            if "\x00" in value:
                self._events.append(FieldIgnored(name, value))
            else:
                self.last_event_id = value
        elif name == "retry":
            if value and value.isascii() and value.isdigit():
                self._events.append(RetryChanged(int(value)))
            else:
                self._events.append(FieldIgnored(name, value))
        else:
            self._events.append(FieldIgnored(name, value))

    def _dispatch(self) -> None:
        # §9.2.6 "dispatch the event": an empty data buffer dispatches nothing and resets the
        # type; the last event ID survives (it was set as the field was read).
        data, self._data, self._data_size = self._data, [], 0
        event_type, self._type = self._type or "message", ""
        if not data:
            return
        self._events.append(MessageEvent(event_type, "\n".join(data), self.last_event_id))


def format_event(
    data: str, *, event: str | None = None, id: str | None = None, retry: int | None = None
) -> bytes:
    """One event as a server writes it: fields, one `data:` line per line of data, blank line."""
    lines: list[str] = []
    if retry is not None:
        lines.append(f"retry: {retry}")
    if id is not None:
        lines.append(f"id: {id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def format_comment(text: str) -> bytes:
    """A comment line: ignored by clients, it keeps intermediaries from timing the stream out."""
    return f": {text}\n\n".encode()
