"""RTSP messages (RFC 2326 §6, §7): dataclasses and pure parse/serialise functions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reference_impl.common.events import Event
from reference_impl.common.headers import serialize

RTSP_VERSION = "RTSP/1.0"
Headers = tuple[tuple[str, str], ...]

# RFC 2326 §6.1: Request-Line = Method SP Request-URI SP RTSP-Version CRLF
_REQUEST_LINE = re.compile(r"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) (RTSP/\d+\.\d+)$")
# RFC 2326 §7.1: Status-Line = RTSP-Version SP Status-Code SP Reason-Phrase CRLF
_STATUS_LINE = re.compile(r"^(RTSP/\d+\.\d+) (\d{3})(?: (.*))?$")

REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version not supported",
}


def _get(headers: Headers, name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers if k.lower() == lowered), None)


@dataclass(frozen=True)
class Request(Event):
    """A request: method, URI, version, header fields in order, body."""

    method: str
    uri: str
    headers: Headers = ()
    body: bytes = b""
    version: str = RTSP_VERSION

    def header(self, name: str) -> str | None:
        return _get(self.headers, name)


@dataclass(frozen=True)
class Response(Event):
    """A response: status, reason, header fields in order, body."""

    status: int
    headers: Headers = ()
    body: bytes = b""
    reason: str = ""
    version: str = RTSP_VERSION

    def header(self, name: str) -> str | None:
        return _get(self.headers, name)


@dataclass(frozen=True)
class BadRequest(Event):
    """A framed message whose request line cannot be understood; the server answers 400."""

    start_line: str
    headers: Headers = ()
    reason: str = "malformed request line"


@dataclass(frozen=True)
class InterleavedFrame(Event):
    """RFC 2326 §10.12: binary data on the RTSP connection, `$` channel length data."""

    channel: int
    data: bytes = field(repr=False)


def parse_request_line(line: str) -> tuple[str, str, str] | None:
    match = _REQUEST_LINE.match(line)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def parse_status_line(line: str) -> tuple[str, int, str] | None:
    match = _STATUS_LINE.match(line)
    return (match.group(1), int(match.group(2)), match.group(3) or "") if match else None


def serialize_request(request: Request) -> bytes:
    return serialize(
        f"{request.method} {request.uri} {request.version}", request.headers, request.body
    )


def serialize_response(response: Response, line_end: bytes = b"\r\n") -> bytes:
    reason = response.reason or REASONS.get(response.status, "Unknown")
    data = serialize(
        f"{response.version} {response.status} {reason}", response.headers, response.body
    )
    return data if line_end == b"\r\n" else data.replace(b"\r\n", line_end)


def serialize_interleaved(frame: InterleavedFrame) -> bytes:
    if not 0 <= frame.channel <= 255 or len(frame.data) > 0xFFFF:
        raise ValueError("interleaved channel is one octet and length two octets (RFC 2326 §10.12)")
    return b"$" + bytes([frame.channel]) + len(frame.data).to_bytes(2, "big") + frame.data
