"""Blocking, bounded socket exchanges for the fuzzer: every wait has a deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from harness.evidence import ConnectionRecorder
from reference_impl.common.events import Event, NeedData, ProtocolError


@dataclass
class Exchange:
    """One TCP connection to the target, recorded."""

    sock: socket.socket
    recorder: ConnectionRecorder | None = None
    received: bytearray = field(default_factory=bytearray)
    closed: bool = False

    @classmethod
    def open(
        cls, host: str, port: int, timeout: float, recorder_factory: object = None
    ) -> Exchange:
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        recorder = None
        if recorder_factory is not None:
            local, remote = sock.getsockname()[:2], sock.getpeername()[:2]
            recorder = recorder_factory(local, remote)  # type: ignore[operator]
        return cls(sock, recorder)

    def send(self, data: bytes) -> bool:
        """Send all bytes; False if the target closed or reset the connection meanwhile."""
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True
            return False
        if self.recorder:
            self.recorder.sent(data)
        return True

    def read_some(self, deadline: float) -> bytes | None:
        """Bytes that arrived before the deadline: b"" on close, None on timeout."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return None
        except OSError:
            data = b""
        if not data:
            self.closed = True
            if self.recorder:
                self.recorder.closed(by_peer=True)
        else:
            self.received += data
            if self.recorder:
                self.recorder.received(data)
        return data

    def feed(self, conn: EventSource, deadline: float) -> bool:
        """Hand what arrives before the deadline to `conn`; False on close or timeout."""
        chunk = self.read_some(deadline)
        if not chunk:
            return False
        self.received.clear()
        conn.receive_data(chunk)
        return True

    @classmethod
    def probe(cls, host: str, port: int, timeout: float, check: Callable[[Exchange], bool]) -> bool:
        """`check` on a fresh connection, closed after; False if it cannot even connect."""
        try:
            fresh = cls.open(host, port, timeout)
        except OSError:
            return False
        try:
            return check(fresh)
        finally:
            fresh.close()

    def close(self) -> None:
        if self.recorder and not self.closed:
            self.recorder.closed(by_peer=False)
        try:
            self.sock.close()
        except OSError:
            pass


class EventSource(Protocol):
    """A sans-IO core as the drivers use it: bytes in, events out."""

    def receive_data(self, data: bytes) -> None: ...

    def next_event(self) -> Event: ...


def read_until(
    ex: Exchange, conn: EventSource, want: Callable[[Event], bool], timeout: float
) -> Event | None:
    """Feed what arrives to `conn` until an event satisfies `want`; None on close, deadline or
    input the core cannot frame."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            event = conn.next_event()
        except ProtocolError:
            return None
        if isinstance(event, NeedData):
            if not ex.feed(conn, deadline):
                return None
        elif want(event):
            return event
