"""SDP (RFC 4566): parse, serialise and check session descriptions; resolve RTSP control URLs.

`parse_sdp` keeps every well-formed line in order, so `serialize_sdp` gives the text back, and
reports the line-level rules of RFC 4566 §5 (grammar in §9). `check_sdp` reports the rules that
span lines: connection data, rtpmap and fmtp against the m= formats, RTSP's a=control and
a=range (RFC 2326 Appendix C), H.264 parameters (RFC 6184 §8.1).
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from dataclasses import dataclass, field

from reference_impl.common.events import ProtocolError, Violation

TYPES = "vosiuepcbtrzkam"  # every type letter RFC 4566 §5 defines
SESSION_ORDER = "vosiuepcbtrzka"  # RFC 4566 §5: session-level lines in this order
MEDIA_ORDER = "icbka"  # then per m= section
REQUIRED = "vost"
SESSION_ONCE = "vosiuczk"  # RFC 4566 §9: fields that appear at most once per level
MEDIA_ONCE = "ik"
MAX_LINES = 2000

#: every requirement ID this module can report
REQUIREMENT_IDS = frozenset(
    {
        "RTSP-SDP-VERSION",
        "RTSP-SDP-REQUIRED",
        "RTSP-SDP-SYNTAX",
        "RTSP-SDP-ORDER",
        "RTSP-SDP-MEDIA",
        "RTSP-SDP-CRLF",
        "RTSP-SDP-ONCE",
        "RTSP-SDP-ORIGIN",
        "RTSP-SDP-SESSION-NAME",
        "RTSP-SDP-TIMING",
        "RTSP-SDP-FIELD-SYNTAX",
        "RTSP-SDP-CONNECTION",
        "RTSP-SDP-RTPMAP",
        "RTSP-SDP-RTPMAP-SYNTAX",
        "RTSP-SDP-FMTP-FORMAT",
        "RTSP-SDP-CONTROL",
        "RTSP-SDP-RANGE-SYNTAX",
        "RTSP-SDP-H264-PARAMS",
    }
)

# RFC 4566 §9: token-char = %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E
_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"
_LINE = re.compile(r"^([a-z])=(.*)$", re.DOTALL)
_ORIGIN = re.compile(rf"^\S+ [0-9]+ [0-9]+ {_TOKEN} {_TOKEN} \S+$")
_TIMING = re.compile(r"^[0-9]+ [0-9]+$")
_TYPED = r"-?[0-9]+[dhms]?"
_FIELDS = {
    "c": re.compile(rf"^{_TOKEN} {_TOKEN} \S+$"),
    "b": re.compile(rf"^{_TOKEN}:[0-9]+$"),
    "r": re.compile(rf"^{_TYPED}( {_TYPED}){{2,}}$"),
    "z": re.compile(rf"^[0-9]+ {_TYPED}( [0-9]+ {_TYPED})*$"),
    "k": re.compile(r"^(prompt|(clear|base64|uri):.*)$"),
    "a": re.compile(rf"^{_TOKEN}(:.*)?$", re.DOTALL),
}
_MEDIA = re.compile(rf"^{_TOKEN} [0-9]+(/[0-9]+)? {_TOKEN}(/{_TOKEN})*( {_TOKEN})+$")
_RTPMAP = re.compile(r"^([0-9]{1,3}) ([^/\s]+)/([0-9]+)(?:/(\S+))?$")


@dataclass(frozen=True)
class Origin:
    """The o= line (RFC 4566 §5.2)."""

    username: str
    session_id: str
    session_version: str
    nettype: str
    addrtype: str
    address: str


@dataclass(frozen=True)
class RtpMap:
    """a=rtpmap (RFC 4566 §6): payload type to encoding name, clock rate, parameters."""

    payload_type: int
    encoding: str
    clock_rate: int
    parameters: str | None = None  # audio: the channel count


@dataclass(frozen=True)
class NptRange:
    """An npt range (RFC 2326 §3.6) in seconds; `start` None means now, `end` None open."""

    start: float | None
    end: float | None


@dataclass
class Media:
    """One m= section: its m= value and the lines under it, in order."""

    line: str
    lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.line.split(" ")[0]

    @property
    def port(self) -> int | None:
        parts = self.line.split(" ")
        port = parts[1].split("/")[0] if len(parts) > 1 else ""
        return int(port) if port.isascii() and port.isdigit() else None

    @property
    def proto(self) -> str:
        parts = self.line.split(" ")
        return parts[2] if len(parts) > 2 else ""

    @property
    def formats(self) -> list[str]:
        return self.line.split(" ")[3:]

    @property
    def attributes(self) -> list[tuple[str, str | None]]:
        return [_attribute(v) for k, v in self.lines if k == "a"]

    def attribute(self, name: str) -> str | None:
        return next((v for k, v in self.attributes if k == name), None)

    @property
    def control(self) -> str | None:
        return self.attribute("control")

    def rtpmaps(self) -> dict[int, RtpMap]:
        """The well-formed a=rtpmap lines, by payload type."""
        maps = (parse_rtpmap(v) for k, v in self.attributes if k == "rtpmap" and v is not None)
        return {m.payload_type: m for m in maps if m is not None}

    def fmtp(self, fmt: int | str) -> dict[str, str]:
        """The a=fmtp parameters of one format, names lowercased; empty if there are none."""
        for name, value in self.attributes:
            parsed = parse_fmtp(value) if name == "fmtp" and value is not None else None
            if parsed is not None and parsed[0] == str(fmt):
                return parsed[1]
        return {}


MediaDescription = Media


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

    @property
    def control(self) -> str | None:
        return self.attribute("control")

    @property
    def origin(self) -> Origin | None:
        value = self.value("o")
        parts = value.split(" ") if value is not None else []
        return Origin(*parts) if len(parts) == 6 else None


def _attribute(value: str) -> tuple[str, str | None]:
    name, colon, rest = value.partition(":")
    return (name, rest if colon else None)


# -- parsing ----------------------------------------------------------------------------------


def parse_sdp(text: str) -> tuple[SessionDescription, list[Violation]]:
    """Lenient parse: lines kept in order, each deviation from RFC 4566 §5 a Violation.

    ProtocolError only past the bound of MAX_LINES lines.
    """
    raw = text.split("\n")
    if raw[-1] == "":
        raw.pop()
    if len(raw) > MAX_LINES:
        raise ProtocolError(f"session description longer than {MAX_LINES} lines")
    violations: list[Violation] = []
    # RFC 4566 §5: lines end in CRLF, though parsers should accept a bare LF too.
    if any(not line.endswith("\r") for line in raw):
        violations.append(Violation("RTSP-SDP-CRLF", "SDP lines end in LF without CR"))
    desc = SessionDescription()
    order, once, position = SESSION_ORDER, SESSION_ONCE, 0
    counts: dict[str, int] = {}
    for number, line in enumerate(raw, 1):
        match = _LINE.match(line.removesuffix("\r"))
        if match is None:
            violations.append(
                Violation("RTSP-SDP-SYNTAX", f"line {number} is not <type>=<value>: {line[:40]!r}")
            )
            continue
        key, value = match.group(1), match.group(2)
        where = f"line {number} ({key}=)"
        lines = desc.media[-1].lines if desc.media else desc.lines
        if key not in TYPES:
            # RFC 4566 §5: a parser must ignore a description with a type letter it does not know.
            violations.append(Violation("RTSP-SDP-SYNTAX", f"{where}: unknown type letter"))
            lines.append((key, value))
            continue
        # RFC 4566 §5: text fields never hold NUL, CR or LF.
        if "\r" in value or "\0" in value:
            violations.append(Violation("RTSP-SDP-SYNTAX", f"{where} holds a CR or NUL"))
        if key == "m":
            desc.media.append(Media(value))
            order, once, position, counts = MEDIA_ORDER, MEDIA_ONCE, 0, {}
            violations += _media_line(where, value)
            continue
        lines.append((key, value))
        if key not in order:
            violations.append(Violation("RTSP-SDP-ORDER", f"{where} inside a media section"))
            continue
        index = order.index(key)
        # RFC 4566 §5: time descriptions (t= with its r= lines) may repeat before z=.
        again = order is SESSION_ORDER and key == "t" and position == order.index("r")
        if index < position and not again:
            violations.append(
                Violation("RTSP-SDP-ORDER", f"{where} is out of the order of RFC 4566 §5")
            )
        position = max(position, index)
        counts[key] = counts.get(key, 0) + 1
        if key in once and counts[key] == 2:
            violations.append(Violation("RTSP-SDP-ONCE", f"{where}: a second {key}= line"))
        violations += _field(where, key, value)
    violations += _session_rules(desc)
    return desc, violations


def _field(where: str, key: str, value: str) -> list[Violation]:
    """The grammar of one line's value (RFC 4566 §5.2-§5.13, §9)."""
    if key == "o" and not _ORIGIN.match(value):
        # RFC 4566 §5.2: six fields; sess-id and sess-version are numeric strings.
        return [Violation("RTSP-SDP-ORIGIN", f"{where} is not <user> <id> <version> <net> ...")]
    if key == "s" and value == "":
        # RFC 4566 §5.3: s= must not be empty (a single space stands for no name).
        return [Violation("RTSP-SDP-SESSION-NAME", f"{where} is empty")]
    if key == "t" and not _TIMING.match(value):
        # RFC 4566 §5.9: t=<start-time> <stop-time>, decimal NTP seconds.
        return [Violation("RTSP-SDP-TIMING", f"{where} is not <start> <stop>: {value[:40]!r}")]
    pattern = _FIELDS.get(key)
    if pattern is not None and not pattern.match(value):
        return [Violation("RTSP-SDP-FIELD-SYNTAX", f"{where} is malformed: {value[:40]!r}")]
    return []


