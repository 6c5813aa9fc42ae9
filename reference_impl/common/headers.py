"""The one bounded header-block parser that RTSP, HTTP-like MMSH and PNA's text parts share.

A message is a start line, RFC 822-style fields, an empty line, then a body whose length the
Content-Length field gives (RFC 2326 §4.3 and §12.14; absent means no body). The parser is pure:
`parse_message(buffer, start)` looks at bytes and says what is there. It is lenient in what it
accepts and exact in what it reports: each deviation becomes a `Deviation`, which the protocol
core maps to its own requirement ID. Only input it cannot frame raises `ProtocolError`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from reference_impl.common.events import ProtocolError, Violation


class Deviation(enum.Enum):
    """Ways a header block can stray from strict syntax while still being framable."""

    BARE_LF = "a line ended in LF without CR"
    FOLDED_LINE = "a field was continued on a line starting with white space"
    SPACE_BEFORE_COLON = "white space between a field name and its colon"
    FIELD_WITHOUT_COLON = "a field line without a colon was ignored"
    EMPTY_FIELD_NAME = "a field line with an empty name was ignored"
    LEADING_EMPTY_LINE = "empty lines before the start line were skipped"
    NON_ASCII_FIELD_NAME = "a field name holds characters outside the token set"


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile peer from making the parser allocate without limit."""

    max_header_bytes: int = 64 * 1024
    max_fields: int = 128
    max_body: int = 8 * 1024 * 1024


@dataclass(frozen=True)
class Message:
    """A framed message: start line, fields in wire order, body."""

    start_line: str
    fields: tuple[tuple[str, str], ...]
    body: bytes = b""

    def get(self, name: str) -> str | None:
        """The first value of a field, by case-insensitive name."""
        lowered = name.lower()
        for key, value in self.fields:
            if key.lower() == lowered:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.fields if key.lower() == lowered]


@dataclass(frozen=True)
class Parsed:
    """A message found in a buffer, where it ended, and how it strayed."""

    message: Message
    end: int
    deviations: tuple[Deviation, ...] = field(default=())


DEFAULT_LIMITS = Limits()
_BLOCK_END = re.compile(rb"\r?\n\r?\n")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_DIGITS = re.compile(r"^[0-9]+$")


def parse_message(
    buffer: bytes | bytearray, start: int = 0, limits: Limits = DEFAULT_LIMITS
) -> Parsed | None:
    """Frame one message at `start`; None if more bytes are needed.

    Raises ProtocolError when the block exceeds a bound or its length cannot be known.
    """
    deviations: list[Deviation] = []
    pos = start
    # Empty lines between messages are tolerated (RFC 2616 §4.1 allows them before a request).
    while pos < len(buffer) and buffer[pos] in (0x0D, 0x0A):
        if buffer[pos] == 0x0D and pos + 1 >= len(buffer):
            return None  # a lone CR might begin a CRLF: wait
        pos += 1
    if pos > start:
        deviations.append(Deviation.LEADING_EMPTY_LINE)
    if pos >= len(buffer):
        return None
    match = _BLOCK_END.search(buffer, pos)
    if match is None:
        if len(buffer) - pos > limits.max_header_bytes:
            raise ProtocolError(f"header block longer than {limits.max_header_bytes} bytes")
        return None
    if match.start() - pos > limits.max_header_bytes:
        raise ProtocolError(f"header block longer than {limits.max_header_bytes} bytes")
    block = bytes(buffer[pos : match.start()])
    if match.group() != b"\r\n\r\n":
        deviations.append(Deviation.BARE_LF)
    start_line, fields = _parse_block(block, limits, deviations)
    body_start = match.end()
    length = _content_length(fields, limits)
    if len(buffer) - body_start < length:
        return None
    body = bytes(buffer[body_start : body_start + length])
    return Parsed(Message(start_line, tuple(fields), body), body_start + length, tuple(deviations))


def _parse_block(
    block: bytes, limits: Limits, deviations: list[Deviation]
) -> tuple[str, list[tuple[str, str]]]:
    # latin-1 maps every byte to one character, so nothing the peer sends can fail to decode
    # and the exact bytes can be reported back.
    lines = block.decode("latin-1").split("\n")
    # Every line but the last carried its own LF; the last one's ending is the block terminator.
    if any(not line.endswith("\r") for line in lines[:-1]):
        _add_once(deviations, Deviation.BARE_LF)
    stripped = [line.removesuffix("\r") for line in lines]
    start_line, rest = stripped[0], stripped[1:]
    fields: list[tuple[str, str]] = []
    for line in rest:
        if line[:1] in (" ", "\t"):
            if fields:
                _add_once(deviations, Deviation.FOLDED_LINE)
                name, value = fields[-1]
                fields[-1] = (name, (value + " " + line.strip()).strip())
                continue
            _add_once(deviations, Deviation.FIELD_WITHOUT_COLON)
            continue
        name, colon, value = line.partition(":")
        if not colon:
            _add_once(deviations, Deviation.FIELD_WITHOUT_COLON)
            continue
        if name != name.rstrip():
            _add_once(deviations, Deviation.SPACE_BEFORE_COLON)
            name = name.rstrip()
        if not name:
            _add_once(deviations, Deviation.EMPTY_FIELD_NAME)
            continue
        if not _TOKEN.match(name):
            _add_once(deviations, Deviation.NON_ASCII_FIELD_NAME)
        fields.append((name, value.strip(" \t")))
        if len(fields) > limits.max_fields:
            raise ProtocolError(f"more than {limits.max_fields} header fields")
    return start_line, fields


def _add_once(deviations: list[Deviation], deviation: Deviation) -> None:
    if deviation not in deviations:
        deviations.append(deviation)


def _content_length(fields: list[tuple[str, str]], limits: Limits) -> int:
    values = {v for k, v in fields if k.lower() == "content-length"}
    if not values:
        return 0
    if len(values) > 1:
        raise ProtocolError("conflicting Content-Length fields: the body cannot be framed")
    (value,) = values
    if not _DIGITS.match(value):
        raise ProtocolError(f"Content-Length {value!r} is not a number: the body cannot be framed")
    length = int(value)
    if length > limits.max_body:
        raise ProtocolError(f"Content-Length {length} exceeds the {limits.max_body}-byte bound")
    return length


def violations_for(
    deviations: tuple[Deviation, ...], requirement_ids: Mapping[Deviation, str]
) -> list[Violation]:
    """Turn deviations into the protocol's violations; deviations it allows map to nothing."""
    return [Violation(requirement_ids[d], d.value) for d in deviations if d in requirement_ids]


def serialize(
    start_line: str, fields: list[tuple[str, str]] | tuple[tuple[str, str], ...], body: bytes = b""
) -> bytes:
    """Write a message exactly as given (CRLF line ends); callers choose the fields' order."""
    head = start_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    return head.encode("latin-1", errors="replace") + body
