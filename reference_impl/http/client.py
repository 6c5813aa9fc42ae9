"""The HTTP streaming reference client: a response reader with arrival times, and EventSource.

`Stream` sends one request (through h11, or raw bytes for HTTP/1.0 or a fault) and yields the
body as it arrives, each piece stamped with the loop's clock, so suites can time events.
`run_session` behaves like a browser's EventSource: Accept: text/event-stream, reconnection
after the retry time with Last-Event-ID, and no reconnection after a 204.
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

import h11

from reference_impl.common import observe
from reference_impl.common.events import Event, ProtocolError, Violation
from reference_impl.common.faults import FaultSet
from reference_impl.http.connection import BodyData, ResponseEnd, ResponseHead, ResponseReader
from reference_impl.http.faults import FAULTS
from reference_impl.http.sse import MessageEvent, RetryChanged, SSEParser

DEFAULT_TIMEOUT = 5.0
USER_AGENT = "streamconform/0.1"


class StreamClosed(ConnectionError):
    """The server closed before the response head arrived."""


class NoResponse(TimeoutError):
    """No response head arrived within the timeout (held back, e.g. by a buffering proxy)."""


@dataclass
class Arrival:
    """An event of the response and when it arrived (the loop's clock, seconds)."""

    event: Event
    at: float


@dataclass
class Stream:
    """One request on its own connection and the response as it streams in."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    response: ResponseReader
    wire: observe.WireRecorder
    timeout: float
    violations: list[Violation] = field(default_factory=list)
    faults: FaultSet | None = None
    _queue: list[Arrival] = field(default_factory=list)
    head: ResponseHead | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        method: str = "GET",
        body: bytes = b"",
        http10: bool = False,
        raw: bytes | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        faults: FaultSet | None = None,
    ) -> Stream:
        """Connect, send the request, and wait for the response head."""
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        local, remote = writer.get_extra_info("sockname"), writer.get_extra_info("peername")
        wire = observe.recorder("http", "tcp", local[:2], remote[:2], "client")
        stream = cls(reader, writer, ResponseReader(method, http10), wire, timeout, faults=faults)
        if raw is None:
            fields = [("Host", f"{host}:{port}"), ("User-Agent", USER_AGENT), *headers]
            if body:
                fields.append(("Content-Length", str(len(body))))
            if http10:
                lines = "".join(f"{k}: {v}\r\n" for k, v in fields)
                raw = f"{method} {target} HTTP/1.0\r\n{lines}\r\n".encode("latin-1") + body
            elif faults and "http_client_bad_request_line" in faults:
                lines = "".join(f"{k}: {v}\r\n" for k, v in fields)
                raw = f"{method}  {target} HTTP/1.1\r\n{lines}\r\n".encode("latin-1")
            else:
                conn = h11.Connection(h11.CLIENT)
                raw = conn.send(h11.Request(method=method, target=target, headers=fields)) or b""
                raw += (conn.send(h11.Data(data=body)) or b"") if body else b""
                raw += conn.send(h11.EndOfMessage()) or b""
        wire.sent(raw)
        writer.write(raw)
        await writer.drain()
        stream.head = await stream._wait_head()
        return stream

    async def __aenter__(self) -> Stream:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _wait_head(self) -> ResponseHead:
        while True:
            for arrival in self._queue:
                if isinstance(arrival.event, ResponseHead):
                    self._queue.remove(arrival)
                    return arrival.event
            if not await self._read(self.timeout):
                if self.response.ended:
                    raise StreamClosed("the server closed the connection before a response")
                raise NoResponse(f"no response within {self.timeout:g} s")

    async def next(self, timeout: float | None = None) -> Arrival | None:
        """The next BodyData or ResponseEnd, or None if nothing arrived within `timeout`."""
        while not self._queue:
            if self.response.ended:
                return None
            if not await self._read(self.timeout if timeout is None else timeout):
                if not self._queue:
                    return None
        return self._queue.pop(0)

    async def body(self, timeout: float | None = None) -> tuple[bytes, bool]:
        """Everything until the end of the body: (bytes, complete); bounded by `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        data = bytearray()
        while True:
            arrival = await self.next(max(0.0, deadline - loop.time()))
            if arrival is None:
                return bytes(data), False
            if isinstance(arrival.event, BodyData):
                data += arrival.event.data
            elif isinstance(arrival.event, ResponseEnd):
                return bytes(data), arrival.event.complete

    async def _read(self, timeout: float) -> bool:
        """Read once; False on timeout or when the response already ended."""
        if self.response.ended:
            return False
        try:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
        except TimeoutError:
            return False
        except ConnectionError:
            data = b""
        at = asyncio.get_running_loop().time()
        self.wire.received(data)
        if self.faults and _fatal(self.faults, data):
            data = b""  # the fault: the client takes what it does not expect as the end
        try:
            self.response.receive_data(data)
        except ProtocolError as exc:
            violation = Violation(exc.requirement_id or "HTTP-MESSAGE-FRAMING", str(exc))
            self._note(violation)
            self._queue.append(Arrival(ResponseEnd(False), at))
            self.response.ended = True
            return True
        for event in self.response.events():
            if isinstance(event, Violation):
                self._note(event)
            else:
                self._queue.append(Arrival(event, at))
        return True

    def _note(self, violation: Violation) -> None:
        self.violations.append(violation)
        observe.report(violation)

    async def close(self) -> None:
        self.wire.closed(by_peer=self.response.ended)
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        except (TimeoutError, ConnectionError):
            pass


async def read_events(
    stream: Stream, count: int, timeout: float
) -> list[tuple[MessageEvent, float]]:
    """Up to `count` SSE message events from the stream, with arrival times, within `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    parser = SSEParser()
    got: list[tuple[MessageEvent, float]] = []
    while len(got) < count:
        arrival = await stream.next(max(0.0, deadline - loop.time()))
        if arrival is None or isinstance(arrival.event, ResponseEnd):
            break
        if isinstance(arrival.event, BodyData):
            parser.receive_data(arrival.event.data)
            got.extend((e, arrival.at) for e in parser.events() if isinstance(e, MessageEvent))
    return got[:count]


async def run_session(
    url: str,
    faults: Iterable[str] = (),
    max_connections: int = 6,
    deadline: float = 20.0,
) -> list[MessageEvent]:
    """Be an EventSource on `url` until the server answers 204, or the bounds run out."""
    fault = FaultSet(FAULTS, faults)
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    received: list[MessageEvent] = []
    last_id, retry_ms = "", 1000
    for _ in range(max_connections):
        headers = [] if "http_client_no_cache_control" in fault else [("Cache-Control", "no-cache")]
        if "http_client_no_accept" not in fault:
            headers.insert(0, ("Accept", "text/event-stream"))
        if last_id and "http_client_no_last_event_id" not in fault:
            headers.append(("Last-Event-ID", last_id))
        raw = _without_host(url, headers) if "http_client_no_host" in fault else None
        try:
            stream = await Stream.open(
                url, headers, raw=raw, timeout=max(0.1, end - loop.time()), faults=fault
            )
        except (OSError, StreamClosed, TimeoutError):
            stream = None
        if stream is not None:
            async with stream:
                head = stream.head
                assert head is not None
                if head.status == 204 and "http_client_ignore_204" not in fault:
                    return received  # WHATWG: a 204 tells the client to stop reconnecting
                if head.status == 200:
                    parser = FaultyParser(fault) if fault else SSEParser()
                    parser.last_event_id = last_id
                    while (arrival := await stream.next(max(0.0, end - loop.time()))) is not None:
                        if isinstance(arrival.event, ResponseEnd):
                            break
                        if isinstance(arrival.event, BodyData):
                            parser.receive_data(arrival.event.data)
                        for event in parser.events():
                            if isinstance(event, MessageEvent):
                                received.append(event)
                            elif isinstance(event, RetryChanged):
                                retry_ms = event.milliseconds
                    parser.receive_data(b"")  # the end: an event not yet ended is discarded
                    received.extend(e for e in parser.events() if isinstance(e, MessageEvent))
                    last_id = parser.last_event_id
        if loop.time() >= end or "http_client_no_reconnect" in fault:
            break
        if "http_client_ignore_retry" not in fault:
            # WHATWG §9.2.3 "reestablish the connection": wait the reconnection time first.
            await asyncio.sleep(min(retry_ms / 1000, max(0.0, end - loop.time())))
    return received


def _without_host(url: str, headers: list[tuple[str, str]]) -> bytes:
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return f"GET {target} HTTP/1.1\r\n{lines}\r\n".encode("latin-1")


class FaultyParser(SSEParser):
    """The reference client's parser with its named parsing faults switched on."""

    def __init__(self, faults: FaultSet) -> None:
        super().__init__()
        self.faults = faults

    def receive_data(self, data: bytes) -> None:
        if "http_client_keep_bom" in self.faults and self._first and data[:3] == b"\xef\xbb\xbf":
            data = b"\xef\xbb\xbf" + data  # one BOM stripped, the other kept as text
        if "http_client_cr_not_line_end" in self.faults:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"")
        if not data and "http_client_incomplete_dispatched" in self.faults:
            self._split_lines()
            if self._text:
                self._line(self._text)
                self._text = ""
            self._dispatch()
        super().receive_data(data)

    def _field(self, name: str, value: str) -> None:
        if name == "id" and "http_client_nul_id_kept" in self.faults:
            self.last_event_id = value
        elif name not in ("event", "data", "id", "retry") and (
            "http_client_unknown_as_data" in self.faults
        ):
            super()._field("data", value)
        else:
            super()._field(name, value)

    def _dispatch(self) -> None:
        if not self._data and "http_client_empty_dispatched" in self.faults:
            self._data = [""]
        if "http_client_data_unjoined" in self.faults and len(self._data) > 1:
            self._data = ["".join(self._data)]
        if "http_client_type_ignored" in self.faults:
            self._type = ""
        super()._dispatch()


def _fatal(faults: FaultSet, data: bytes) -> bool:
    """What the chunk-handling faults of the reference client choke on."""
    if "http_client_chunk_extension_fatal" in faults and re.search(rb"\n[0-9a-fA-F]+;", data):
        return True
    return "http_client_trailer_fatal" in faults and re.search(rb"\n0\r\n[^\r]", data) is not None