def _media_line(where: str, value: str) -> list[Violation]:
    # RFC 4566 §5.14: m=<media> <port>[/<number>] <proto> <fmt> ...
    if not _MEDIA.match(value):
        return [
            Violation("RTSP-SDP-MEDIA", f"m={value[:60]!r} is not <media> <port> <proto> <fmt>")
        ]
    parts = value.split(" ")
    if not 0 <= int(parts[1].split("/")[0]) <= 0xFFFF:
        return [Violation("RTSP-SDP-MEDIA", f"{where}: port {parts[1]} is not a UDP/TCP port")]
    # RFC 4566 §5.14: with an RTP profile the formats are RTP payload type numbers.
    if parts[2].upper().startswith("RTP/"):
        bad = [f for f in parts[3:] if not (f.isascii() and f.isdigit() and int(f) <= 127)]
        if bad:
            return [Violation("RTSP-SDP-MEDIA", f"{where}: {bad[0]!r} is not a payload type")]
    return []


def _session_rules(desc: SessionDescription) -> list[Violation]:
    out = []
    keys = [k for k, _ in desc.lines]
    # RFC 4566 §5.1: the first line is v=0.
    if not keys or keys[0] != "v" or desc.value("v") != "0":
        out.append(Violation("RTSP-SDP-VERSION", "the description does not start with v=0"))
    for key in REQUIRED:
        if key not in keys:
            out.append(Violation("RTSP-SDP-REQUIRED", f"the session has no {key}= line"))
    return out


