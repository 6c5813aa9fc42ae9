"""Media the reference server sends: one tiny JPEG frame for multipart/x-mixed-replace."""

from __future__ import annotations

#: a 16x16 blue JPEG made with `ffmpeg -f lavfi -i color=c=blue:size=16x16 -frames:v 1`
JPEG_FRAME = bytes.fromhex(
    "ffd8ffe000104a46494600010200000100010000fffe00104c61766335392e33372e31303000ffdb"
    "0043000814141714171b1b1b1b1b1b201e20212121202020202121212424242a2a2a242424212124"
    "2428282a2a2e2f2e2b2b2a2b2f2f3232323c3c3939464648565667ffc4004c000101000000000000"
    "00000000000000000007010101000000000000000000000000000005071001000000000000000000"
    "00000000000000110100000000000000000000000000000000ffc000110800100010030122000211"
    "00031100ffda000c03010002110311003f008e00bf8b7fffd9"
)

#: An event stream of the parsing traps of WHATWG HTML §9.2.6, and the events it must give:
#: a BOM, CR and CRLF line ends, multi-line data, an event type, an id with NULL, an unknown
#: field and a comment, an event with no data, and an event the end of the stream cuts off.
TRICKY_STREAM = (
    "\ufeffdata: bom\n\n"
    "data: cr\r\r"
    "data: crlf\r\n\r\n"
    "id: 7\ndata: line one\ndata: line two\n\n"
    "event: custom\ndata: typed\n\n"
    "id: 1\x002\ndata: nul\n\n"
    ": a comment\nfoo: bar\ndata: unknown\n\n"
    "id: 9\n\n"
    "data: after\n\n"
    "data: incomplete\n"
).encode()
#: (type, data, last event id) of each event TRICKY_STREAM must give, in order
TRICKY_EVENTS = [
    ("message", "bom", ""),
    ("message", "cr", ""),
    ("message", "crlf", ""),
    ("message", "line one\nline two", "7"),
    ("custom", "typed", "7"),
    ("message", "nul", "7"),
    ("message", "unknown", "7"),
    ("message", "after", "9"),
]
