"""RTSP as a fuzzing target: states to walk into, cases, and the spec oracles."""

from __future__ import annotations

import random
import re
import time
import urllib.parse

from harness.catalogue import Catalogue
from harness.fuzz import rtsp_cases
from harness.fuzz.driver import Verdict
from harness.fuzz.wire import Exchange
from reference_impl.common.events import ProtocolError, Violation
from reference_impl.common.headers import Limits
from reference_impl.rtsp.connection import Role, RTSPConnection
from reference_impl.rtsp.messages import BadRequest, Request, Response
from reference_impl.rtsp.transport import bind_rtp_pair

STATES = ("Init", "Ready", "Playing")
INCOMPLETE_GLANCE = 0.0
MALFORMED_WAIT = 0.25
WALK_TIMEOUT = 5.0
_CSEQ = re.compile(rb"(?im)^cseq:[ \t]*([0-9]{1,9})[ \t]*\r?$")


class RtspFuzz:
    """Walks a server into Init, Ready or Playing, then sends one generated or mutated case."""

    protocol = "rtsp"
    states = STATES

    def __init__(self, url: str, catalogue: Catalogue, answer_timeout: float = 1.0) -> None:
        self.url = url
        self.catalogue = catalogue
        self.answer_timeout = answer_timeout
        self.session = ""
        self._track: str | None = None
        self._track_of = url

    # -- state walk: valid requests, RFC 2326 Appendix A ---------------------------------

    def walk(self, ex: Exchange, state: str) -> bool:
        """Bring the connection's session into `state`; False if the server would not go."""
        self.session = ""
        cseq = 1
        steps: list[tuple[str, str, list[tuple[str, str]]]] = []
        if state in ("Ready", "Playing"):
            track = self._first_track(ex)
            if track is None:
                return False
            cseq = 2
            transport = [("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")]
            steps.append(("SETUP", track, transport))
        if state == "Playing":
            steps.append(("PLAY", self.url, [("Range", "npt=0.000-")]))
        for method, uri, headers in steps:
            if self.session:
                headers = [*headers, ("Session", self.session)]
            head = f"{method} {uri} RTSP/1.0\r\nCSeq: {cseq}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
            response = self.exchange(ex, head.encode())
            if response is not None and response.status == 461 and method == "SETUP":
                # A UDP-only server (interleaved TCP is optional, RFC 2326 §10.12): offer UDP.
                cseq += 1
                head = head.replace(f"CSeq: {cseq - 1}", f"CSeq: {cseq}").replace(
                    "RTP/AVP/TCP;unicast;interleaved=0-1", _udp_transport()
                )
                response = self.exchange(ex, head.encode())
            if response is None or response.status != 200:
                return False
            if method == "SETUP":
                self.session = (response.header("Session") or "").split(";")[0].strip()
            cseq += 1
        return True

    def _first_track(self, ex: Exchange) -> str | None:
        """DESCRIBE, then the first media's control URL resolved as RFC 2326 §C.1.1 says."""
        if self._track is None or self._track_of != self.url:
            self._track_of = self.url  # a restarted peer may name its tracks differently
            describe = f"DESCRIBE {self.url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n"
            response = self.exchange(ex, describe.encode())
            if response is None or response.status != 200:
                return None
            base = response.header("Content-Base") or response.header("Content-Location")
            base = base or self.url.rstrip("/") + "/"
            media = response.body.decode("utf-8", "replace").split("\nm=")[1:]
            controls = [
                line.split(":", 1)[1].strip()
                for line in (media[0].splitlines() if media else [])
                if line.startswith("a=control:")
            ]
            control = controls[0] if controls else ""
            if "://" in control:
                self._track = control
            else:
                self._track = urllib.parse.urljoin(
                    base if base.endswith("/") else base + "/", control
                )
        else:
            # The walk must still look like a player's: the same DESCRIBE on this connection.
            describe = f"DESCRIBE {self.url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n"
            if self.exchange(ex, describe.encode()) is None:
                return None
        return self._track

    def exchange(self, ex: Exchange, data: bytes, timeout: float = WALK_TIMEOUT) -> Response | None:
        """One valid request and its response; a server may take a while to prepare media."""
        conn = RTSPConnection(Role.CLIENT)
        if not ex.send(data):
            return None
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn.receive_data(bytes(ex.received))
                ex.received.clear()
                for event in conn.events():
                    if isinstance(event, Response):
                        return event
            except ProtocolError:
                return None
            chunk = ex.read_some(deadline)
            if not chunk:
                return None

    # -- cases ---------------------------------------------------------------------------

    def case(self, rng: random.Random, recorded: list[bytes]) -> bytes:
        """A generated request, a mutation of a recorded valid one, or raw frames."""
        roll = rng.random()
        if roll < 0.45:
            data = rtsp_cases.request(rng, self.url, cseq=10)
        elif roll < 0.9 and recorded:
            data = rtsp_cases.mutate(rng.choice(recorded), rng)
        else:
            data = rtsp_cases.GENERATORS[rng.choice(["interleaved", "bytes"])](rng)
        if self.session and rng.random() < 0.7:
            # Stateful: most cases carry the live session so they reach the session's handlers.
            data = data.replace(b"\r\n\r\n", f"\r\nSession: {self.session}\r\n\r\n".encode(), 1)
        return data

    def recorded_session(self) -> list[bytes]:
        """Valid requests of a playing client: the seeds of mutation."""
        return [
            f"OPTIONS {self.url} RTSP/1.0\r\nCSeq: 10\r\n\r\n".encode(),
            f"DESCRIBE {self.url} RTSP/1.0\r\nCSeq: 10\r\nAccept: application/sdp\r\n\r\n".encode(),
            f"SETUP {self.url}/trackID=0 RTSP/1.0\r\nCSeq: 10\r\n"
            "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n".encode(),
            f"PLAY {self.url} RTSP/1.0\r\nCSeq: 10\r\nRange: npt=0.000-\r\n\r\n".encode(),
            f"PAUSE {self.url} RTSP/1.0\r\nCSeq: 10\r\n\r\n".encode(),
            f"GET_PARAMETER {self.url} RTSP/1.0\r\nCSeq: 10\r\nContent-Length: 0\r\n\r\n".encode(),
            f"TEARDOWN {self.url} RTSP/1.0\r\nCSeq: 10\r\n\r\n".encode(),
        ]

    # -- oracles -------------------------------------------------------------------------

    def judge(self, ex: Exchange, payload: bytes) -> Verdict:
        """Send the case and apply the spec oracles to what comes back."""
        kind = _classify(payload)
        conn = RTSPConnection(Role.CLIENT)
        found = _CSEQ.findall(payload.split(b"\r\n\r\n", 1)[0])
        if len(found) == 1 and kind == "request":  # with two CSeqs, which to echo is moot
            conn.expect_response(int(found[0]))
        if not ex.send(payload):
            return Verdict(None)  # the server closed before taking it all: allowed
        # Incomplete input may legitimately wait for more bytes: give it only a glance, so such
        # cases cost milliseconds; the health check after the case still catches a stuck server.
        # Malformed input must not get a success, which comes as fast as any answer: a short
        # wait; silence is allowed there (a server may wait for the rest of a broken request).
        wait = {"incomplete": INCOMPLETE_GLANCE, "malformed": MALFORMED_WAIT}.get(
            kind, self.answer_timeout
        )
        deadline = time.monotonic() + wait
        while True:
            try:
                conn.receive_data(bytes(ex.received))
                ex.received.clear()
                events = conn.events()
            except ProtocolError as exc:
                return Verdict("unframable-response", str(exc), "RTSP-MSG-FRAMING")
            for event in events:
                if isinstance(event, Violation) and self._is_must(event.requirement_id):
                    return Verdict("must-violation", event.detail, event.requirement_id)
                if isinstance(event, Response):
                    if kind == "malformed" and 200 <= event.status < 300:
                        return Verdict(
                            "malformed-accepted",
                            f"a malformed request was answered {event.status}",
                            "RTSP-BAD-REQUEST-400",
                        )
                    # In step only if the case was one whole request and nothing is left over.
                    in_step = kind == "request" and _single_message(payload)
                    return Verdict(None, answered=in_step)
            chunk = ex.read_some(deadline)
            if chunk == b"":
                if kind == "request":
                    return Verdict("closed-without-answer", "a complete request got no answer")
                return Verdict(None)
            if chunk is None:
                return Verdict(None)  # incomplete input may legitimately wait for more bytes

    def healthy(self, host: str, port: int, timeout: float, ex: Exchange | None = None) -> bool:
        """After each case a valid OPTIONS must still be answered.

        On the case's own connection when the case was fully answered there (it proves the
        same thing and saves a connect); otherwise, and every so often, on a fresh one.
        """
        options = f"OPTIONS {self.url} RTSP/1.0\r\nCSeq: 99\r\n\r\n".encode()
        if ex is not None and not ex.closed:
            return self.exchange(ex, options) is not None
        return Exchange.probe(
            host, port, timeout, lambda fresh: self.exchange(fresh, options) is not None
        )

    def _is_must(self, requirement_id: str) -> bool:
        return requirement_id in self.catalogue and self.catalogue[requirement_id].level == "MUST"


