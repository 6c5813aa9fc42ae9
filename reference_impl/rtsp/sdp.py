"""SDP (RFC 4566): parse and serialise session descriptions, and resolve RTSP control URLs."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

from reference_impl.common.events import Violation

# RFC 4566 §5: session-level lines in this order; v, o, s and t are required.
SESSION_ORDER = "vosiuepcbtrzka"
MEDIA_ORDER = "micbka"
REQUIRED = "vost"
MAX_LINES = 2000


@dataclass
class Media:
    """One m= section: its m= line and the lines under it, in order."""

    line: str
    lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def attributes(self) -> list[tuple[str, str | None]]:
        return [_attribute(v) for k, v in self.lines if k == "a"]

    def attribute(self, name: str) -> str | None:
        return next((v for k, v in self.attributes if k == name), None)


@dataclass
class SessionDescription:
    """A parsed description: session lines in order, then media sections."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)

    def value(self, key: str) -> str | None:
        return next((v for k, v in self.lines if k == key), None)

    @property
    def attributes(self) -> list[tuple[str, str | None]]:
        return [_attribute(v) for k, v in self.lines if k == "a"]

    def attribute(self, name: str) -> str | None:
        return next((v for k, v in self.attributes if k == name), None)


def _attribute(value: str) -> tuple[str, str | None]:
    name, colon, rest = value.partition(":")
    return (name, rest if colon else None)


def parse_sdp(text: str) -> tuple[SessionDescription, list[Violation]]:
    """Lenient parse: every line kept; each deviation from RFC 4566 becomes a Violation."""
    violations: list[Violation] = []
    desc = SessionDescription()
    raw = text.split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    # RFC 4566 §5: lines end in CRLF, though parsers should accept a bare LF too.
    if any(not line.endswith("\r") for line in raw):
        violations.append(Violation("RTSP-SDP-CRLF", "SDP lines end in LF without CR"))
    order = SESSION_ORDER
    position = 0
    for number, line in enumerate(raw[:MAX_LINES], 1):
        line = line.removesuffix("\r")
        if len(line) < 2 or line[1] != "=" or not line[0].islower():
            violations.append(
                Violation("RTSP-SDP-SYNTAX", f"line {number} is not <type>=<value>: {line[:40]!r}")
            )
            continue
        key, value = line[0], line[2:]
        if key == "m":
            desc.media.append(Media(value))
            order, position = MEDIA_ORDER, 0
            continue
        if key in order:
            index = order.index(key)
            if index < position:
                violations.append(
                    Violation(
                        "RTSP-SDP-ORDER",
                        f"line {number} ({key}=) is out of the order of RFC 4566 §5",
                    )
                )
            position = max(position, index)
        (desc.media[-1].lines if desc.media else desc.lines).append((key, value))
    keys = [k for k, _ in desc.lines]
    if not keys or keys[0] != "v" or desc.value("v") != "0":
        violations.append(Violation("RTSP-SDP-VERSION", "the description does not start with v=0"))
    for key in REQUIRED:
        if key not in keys:
            violations.append(Violation("RTSP-SDP-REQUIRED", f"the session has no {key}= line"))
    for media in desc.media:
        parts = media.line.split()
        if len(parts) < 4 or not parts[1].split("/")[0].isdigit():
            violations.append(
                Violation("RTSP-SDP-MEDIA", f"m={media.line!r} is not <media> <port> <proto> <fmt>")
            )
    return desc, violations


def serialize_sdp(desc: SessionDescription) -> str:
    out = [f"{k}={v}" for k, v in desc.lines]
    for media in desc.media:
        out.append(f"m={media.line}")
        out.extend(f"{k}={v}" for k, v in media.lines)
    return "".join(line + "\r\n" for line in out)


def resolve_control(
    control: str | None, content_base: str | None, content_location: str | None, request_url: str
) -> str:
    """The URL a=control names (RFC 2326 §C.1.1): absolute as is, else relative to the base.

    The base is Content-Base, else Content-Location, else the request URL; `*` means the base.
    """
    base = content_base or content_location or request_url
    if not control or control == "*":
        return base
    if "://" in control:
        return control
    if not base.endswith("/"):
        base += "/"
    return urllib.parse.urljoin(base, control)
