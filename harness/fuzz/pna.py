"""PNA as a fuzzing target: the request is the whole client side, so cases are requests.

States: `fresh` (a case is the first thing on a connection) and `streaming` (a valid request
was answered with the headers; the case then comes where the challenge response and
keep-alives go). Oracles: the answer to a case must be framable (a ProtocolError or a MUST
violation in it is a finding), and a valid request on a fresh connection must still be served.
"""

from __future__ import annotations

import random
import struct
import time
import urllib.parse

from harness.catalogue import Catalogue
from harness.fuzz.driver import Verdict
from harness.fuzz.mutation import edit_bytes
from harness.fuzz.wire import Exchange, read_until
from reference_impl.common.events import NeedData, ProtocolError, Violation
from reference_impl.pna import wire
from reference_impl.pna.connection import (
    ChallengeBlock,
    PacketReceived,
    PnaChunkReceived,
    PNAConnection,
    Role,
    ServerMessage,
)

STATES = ("fresh", "streaming")
WALK_TIMEOUT = 5.0
GLANCE = 0.2


class PnaFuzz:
    """Drives one connection to a PNA server into a state, then one case."""

    protocol = "pna"
    states = STATES

    def __init__(self, url: str, catalogue: Catalogue, answer_timeout: float = 1.0) -> None:
        self.url = url
        self.path = urllib.parse.urlsplit(url).path or "/"
        self.catalogue = catalogue
        self.answer_timeout = answer_timeout
        self._conn: PNAConnection | None = None
        self._state = "fresh"

    def walk(self, ex: Exchange, state: str) -> bool:
        self._conn = PNAConnection(Role.CLIENT)
        self._state = state
        if state == "fresh":
            return True
        if not ex.send(wire.build_request(self.path)):
            return False
        return self._read_until(ex, self._conn, ChallengeBlock, WALK_TIMEOUT)

    def case(self, rng: random.Random, recorded: list[bytes]) -> bytes:
        if self._state == "streaming":
            pick = rng.randrange(4)
            if pick == 0:
                return wire.KEEPALIVE * rng.randrange(1, 50)
            if pick == 1:
                return bytes([wire.RESPONSE_ID, 0, rng.randrange(256)]) + rng.randbytes(40)
            return rng.randbytes(rng.randrange(1, 300))
        data = bytearray(rng.choice(recorded))
        for _ in range(rng.randrange(1, 4)):
            if rng.random() < 0.5:
                edit_bytes(data, rng)
            elif len(data) > 16:
                at = rng.randrange(11, len(data) - 4)  # a chunk length that lies
                data[at : at + 2] = struct.pack(">H", rng.choice([0, 1, 0x7FFF, 0xFFFF]))
        return bytes(data)

    def recorded_session(self) -> list[bytes]:
        return [
            wire.build_request(self.path),
            wire.build_request(self.path.lstrip("/")),
            wire.build_request("/streamconform-no-such-stream.rm"),
        ]

    def judge(self, ex: Exchange, payload: bytes) -> Verdict:
        conn = self._conn or PNAConnection(Role.CLIENT)
        if not ex.send(payload):
            return Verdict(None)
        deadline = time.monotonic() + GLANCE
        while True:
            try:
                event = conn.next_event()
            except ProtocolError as exc:
                if self._state == "fresh" and not ex.received and not conn.headers:
                    return Verdict(None)  # no PNA answer to a broken request: as it should be
                return Verdict("unframable-response", str(exc), exc.requirement_id)
            if isinstance(event, Violation) and self._is_must(event.requirement_id):
                return Verdict("must-violation", event.detail, event.requirement_id)
            if isinstance(event, PnaChunkReceived) and self._state == "fresh":
                if not _is_request(payload):
                    return Verdict(
                        "malformed-accepted",
                        "bytes that are no PNA request were answered with a PNA chunk",
                        "PNA-SERVER-BAD-REQUEST",
                    )
            if isinstance(event, PacketReceived | ServerMessage):
                return Verdict(None)
            if isinstance(event, NeedData) and not ex.feed(conn, deadline):
                return Verdict(None)

    def healthy(self, host: str, port: int, timeout: float, ex: Exchange | None = None) -> bool:
        """A valid request on a fresh connection still gets the PNA chunk."""

        def answered(fresh: Exchange) -> bool:
            if not fresh.send(wire.build_request(self.path)):
                return False
            return self._read_until(fresh, PNAConnection(Role.CLIENT), PnaChunkReceived, timeout)

        return Exchange.probe(host, port, timeout, answered)

    def _read_until(self, ex: Exchange, conn: PNAConnection, kind: type, timeout: float) -> bool:
        return read_until(ex, conn, lambda e: isinstance(e, kind), timeout) is not None

    def _is_must(self, requirement_id: str) -> bool:
        return requirement_id in self.catalogue and self.catalogue[requirement_id].level == "MUST"


def _is_request(data: bytes) -> bool:
    """True when the bytes frame as a whole PNA request (the clients' grammar)."""
    try:
        wire.parse_request(data)
    except (wire.Incomplete, wire.Malformed):
        return False
    return True


DRIVER = PnaFuzz