def _udp_transport() -> str:
    """A unicast UDP offer on a loopback port pair that was free a moment ago."""
    rtp, rtcp = bind_rtp_pair()
    port = rtp.getsockname()[1]
    rtp.close()
    rtcp.close()
    return f"RTP/AVP;unicast;client_port={port}-{port + 1}"


def _single_message(payload: bytes) -> bool:
    conn = RTSPConnection(Role.SERVER)
    conn.receive_data(payload)
    try:
        events = [e for e in conn.events() if isinstance(e, (Request, BadRequest))]
    except ProtocolError:
        return False
    return len(events) == 1 and not conn.has_pending_bytes()


def _classify(payload: bytes) -> str:
    """How our own core frames the case: request, malformed, or incomplete.

    A body longer than our parser's bound is legal syntax the server may wait for, so the case
    is framed without that bound: it is incomplete, not malformed.
    """
    conn = RTSPConnection(Role.SERVER, Limits(max_body=2**62))
    conn.receive_data(payload)
    try:
        for event in conn.events():
            if isinstance(event, BadRequest):
                return "malformed"
            if isinstance(event, Request):
                if event.version != "RTSP/1.0":
                    return "other-version"
                return "request"
    except ProtocolError:
        return "malformed"
    return "incomplete"


DRIVER = RtspFuzz
