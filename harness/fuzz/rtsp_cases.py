"""RTSP fuzz cases: generators over random.Random, shared with the property tests as strategies.

A generator takes a `random.Random` and returns bytes, so case N of seed S is always the same
bytes (replayable), and `st.randoms()` turns each into a hypothesis strategy for the tests.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import strategies as st

from harness.fuzz.mutation import edit_bytes

METHODS = [
    "OPTIONS",
    "DESCRIBE",
    "SETUP",
    "PLAY",
    "PAUSE",
    "TEARDOWN",
    "GET_PARAMETER",
    "SET_PARAMETER",
    "ANNOUNCE",
    "RECORD",
    "REDIRECT",
]
HEADERS = [
    "CSeq",
    "Session",
    "Transport",
    "Range",
    "Content-Length",
    "Content-Type",
    "Accept",
    "Require",
    "Proxy-Require",
    "Scale",
    "Speed",
    "Authorization",
    "User-Agent",
    "Bandwidth",
    "Blocksize",
    "Conference",
    "x-sessioncookie",
]
NASTY_VALUES = [
    "",
    " ",
    "-1",
    "0",
    "4294967296",
    "18446744073709551617",
    "9" * 40,
    "%n%s%x",
    "\x00",
    "\xff\xfe",
    "a" * 5000,
    "RTP/AVP/TCP;interleaved=255-256",
    "RTP/AVP;unicast;client_port=65535-65536",
    "npt=-5-",
    "npt=now-",
    "clock=bad",
    "smpte=99:99:99",
    ";;;;",
    "=",
    "\t",
    "rtsp://127.0.0.1/../../etc/passwd",
]

Generator = Callable[[random.Random], bytes]


def _value(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(NASTY_VALUES)
    return "".join(chr(rng.randrange(0x20, 0x7F)) for _ in range(rng.randrange(0, 40)))


def request(rng: random.Random, url: str = "rtsp://127.0.0.1/test", cseq: int = 1) -> bytes:
    """A request with grammar-aware choices: real methods and headers, hostile values."""
    method = rng.choice(METHODS) if rng.random() < 0.85 else _value(rng).replace(" ", "")
    uri = url if rng.random() < 0.7 else rng.choice(["*", url + "/trackID=0", _value(rng)])
    version = (
        "RTSP/1.0" if rng.random() < 0.8 else rng.choice(["RTSP/2.0", "HTTP/1.1", "RTSP/1.", ""])
    )
    fields = [("CSeq", str(cseq) if rng.random() < 0.8 else _value(rng))]
    for _ in range(rng.randrange(0, 6)):
        fields.append((rng.choice(HEADERS), _value(rng)))
    body = b""
    if rng.random() < 0.2:
        body = rng.randbytes(rng.randrange(0, 200))
        length = len(body) if rng.random() < 0.6 else rng.choice([0, len(body) + 7, 10**9])
        fields.append(("Content-Length", str(length)))
    head = f"{method} {uri} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    return head.encode("latin-1", "replace") + body


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Mutate recorded valid bytes: bytes and fields, lengths, folding, line ends, encodings."""
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        choice = rng.randrange(9)
        pos = rng.randrange(len(buf) + 1)
        if choice <= 2:
            edit_bytes(buf, rng)
        elif choice == 3:
            buf = bytearray(bytes(buf).replace(b"\r\n", b"\n", rng.randrange(1, 4)))
        elif choice == 4:
            buf = bytearray(bytes(buf).replace(b"\r\n", b"\r\n ", 1))  # header folding
        elif choice == 5:
            buf[pos:pos] = (
                b"Content-Length: " + str(rng.choice([0, 1, 65536, 2**31])).encode() + b"\r\n"
            )
        elif choice == 6:
            line_end = bytes(buf).find(b"\r\n")
            if line_end > 0:
                buf[line_end:line_end] = b"\r\n" + bytes(buf[:line_end])  # duplicated line
        elif choice == 7:
            buf[pos:pos] = "é\u2028\ufeff".encode(rng.choice(["utf-8", "utf-16"]))
        else:
            buf[pos:pos] = b"$" + bytes([rng.randrange(256)]) + rng.randbytes(2)
    return bytes(buf)


def interleaved(rng: random.Random) -> bytes:
    """An interleaved `$` frame whose length may lie (RFC 2326 §10.12)."""
    payload = rng.randbytes(rng.randrange(0, 64))
    length = len(payload) if rng.random() < 0.5 else rng.randrange(0, 65536)
    return b"$" + bytes([rng.randrange(256)]) + length.to_bytes(2, "big") + payload


GENERATORS: dict[str, Generator] = {
    "request": request,
    "interleaved": interleaved,
    "bytes": lambda rng: rng.randbytes(rng.randrange(0, 300)),
}

#: the same generators as hypothesis strategies, for the property tests
requests = st.randoms(use_true_random=False).map(request)
any_case = st.randoms(use_true_random=False).map(
    lambda rng: GENERATORS[rng.choice(sorted(GENERATORS))](rng)
)
