"""PNA (RealNetworks' pnm:// protocol) on the wire: the request, the response, data packets.

No public specification exists. The facts come from reading the pnm client that MPlayer and
xine-lib share (stream/pnm.c, input/pnm.c) and from watching those clients on loopback:

- Request: `PNA` 00 0a 00 14 00 02 00 01, then chunks (u16 ID, u16 length, data) ended by
  00 00 and four more bytes, the client string record (0x63, u16, string, NUL), the path
  record (00 52, u16, path) and the trailer `yB`.
- Response: a `PNA\\0` chunk (4 size bytes, one byte, sub-chunks 0x4f-length-data, the challenge
  marker `i` with one byte, three ending bytes), the RealMedia header chunks (.RMF, PROP,
  MDPR, CONT, DATA: tag and u32 size), a 72-byte challenge block, then data packets.
- Data packet: `Z`, u16 length, the length again, u16 index, `Z`, then (length - 5) bytes:
  a second index byte, u32 timestamp, group, flags, payload.
- From the client, after the headers: 0x23 00 len response (to the challenge), `!` keep-alives.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

SIGNATURE = b"PNA"
VERSION = 10
REQUEST_HEAD = SIGNATURE + bytes([0x00, 0x0A, 0x00, 0x14, 0x00, 0x02, 0x00, 0x01])
CHUNK_END = b"\x00\x00"
AFTER_CHUNKS = bytes([0x50, 0x84, 0x1F, 0x3A])  # constant in the clients; its role is unknown
CLIENT_STRING_ID = 0x63
PATH_ID = 0x52
TRAILER = b"yB"
KEEPALIVE = b"!"
RESPONSE_ID = 0x23
CHALLENGE_BLOCK_SIZE = 72
DATA_PREFIX = 8  # Z, length, length, index, Z
MIN_PACKET_LENGTH = 12
HEADER_BUFFER = 4096  # the clients' header buffer: headers beyond it are refused

# request chunk IDs (the clients' names)
CAPS, CHALLENGE, BANDWIDTH, GUID, TIMESTAMP, TWENTYFOUR = 0x03, 0x04, 0x05, 0x13, 0x17, 0x18

_HEX32 = re.compile(rb"^[0-9a-fA-F]{32}$")
_GUID = re.compile(rb"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
MAX_REQUEST = 8192


class Incomplete(Exception):
    """More bytes are needed."""


class Malformed(ValueError):
    """Bytes that cannot be what they should be; the message says where, and what it breaks."""

    def __init__(self, message: str, requirement_id: str = "PNA-REQ-SIGNATURE") -> None:
        super().__init__(message)
        self.requirement_id = requirement_id


@dataclass
class PnaRequest:
    """A client's request: its chunks by ID, the client string, the path, and deviations."""

    version: int
    chunks: dict[int, bytes]
    client_string: bytes
    path: str
    trailer: bytes
    size: int
    problems: list[tuple[str, str]] = field(default_factory=list)


def build_request(
    path: str, *, challenge: bytes = b"0" * 32, faults: frozenset[str] = frozenset()
) -> bytes:
    """A request the way the MPlayer/xine client writes one."""
    chunks = [
        (CHALLENGE, challenge),
        (CAPS, bytes([0x07, 0x8A]) + b"pnrv" + bytes([0, 0x64]) + b"dnet"),
        (TIMESTAMP, b"[15/06/1999:22:22:49 00:00]"),
        (BANDWIDTH, struct.pack("<I", 10485800)),
        (GUID, b"3eac2411-83d5-11d2-f3ea-d7c3a51aa8b0"),
        (TWENTYFOUR, bytes(range(16))),
    ]
    if "pna_client_no_challenge" in faults:
        chunks = chunks[1:]
    drop = {"pna_client_no_bandwidth": BANDWIDTH, "pna_client_no_caps": CAPS}
    chunks = [(c, d) for c, d in chunks if not any(f in faults and c == i for f, i in drop.items())]
    if "pna_client_bad_guid" in faults:
        chunks = [(c, b"not-a-guid" if c == GUID else d) for c, d in chunks]
    head = REQUEST_HEAD if "pna_client_bad_signature" not in faults else b"PNM" + REQUEST_HEAD[3:]
    body = b"".join(struct.pack(">HH", cid, len(data)) + data for cid, data in chunks)
    if "pna_client_bad_chunk_length" in faults:
        body = body[:2] + b"\xff\xff" + body[4:]  # the first chunk claims 65535 bytes
    client = b"streamconform_pna_1.0"
    record = bytes([CLIENT_STRING_ID]) + struct.pack(">H", len(client)) + client + b"\0"
    if "pna_client_no_client_string" in faults:
        record = b""
    wire_path = path.encode("utf-8")
    if "pna_client_wrong_path" in faults:
        wire_path = b"/streamconform-elsewhere"
    path_record = bytes([0, PATH_ID]) + struct.pack(">H", len(wire_path)) + wire_path
    trailer = b"xx" if "pna_client_bad_trailer" in faults else TRAILER
    return head + body + CHUNK_END + AFTER_CHUNKS + record + path_record + trailer


