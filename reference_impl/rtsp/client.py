"""The RTSP reference client: an asyncio adapter around RTSPConnection.

Suites use `RTSPClient` to talk to servers under test; the client suites use `run_session` as
the reference client under test (OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN).
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from collections.abc import Iterable
from types import TracebackType

from reference_impl.common import observe
from reference_impl.common.events import ConnectionClosed, Event, ProtocolError, Violation
from reference_impl.common.faults import FaultSet
from reference_impl.rtsp.connection import Role, RTSPConnection
from reference_impl.rtsp.faults import FAULTS
from reference_impl.rtsp.messages import InterleavedFrame, Request, Response

DEFAULT_TIMEOUT = 5.0
USER_AGENT = "streamconform-reference/0.1"
_RAW_CSEQ = re.compile(rb"(?im)^cseq:[ \t]*([0-9]{1,9})[ \t]*\r?$")


class ServerClosed(ConnectionError):
    """The server closed the connection before answering."""


class RTSPClient:
    """One RTSP connection to a server; every wait is bounded by `timeout` seconds."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        url: str,
        timeout: float,
        faults: FaultSet,
    ) -> None:
        self.reader, self.writer, self.url, self.timeout = reader, writer, url, timeout
        self.faults = faults
        self.conn = RTSPConnection(Role.CLIENT)
        self.violations: list[Violation] = []
        self.frames: list[InterleavedFrame] = []
        local = writer.get_extra_info("sockname")[:2]
        remote = writer.get_extra_info("peername")[:2]
        self.wire = observe.recorder("rtsp", "tcp", local, remote, "client")
        self._cseq = 0
        self._closed_by_peer = False
        self.user_agent = "" if "client_no_user_agent" in faults else USER_AGENT

    @classmethod
    async def connect(
        cls, url: str, timeout: float = DEFAULT_TIMEOUT, faults: Iterable[str] = ()
    ) -> RTSPClient:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 554
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        return cls(reader, writer, url, timeout, FaultSet(FAULTS, faults))

    async def __aenter__(self) -> RTSPClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def next_cseq(self) -> int:
        """The CSeq the next request will carry; raw requests in suites use it too."""
        return self._cseq + 1

    async def request(
        self,
        method: str,
        uri: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> Response:
        """Send a request (CSeq added) and return its response."""
        fields = list(headers)
        if (
            not any(k.lower() == "cseq" for k, _ in fields)
            and "client_omit_cseq" not in self.faults
        ):
            self._cseq = 1 if "client_repeat_cseq" in self.faults else self._cseq + 1
            fields.insert(0, ("CSeq", str(self._cseq)))
        if not any(k.lower() == "user-agent" for k, _ in fields) and self.user_agent:
            fields.append(("User-Agent", self.user_agent))
        if body:
            fields.append(("Content-Length", str(len(body))))
        data = self.conn.send(Request(method, uri or self.url, tuple(fields), body))
        return await self._exchange(data)

    async def send_raw(self, data: bytes) -> Response:
        """Send bytes as they are and return the next response (checked against their CSeq)."""
        found = _RAW_CSEQ.search(data)
        if found:
            self.conn.expect_response(int(found.group(1)))
        return await self._exchange(data)

    async def _exchange(self, data: bytes) -> Response:
        self.wire.sent(data)
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionResetError, BrokenPipeError):
            raise ServerClosed(
                "the server closed the connection before taking the request"
            ) from None
        return await self.next_response()

    async def next_response(self) -> Response:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            for event in self._drain_events():
                if isinstance(event, Response):
                    return event
                if isinstance(event, ConnectionClosed):
                    raise ServerClosed("the server closed the connection without a response")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no response within {self.timeout:g} s")
            try:
                data = await asyncio.wait_for(self.reader.read(65536), remaining)
            except ConnectionResetError:
                data = b""  # a reset is the server closing too, only less politely
            self.wire.received(data)
            if not data:
                self._closed_by_peer = True
            self.conn.receive_data(data)

    async def interleaved(self, channel: int, count: int, timeout: float) -> list[InterleavedFrame]:
        """Frames on `channel` (already received ones first) until `count` or the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._drain_events()
            found = [f for f in self.frames if f.channel == channel]
            remaining = deadline - loop.time()
            if len(found) >= count or remaining <= 0:
                return found
            try:
                data = await asyncio.wait_for(self.reader.read(65536), remaining)
            except TimeoutError:
                return found
            self.wire.received(data)
            if not data:
                self._closed_by_peer = True
                return found
            self.conn.receive_data(data)

    def _drain_events(self) -> list[Event]:
        events = self.conn.events()
        for event in events:
            if isinstance(event, Violation):
                self.violations.append(event)
                observe.report(event)
            elif isinstance(event, InterleavedFrame):
                self.frames.append(event)
        return events

    async def close(self) -> None:
        self.wire.closed(by_peer=self._closed_by_peer)
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), self.timeout)
        except (TimeoutError, ConnectionError):
            pass


async def run_session(
    url: str, faults: Iterable[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Play `url` the way a player does: OPTIONS, DESCRIBE, SETUP each track, PLAY, TEARDOWN."""
    async with await RTSPClient.connect(url, timeout, faults) as client:
        await client.request("OPTIONS", url)
        described = await client.request("DESCRIBE", url, [("Accept", "application/sdp")])
        base = described.header("Content-Base") or url.rstrip("/") + "/"
        controls = [
            line.split(":", 1)[1].strip()
            for line in described.body.decode("utf-8", "replace").splitlines()
            if line.startswith("a=control:") and line.strip() != "a=control:*"
        ]
        session = ""
        for channel, control in enumerate(controls):
            track = control if "://" in control else urllib.parse.urljoin(base, control)
            transport = f"RTP/AVP/TCP;unicast;interleaved={2 * channel}-{2 * channel + 1}"
            if "client_bad_transport" in client.faults:
                transport = "TCP interleaved 0 1"
            headers = [("Transport", transport)]
            if "client_setup_without_transport" in client.faults:
                headers = []
            if session:
                headers.append(("Session", session))
            reply = await client.request("SETUP", track, headers)
            if reply.status != 200:
                raise ProtocolError(f"SETUP {track} answered {reply.status}")
            session = (reply.header("Session") or "").split(";")[0]
        if "client_wrong_session" in client.faults:
            session = session[::-1]
        if "client_session_timeout_param" in client.faults:
            session += ";timeout=60"
        play_url = (
            urllib.parse.urlsplit(url).path if "client_relative_uri" in client.faults else url
        )
        await client.request("PLAY", play_url, [("Session", session), ("Range", "npt=0.000-")])
        if "client_no_teardown" not in client.faults:
            await client.request("TEARDOWN", url, [("Session", session)])
