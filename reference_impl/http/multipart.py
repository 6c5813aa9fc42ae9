"""multipart/x-mixed-replace bodies (RFC 2046 §5.1.1), parsed sans-IO and serialized.

Each part follows a delimiter line `--boundary`, has header lines, a blank line and a body.
The body ends where CRLF--boundary begins (the CRLF belongs to the delimiter); a part's
Content-Length, which MJPEG servers send, is checked against that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reference_impl.common.events import Event, ProtocolError, Violation

MAX_HEADER_BLOCK = 16 * 1024
MAX_PART = 8 << 20
_BOUNDARY_CHARS = re.compile(r"^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$")


@dataclass(frozen=True)
class Part(Event):
    """One whole part: its header fields and its body."""

    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class Closed(Event):
    """The close delimiter `--boundary--` ended the body."""


def boundary_of(content_type: str) -> str | None:
    """The boundary parameter of a multipart Content-Type, unquoted; None if there is none."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary":
            return value.strip().strip('"')
    return None


def boundary_is_valid(boundary: str) -> bool:
    """RFC 2046 §5.1.1: 1 to 70 characters of bchars, not ending in a space."""
    return bool(_BOUNDARY_CHARS.match(boundary))


class MultipartParser:
    """Bytes of a multipart body in, Part events out; bounded in header and part size."""

    def __init__(self, boundary: str) -> None:
        self.delimiter = b"--" + boundary.encode("latin-1")
        self._buffer = bytearray()
        self._events: list[Event] = []
        self._state = "preamble"  # preamble, headers, body, closed
        self._headers: tuple[tuple[str, str], ...] = ()
        self._length: int | None = None

    def receive_data(self, data: bytes) -> None:
        self._buffer += data
        while self._step():
            pass

    def events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def _step(self) -> bool:
        if self._state == "preamble":
            # RFC 2046 §5.1.1: the delimiter is at the start of the body or after a CRLF.
            at = self._buffer.find(self.delimiter)
            if at < 0:
                if len(self._buffer) > MAX_HEADER_BLOCK:
                    raise ProtocolError("no boundary delimiter in the first 16 KiB of the body")
                return False
            line_end = self._buffer.find(b"\n", at)
            if line_end < 0:
                return False
            if at > 0 and self._buffer[max(0, at - 2) : at] != b"\r\n":
                self._events.append(
                    Violation("HTTP-MULTIPART-DELIMITER", "a delimiter not at a line start")
                )
            if self._buffer[at + len(self.delimiter) : at + len(self.delimiter) + 2] == b"--":
                self._state = "closed"
                self._events.append(Closed())
                return False
            del self._buffer[: line_end + 1]
            self._state = "headers"
            return True
        if self._state == "headers":
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if self._buffer.startswith(b"\r\n"):
                    end = -2  # a part with no header fields at all
                elif len(self._buffer) > MAX_HEADER_BLOCK:
                    raise ProtocolError("a part's header block exceeds 16 KiB")
                else:
                    return False
            block = bytes(self._buffer[: max(end, 0)]).decode("latin-1")
            del self._buffer[: end + 4]
            headers = []
            for line in block.split("\r\n") if block else []:
                name, colon, value = line.partition(":")
                if not colon:
                    raise ProtocolError(f"a part header line without a colon: {line[:60]!r}")
                headers.append((name.strip(), value.strip()))
            self._headers = tuple(headers)
            length = next((v for k, v in headers if k.lower() == "content-length"), None)
            self._length = int(length) if length and length.isascii() and length.isdigit() else None
            if self._length is not None and self._length > MAX_PART:
                raise ProtocolError(f"a part of {self._length} bytes exceeds {MAX_PART}")
            self._state = "body"
            return True
        if self._state == "body":
            return self._body()
        return False

    def _body(self) -> bool:
        # The delimiter frames the part (RFC 2046); Content-Length is only checked against it.
        at = self._buffer.find(b"\r\n" + self.delimiter)
        if at < 0:
            if len(self._buffer) > MAX_PART:
                raise ProtocolError(f"a part longer than {MAX_PART} bytes")
            return False
        body = bytes(self._buffer[:at])
        del self._buffer[: at + 2]
        if self._length is not None and self._length != len(body):
            self._events.append(
                Violation(
                    "HTTP-MULTIPART-PART-LENGTH",
                    f"a part says Content-Length: {self._length} but holds {len(body)} bytes",
                )
            )
        self._events.append(Part(self._headers, body))
        self._state = "preamble"
        return True


def format_part(body: bytes, content_type: str, boundary: str) -> bytes:
    """One part as MJPEG servers send it: delimiter, Content-Type, Content-Length, body, CRLF."""
    head = (
        f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    return head + body + b"\r\n"
