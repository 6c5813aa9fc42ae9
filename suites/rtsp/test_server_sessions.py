"""RTSP server: sessions and the server state machine (RFC 2326 §3.4, §11.3, Appendix A)."""

from __future__ import annotations

import socket
import time

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from harness.targets import ServerTarget
from harness.verdict import Conformance
from reference_impl.common.events import ProtocolError
from reference_impl.rtsp.client import RTSPClient
from reference_impl.rtsp.connection import Role, RTSPConnection
from reference_impl.rtsp.messages import Response
from reference_impl.rtsp.states import SERVER_TRANSITIONS, State
from suites.rtsp.playing import TCP_INTERLEAVED, setup_first_track_any

pytestmark = [pytest.mark.rtsp, pytest.mark.server]

TCP = TCP_INTERLEAVED


@pytest.mark.requirement("RTSP-SESSION-ID-LENGTH")
async def test_setup_creates_a_session_id_of_at_least_eight_octets(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """The Session header of a SETUP response names an identifier of eight octets or more."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        playing = await setup_first_track_any(client, rtsp_server.url)
        await client.request("TEARDOWN", rtsp_server.url, [("Session", playing.session)])
    conformance.expect(
        len(playing.session) >= 8,
        "RTSP-SESSION-ID-LENGTH",
        f"session identifier {playing.session!r} has {len(playing.session)} octets",
    )


@pytest.mark.requirement("RTSP-SESSION-UNKNOWN-454")
async def test_a_request_for_an_unknown_session_is_answered_454(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """PLAY naming a session that was never set up is answered 454 Session Not Found."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        reply = await client.request("PLAY", rtsp_server.url, [("Session", "streamconform0000")])
    conformance.expect(
        reply.status == 454,
        "RTSP-SESSION-UNKNOWN-454",
        f"PLAY for an unknown session answered {reply.status} {reply.reason}",
    )


@pytest.mark.requirement("RTSP-STATE-455")
async def test_pause_in_ready_state_is_answered_455(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """PAUSE of a session that is Ready (set up, never played) is answered 455 (Appendix A.2)."""
    async with await RTSPClient.connect(rtsp_server.url) as client:
        playing = await setup_first_track_any(client, rtsp_server.url)
        reply = await client.request("PAUSE", rtsp_server.url, [("Session", playing.session)])
        await client.request("TEARDOWN", rtsp_server.url, [("Session", playing.session)])
    conformance.expect(
        reply.status == 455,
        "RTSP-STATE-455",
        f"PAUSE in Ready answered {reply.status} {reply.reason}",
    )


class BlockingSession:
    """A blocking RTSP connection for the stateful test: one request, one response."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.conn = RTSPConnection(Role.CLIENT)
        self.cseq = 0

    def request(self, method: str, uri: str, headers: list[tuple[str, str]]) -> Response:
        self.cseq += 1
        head = f"{method} {uri} RTSP/1.0\r\nCSeq: {self.cseq}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        self.conn.expect_response(self.cseq)
        self.sock.sendall(head.encode())
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for event in self.conn.events():
                if isinstance(event, Response):
                    return event
            data = self.sock.recv(65536)
            if not data:
                raise ProtocolError(f"the server closed the connection after {method}")
            self.conn.receive_data(data)
        raise TimeoutError(f"no response to {method} within 5 s")

    def close(self) -> None:
        self.sock.close()


@pytest.mark.requirement("RTSP-STATE-TABLE")
def test_random_method_sequences_follow_the_server_state_table(
    rtsp_server: ServerTarget, conformance: Conformance
) -> None:
    """Any order of SETUP, PLAY, PAUSE and TEARDOWN moves the session as Appendix A.2 says."""
    target = rtsp_server
    deviations: list[str] = []

    class ServerStates(RuleBasedStateMachine):
        """Our model of the session beside the server's answers."""

        @initialize()
        def connect(self) -> None:
            self.wire = BlockingSession(target.host, target.port)
            self.state, self.session, self.track = State.INIT, "", ""

        def teardown(self) -> None:
            if getattr(self, "wire", None) is not None:
                if self.session:
                    self.wire.request("TEARDOWN", target.url, [("Session", self.session)])
                self.wire.close()

        @rule()
        def setup(self) -> None:
            if not self.track:
                described = self.wire.request(
                    "DESCRIBE", target.url, [("Accept", "application/sdp")]
                )
                base = described.header("Content-Base") or target.url + "/"
                control = next(
                    (
                        ln.split(":", 1)[1].strip()
                        for ln in described.body.decode(errors="replace").splitlines()
                        if ln.startswith("a=control:") and ln.strip() != "a=control:*"
                    ),
                    "",
                )
                self.track = control if "://" in control else base.rstrip("/") + "/" + control
            headers = [("Transport", TCP)] + ([("Session", self.session)] if self.session else [])
            self.apply("SETUP", self.wire.request("SETUP", self.track, headers))

        @rule(method=st.sampled_from(["PLAY", "PAUSE", "TEARDOWN"]))
        def session_method(self, method: str) -> None:
            if not self.session:
                return  # without a session there is no state to check
            self.apply(method, self.wire.request(method, target.url, [("Session", self.session)]))

        def apply(self, method: str, reply: Response) -> None:
            expected = SERVER_TRANSITIONS.get((self.state, method))
            if expected is None:
                if reply.status == 200:
                    deviations.append(
                        f"{method} in {self.state.value} answered 200 (table: not allowed)"
                    )
                return
            if reply.status != 200:
                deviations.append(
                    f"{method} in {self.state.value} answered {reply.status} (table: allowed)"
                )
                return
            if method == "SETUP" and not self.session:
                self.session = (reply.header("Session") or "").split(";")[0].strip()
            self.state = expected
            if method == "TEARDOWN":
                self.session, self.state = "", State.INIT

        @invariant()
        def no_deviation_yet(self) -> None:
            assert not deviations, deviations[0]

    try:
        run_state_machine_as_test(
            ServerStates,
            settings=settings(
                max_examples=30,
                stateful_step_count=12,
                deadline=None,
                database=None,
                derandomize=True,  # the same walks on every run, so verdicts are comparable
                suppress_health_check=list(HealthCheck),
            ),
        )
    except (AssertionError, HypothesisException):
        # The first deviation is recorded below. A server whose answers change between
        # replays makes hypothesis report flakiness: that is the deviation's doing too.
        pass
    conformance.expect(not deviations, "RTSP-STATE-TABLE", deviations[0] if deviations else "")