def serialize_sdp(desc: SessionDescription) -> str:
    out = [f"{k}={v}" for k, v in desc.lines]
    for media in desc.media:
        out.append(f"m={media.line}")
        out.extend(f"{k}={v}" for k, v in media.lines)
    return "".join(line + "\r\n" for line in out)


# -- attributes -------------------------------------------------------------------------------


def parse_rtpmap(value: str) -> RtpMap | None:
    """a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]."""
    match = _RTPMAP.match(value)
    if match is None or not match.group(1).isascii() or int(match.group(1)) > 127:
        return None
    return RtpMap(int(match.group(1)), match.group(2), int(match.group(3)), match.group(4))


def parse_fmtp(value: str) -> tuple[str, dict[str, str]] | None:
    """a=fmtp:<format> <parameters>: the format and its `;`-separated name=value pairs."""
    fmt, space, rest = value.partition(" ")
    if not fmt or not space:
        return None
    params = {}
    for part in rest.split(";"):
        name, _, val = part.strip().partition("=")
        if name:
            params[name.strip().lower()] = val.strip()
    return fmt, params


# RFC 2326 §3.6: npt-time = "now" | npt-sec | npt-hhmmss
_NPT_TIME = r"(?:now|[0-9]+(?:\.[0-9]*)?|[0-9]+:[0-5]?[0-9]:[0-5]?[0-9](?:\.[0-9]*)?)"
_NPT = re.compile(rf"^npt=(?:({_NPT_TIME})-({_NPT_TIME})?|-({_NPT_TIME}))$")
# RFC 2326 §3.5 (SMPTE) and §3.7 (absolute time)
_SMPTE_TIME = r"[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?::[0-9]{1,2})?(?:\.[0-9]{1,2})?"
_SMPTE = re.compile(rf"^smpte(?:-30-drop|-25)?={_SMPTE_TIME}-(?:{_SMPTE_TIME})?$")
_UTC_TIME = r"[0-9]{8}T[0-9]{6}(?:\.[0-9]+)?Z"
_CLOCK = re.compile(rf"^clock={_UTC_TIME}-(?:{_UTC_TIME})?$")


def parse_npt_range(value: str) -> NptRange | None:
    """An `npt=` range as seconds, None if it is not one (RFC 2326 §3.6, §C.1.5)."""
    match = _NPT.match(value)
    if match is None:
        return None
    start, end, only_end = match.groups()
    if only_end is not None:
        return NptRange(0.0, _npt_seconds(only_end))
    return NptRange(_npt_seconds(start), _npt_seconds(end) if end else None)


def _npt_seconds(text: str) -> float | None:
    if text == "now":
        return None
    if ":" not in text:
        return float(text)
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def is_range(value: str) -> bool:
    """Whether `value` is an npt, smpte or clock range (RFC 2326 §3.5-§3.7, §12.29)."""
    return bool(_NPT.match(value) or _SMPTE.match(value) or _CLOCK.match(value))


# -- rules across lines -----------------------------------------------------------------------