def parse_request(data: bytes) -> PnaRequest:
    """A request from its first bytes; Incomplete until the trailer is in, Malformed if not one."""
    start = bytes(data[:3])
    if not SIGNATURE.startswith(start):
        raise Malformed(f"a request starts with PNA, not {start!r}")
    if len(data) < len(REQUEST_HEAD):
        raise Incomplete
    problems: list[tuple[str, str]] = []
    version = struct.unpack_from(">H", data, 3)[0]
    if version != VERSION:
        problems.append(("PNA-REQ-SIGNATURE", f"protocol version {version}, not {VERSION}"))
    pos, chunks = len(REQUEST_HEAD), {}
    while True:
        _need(data, pos + 2)
        if data[pos : pos + 2] == CHUNK_END:
            pos += 2
            break
        _need(data, pos + 4)
        cid, length = struct.unpack_from(">HH", data, pos)
        _need(data, pos + 4 + length)
        chunks[cid] = bytes(data[pos + 4 : pos + 4 + length])
        pos += 4 + length
        if len(chunks) > 64:
            raise Malformed(
                "more than 64 request chunks without the 00 00 end mark", "PNA-REQ-CHUNK-TLV"
            )
    _need(data, pos + len(AFTER_CHUNKS) + 3)
    pos += len(AFTER_CHUNKS)
    client_string = b""
    if data[pos] == CLIENT_STRING_ID:
        # The clients write a length they then overwrite (a bug in the shared code): read the
        # string to its NUL instead of trusting the length.
        end = data.find(b"\0", pos + 3)
        if end < 0:
            _need(data, len(data) + 1)
        client_string = bytes(data[pos + 3 : end])
        pos = end + 1
    else:
        problems.append(("PNA-REQ-CLIENT-STRING", f"0x{data[pos]:02x} where 0x63 should be"))
    _need(data, pos + 4)
    if data[pos : pos + 2] != bytes([0, PATH_ID]):
        raise Malformed(
            f"the path record starts {bytes(data[pos : pos + 2]).hex()}, not 0052", "PNA-REQ-PATH"
        )
    length = struct.unpack_from(">H", data, pos + 2)[0]
    _need(data, pos + 4 + length + 2)
    path = bytes(data[pos + 4 : pos + 4 + length]).decode("utf-8", "replace")
    pos += 4 + length
    trailer = bytes(data[pos : pos + 2])
    if trailer != TRAILER:
        problems.append(("PNA-REQ-TRAILER", f"the request ends {trailer!r}, not b'yB'"))
    return PnaRequest(version, chunks, client_string, path, trailer, pos + 2, problems)


def _need(data: bytes, size: int) -> None:
    if size > MAX_REQUEST:
        raise Malformed(
            f"a request of more than {MAX_REQUEST} bytes: a chunk length overstates its chunk?",
            "PNA-REQ-CHUNK-TLV",
        )
    if len(data) < size:
        raise Incomplete


def request_problems(request: PnaRequest) -> list[tuple[str, str]]:
    """What the request's chunks get wrong, beyond its framing."""
    found = list(request.problems)
    challenge = request.chunks.get(CHALLENGE)
    if challenge is None or not _HEX32.match(challenge):
        found.append(("PNA-REQ-CHALLENGE", f"the challenge chunk is {challenge!r}"))
    if len(request.chunks.get(BANDWIDTH, b"")) != 4:
        found.append(("PNA-REQ-BANDWIDTH", "no 4-byte bandwidth chunk"))
    guid = request.chunks.get(GUID)
    if guid is None or not _GUID.match(guid):
        found.append(("PNA-REQ-GUID", f"the GUID chunk is {guid!r}"))
    if not request.chunks.get(CAPS):
        found.append(("PNA-REQ-CAPS", "no capabilities chunk"))
    return found


# -- the response ---------------------------------------------------------------------------


def pna_chunk(subchunks: list[bytes], *, challenge: bool, ending: bytes = b"r\x00\x00") -> bytes:
    """The PNA chunk: tag, 4 size bytes (clients skip them), one byte, sub-chunks, ending."""
    body = b"".join(bytes([0x4F, len(s)]) + s for s in subchunks)
    marker = b"i\x00" if challenge else b""
    return b"PNA\x00" + struct.pack(">I", 0) + b"\x00" + marker + body + ending


def server_message(text: str) -> bytes:
    """A server message as the clients read it: X, u16 length, the text."""
    raw = text.encode("utf-8")[:4000].ljust(5)  # clients read at least 5 bytes of it
    return b"X" + struct.pack(">H", len(raw)) + raw


def refusal(text: str) -> bytes:
    """A refusal: clients look for a message only inside the PNA chunk, so it opens one."""
    return b"PNA\x00" + struct.pack(">I", 0) + b"\x00" + server_message(text)


def data_packet(index: int, index2: int, timestamp: int, payload: bytes, flags: int = 2) -> bytes:
    """One data packet: Z, length, length, index, Z, index2, timestamp, group, flags, payload."""
    length = 5 + 1 + 4 + 2 + len(payload)
    prefix = b"Z" + struct.pack(">HHH", length, length, index & 0xFFFF) + b"Z"
    return (
        prefix + bytes([index2 & 0xFF]) + struct.pack(">I", timestamp) + bytes([0, flags]) + payload
    )


@dataclass(frozen=True)
class DataPacket:
    """A data packet as read: its two indices, timestamp, flags and payload."""

    index: int
    index2: int
    timestamp: int
    flags: int
    payload: bytes
    length: int


def challenge_response(response: bytes) -> bytes:
    return bytes([RESPONSE_ID, 0, len(response)]) + response
