"""RTMP server: random sequences of NetConnection and NetStream commands against a model.

hypothesis drives one connection through createStream, publish, play, deleteStream and unknown
commands in any order; after each step the server's answers are checked against what RTMP 1.0
§7.2 says they must be: the same transaction ID back, a stream ID from createStream, and
NetStream.Publish.Start for a name nobody publishes.
"""

from __future__ import annotations

import os
import secrets
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

from harness.verdict import Conformance
from reference_impl.common.events import Event, NeedData, ProtocolError
from reference_impl.rtmp.client import RTMPURL
from reference_impl.rtmp.connection import Role, RTMPConnection
from reference_impl.rtmp.messages import Command
from suites.rtmp.conftest import RtmpTarget

pytestmark = [pytest.mark.rtmp, pytest.mark.server]

STEP_TIMEOUT = 5.0


class BlockingSession:
    """One RTMP connection with a blocking socket: hypothesis rules are synchronous."""

    def __init__(self, url: str) -> None:
        self.where = RTMPURL.parse(url)
        self.sock = socket.create_connection((self.where.host, self.where.port), STEP_TIMEOUT)
        self.conn = RTMPConnection(Role.CLIENT, random=os.urandom(3072))
        self.sock.sendall(self.conn.initial_data())
        self.until(lambda e: self.conn.handshake is not None)
        self.sock.sendall(self.conn.data_to_send())
        self.tid = 1.0
        self.sent: set[float] = {1.0}

    def until(self, want: object) -> Event:
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            event = self.conn.next_event()
            if isinstance(event, NeedData):
                out = self.conn.data_to_send()
                if out:
                    self.sock.sendall(out)
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                data = self.sock.recv(65536)
                if not data:
                    raise ProtocolError("the server closed the connection")
                self.conn.receive_data(data)
            elif want(event):  # type: ignore[operator]
                return event

    def send_call(self, name: str, *args: object) -> float:
        self.tid += 1
        self.sent.add(self.tid)
        self.sock.sendall(self.conn.send(Command(name, self.tid, None, args)))
        return self.tid

    def call(self, name: str, *args: object) -> Command:
        """The answer to this call, or the first answer carrying an ID we never sent."""
        tid = self.send_call(name, *args)
        found = self.until(
            lambda e: (
                isinstance(e, Command)
                and e.name in ("_result", "_error")
                and (e.transaction_id == tid or e.transaction_id not in self.sent)
            )
        )
        assert isinstance(found, Command)
        return found

    def stream_command(self, name: str, *args: object, stream_id: int) -> Command | None:
        """The onStatus the command gets; None if none came within the step's time."""
        self.sock.sendall(self.conn.send(Command(name, 0.0, None, args, stream_id)))
        try:
            found = self.until(lambda e: isinstance(e, Command) and e.name == "onStatus")
        except TimeoutError:
            return None
        assert isinstance(found, Command)
        return found


@pytest.mark.requirement(
    "RTMP-CMD-TRANSACTION-ID", "RTMP-CMD-CREATESTREAM-RESULT", "RTMP-CMD-PUBLISH-START"
)
def test_random_command_sequences_get_the_answers_rtmp_prescribes(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """Any order of createStream, publish, play, deleteStream and unknown calls is answered
    as §7.2 says."""
    deviations: list[tuple[str, str]] = []
    url = rtmp_target.url

    class CommandFlow(RuleBasedStateMachine):
        """The streams this connection made, and what each does."""

        @initialize()
        def connect(self) -> None:
            self.wire = BlockingSession(url)
            where = self.wire.where
            self.wire.sock.sendall(
                self.wire.conn.send(
                    Command("connect", 1.0, {"app": where.app, "tcUrl": where.tc_url})
                )
            )
            self.wire.until(lambda e: isinstance(e, Command) and e.name in ("_result", "_error"))
            self.idle: list[int] = []

        def teardown(self) -> None:
            if getattr(self, "wire", None) is not None:
                self.wire.sock.close()

        @rule()
        def create_stream(self) -> None:
            answer = self.wire.call("createStream")
            if answer.transaction_id != self.wire.tid:
                deviations.append(
                    (
                        "RTMP-CMD-TRANSACTION-ID",
                        f"createStream {self.wire.tid:g} answered as {answer.transaction_id:g}",
                    )
                )
            value = answer.args[0] if answer.args else None
            if answer.name != "_result" or not isinstance(value, float):
                deviations.append(
                    ("RTMP-CMD-CREATESTREAM-RESULT", f"createStream got {answer.name} {value!r}")
                )
                return
            self.idle.append(int(value))

        @rule()
        def publish(self) -> None:
            if not self.idle:
                return
            stream_id = self.idle.pop()
            name = f"flow-{secrets.token_hex(4)}"  # nobody publishes it yet
            status = self.wire.stream_command("publish", name, "live", stream_id=stream_id)
            info = status.info() if status is not None else "no onStatus"
            if status is None or status.info().get("code") != "NetStream.Publish.Start":
                deviations.append(("RTMP-CMD-PUBLISH-START", f"publish of a fresh name got {info}"))

        @rule(name=st.sampled_from(["noSuchCall", "getStreamLength", "FCSubscribe"]))
        def other_call(self, name: str) -> None:
            # Servers may answer these or not: no waiting, but a late answer must carry its ID.
            self.wire.send_call(name, "x")

        @invariant()
        def no_deviation_yet(self) -> None:
            assert not deviations, deviations[0]

    try:
        run_state_machine_as_test(
            CommandFlow,
            settings=settings(
                max_examples=15,
                stateful_step_count=8,
                deadline=None,
                database=None,
                derandomize=True,  # the same walks on every run, so verdicts are comparable
                suppress_health_check=list(HealthCheck),
            ),
        )
    except (AssertionError, HypothesisException, OSError, ProtocolError):
        pass  # the first deviation (or the broken connection) is what the verdict says
    rid, detail = deviations[0] if deviations else ("RTMP-CMD-TRANSACTION-ID", "")
    conformance.expect(not deviations, rid, detail)