def check_sdp(desc: SessionDescription) -> list[Violation]:
    """The rules that span lines: c= coverage, rtpmap/fmtp, RTSP control and range, H.264."""
    out: list[Violation] = []
    session_c = any(k == "c" for k, _ in desc.lines)
    for number, media in enumerate(desc.media, 1):
        where = f"media section {number} (m={media.line[:40]})"
        # RFC 4566 §5.7: c= at session level or in every media section.
        if not session_c and not any(k == "c" for k, _ in media.lines):
            out.append(Violation("RTSP-SDP-CONNECTION", f"{where} has no c= and the session none"))
        out += _format_rules(where, media)
    out += _control_rules(desc)
    levels = [desc.attributes] + [m.attributes for m in desc.media]
    for value in (v for attrs in levels for k, v in attrs if k == "range"):
        # RFC 2326 Appendix C.1.5: a=range takes the Range header's syntax (§12.29).
        if value is None or not is_range(value):
            out.append(Violation("RTSP-SDP-RANGE-SYNTAX", f"a=range:{value} is no range"))
    return out


def _format_rules(where: str, media: Media) -> list[Violation]:
    out: list[Violation] = []
    formats = media.formats
    for name, value in media.attributes:
        if name == "rtpmap":
            rtpmap = parse_rtpmap(value) if value is not None else None
            # RFC 4566 §6: rtpmap names one of the section's payload types.
            if rtpmap is None or str(rtpmap.payload_type) not in formats:
                out.append(Violation("RTSP-SDP-RTPMAP-SYNTAX", f"{where}: a=rtpmap:{value}"))
        elif name == "fmtp":
            fmtp = parse_fmtp(value) if value is not None else None
            # RFC 4566 §6: fmtp names one of the section's formats.
            if fmtp is None or fmtp[0] not in formats:
                out.append(Violation("RTSP-SDP-FMTP-FORMAT", f"{where}: a=fmtp:{value}"))
    maps = media.rtpmaps()
    if media.proto.upper().startswith("RTP/"):
        for fmt in formats:
            # RFC 4566 §5.14, RFC 3551 §3: dynamic payload types are bound by a=rtpmap.
            if fmt.isascii() and fmt.isdigit() and 96 <= int(fmt) <= 127 and int(fmt) not in maps:
                out.append(Violation("RTSP-SDP-RTPMAP", f"{where}: type {fmt} has no a=rtpmap"))
    for rtpmap in maps.values():
        if rtpmap.encoding.upper() == "H264":
            problem = h264_fmtp_problem(media.fmtp(rtpmap.payload_type))
            if problem is not None:
                out.append(Violation("RTSP-SDP-H264-PARAMS", f"{where}: {problem}"))
    return out


def h264_fmtp_problem(params: dict[str, str]) -> str | None:
    """What is wrong with H.264 fmtp parameters (RFC 6184 §8.1), None if nothing."""
    mode = params.get("packetization-mode")
    if mode is not None and mode not in ("0", "1", "2"):
        return f"packetization-mode={mode} is not 0, 1 or 2"
    level = params.get("profile-level-id")
    if level is not None and not re.fullmatch(r"[0-9A-Fa-f]{6}", level):
        return f"profile-level-id={level} is not six hex digits"
    sets = params.get("sprop-parameter-sets")
    for item in sets.split(",") if sets is not None else []:
        try:
            nal = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            return f"sprop-parameter-sets item {item[:20]!r} is not base64"
        if not nal or nal[0] & 0x80 or nal[0] & 0x1F not in (7, 8):
            return f"sprop-parameter-sets item {item[:20]!r} is not an SPS or PPS NAL unit"
    return None


def _control_rules(desc: SessionDescription) -> list[Violation]:
    # RFC 2326 Appendix C.3: without aggregate control, each of several media sections names
    # its stream with a=control.
    if len(desc.media) < 2 or desc.control is not None:
        return []
    missing = [str(n) for n, m in enumerate(desc.media, 1) if m.control is None]
    if not missing:
        return []
    which = ", ".join(missing)
    return [Violation("RTSP-SDP-CONTROL", f"media sections {which} have no a=control")]


# -- RTSP control URLs ------------------------------------------------------------------------

_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def resolve_control(
    control: str | None, content_base: str | None, content_location: str | None, request_url: str
) -> str:
    """The URL a=control names (RFC 2326 §C.1.1): absolute as is, else relative to the base.

    The base is Content-Base, else Content-Location, else the request URL; `*` (or no
    a=control) means the base itself. Like most clients, the base is read as a directory
    (`rtsp://h/movie` + `track1` -> `rtsp://h/movie/track1`).
    """
    base = content_base or content_location or request_url
    if not control or control == "*":
        return base
    if _ABSOLUTE.match(control):
        return control
    if not base.endswith("/"):
        base += "/"
    return urllib.parse.urljoin(base, control)
