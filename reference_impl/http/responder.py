"""Reading a request and writing a streamed response over one h11 server connection.

h11 frames everything the conformant server sends (chunked for HTTP/1.1, close-delimited for
HTTP/1.0, nothing after HEAD). A few faults need framing h11 refuses to produce; only those
write their own bytes, and each says which rule it breaks.
"""

from __future__ import annotations

import asyncio

import h11

from reference_impl.common import observe
from reference_impl.common.faults import FaultSet

MAX_REQUEST_BODY = 64 * 1024
READ_TIMEOUT = 30.0


async def read_request(
    conn: h11.Connection,
    reader: asyncio.StreamReader,
    wire: observe.WireRecorder,
    out: Responder,
    faults: FaultSet,
) -> tuple[h11.Request, bytes] | None:
    """The next request and its body; None when the client closed or sent something unframable."""
    request: h11.Request | None = None
    body = bytearray()
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            if "http_no_host_200" in faults and "Host" in str(exc):
                out.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            else:
                out.error(exc.error_status_hint, str(exc))
            await out.drain()
            return None
        if event is h11.NEED_DATA:
            try:
                data = await asyncio.wait_for(reader.read(65536), READ_TIMEOUT)
            except ConnectionError:
                data = b""
            wire.received(data)
            conn.receive_data(data)
            continue
        if isinstance(event, h11.Request):
            request = event
            out.begin(event)
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_REQUEST_BODY:
                out.error(413, "request body too large")
                await out.drain()
                return None
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        else:  # ConnectionClosed or PAUSED: nothing more to answer
            return None


class Responder:
    """Writes one response at a time: head, data as it comes, end."""

    def __init__(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        wire: observe.WireRecorder,
        faults: FaultSet,
    ) -> None:
        self.conn, self.writer, self.wire, self.faults = conn, writer, wire, faults
        self.closed = False
        self._raw_chunked = False
        self._head_only = False
        self._http10 = False
        self._streamed = False

    @property
    def http10(self) -> bool:
        return self._http10

    def begin(self, request: h11.Request) -> None:
        self._head_only = request.method == b"HEAD"
        self._http10 = request.http_version == b"1.0"
        self._raw_chunked = False

    def raw(self, data: bytes) -> None:
        self.wire.sent(data)
        self.writer.write(data)

    async def drain(self) -> None:
        await asyncio.wait_for(self.writer.drain(), READ_TIMEOUT)

    def error(self, status: int, detail: str) -> None:
        body = f"{detail}\n".encode()
        try:
            self.raw(self.conn.send(h11.Response(status_code=status, headers=_plain(body))) or b"")
            self.raw(
                (self.conn.send(h11.Data(data=body)) or b"")
                + (self.conn.send(h11.EndOfMessage()) or b"")
            )
        except h11.LocalProtocolError:
            self.raw(
                b"HTTP/1.1 %d Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n" % status
            )
        self.closed = True

    async def head(self, status: int, headers: list[tuple[str, str]]) -> None:
        self._streamed = not any(k.lower() == "content-length" for k, _ in headers)
        if self._http10 and "http_chunked_to_http10" in self.faults:
            # The fault: RFC 9112 §6.1 forbids chunked coding towards an HTTP/1.0 recipient.
            self._raw_chunked = True
            lines = "".join(f"{k}: {v}\r\n" for k, v in headers)
            self.raw(f"HTTP/1.1 {status} OK\r\n{lines}Transfer-Encoding: chunked\r\n\r\n".encode())
            self.conn.send(h11.Response(status_code=status, headers=headers))
        elif self._head_only and "http_head_with_body" in self.faults:
            self.raw(self.conn.send(h11.Response(status_code=status, headers=headers)) or b"")
            self.raw(b"a body after HEAD\n")  # the fault: RFC 9110 §9.3.2 says no content
        else:
            head = self.conn.send(h11.Response(status_code=status, headers=headers)) or b""
            if "http_bad_status_line" in self.faults:
                head = head.replace(b" %d " % status, b" %d0 " % status, 1)  # 2000: four digits
            if self._streamed and b"transfer-encoding: chunked" in head.lower():
                if "http_length_and_chunked" in self.faults:
                    # The fault: RFC 9112 §6.1 forbids Content-Length beside Transfer-Encoding.
                    head = head[:-2] + b"Content-Length: 100\r\n\r\n"
            self.raw(head)
        await self.drain()

    async def data(self, data: bytes) -> None:
        if not data or self._head_only:
            return
        if self._raw_chunked:
            self.raw(b"%x\r\n%s\r\n" % (len(data), data))
        elif self._streamed and "http_bad_chunk_size" in self.faults and not self._http10:
            self.raw(b"%xg\r\n%s\r\n" % (len(data), data))  # the fault: a size that is not hex
        else:
            self.raw(self.conn.send(h11.Data(data=data)) or b"")
        await self.drain()

    async def end(self) -> None:
        if self._streamed and "http_no_last_chunk" in self.faults:
            self.abort()  # the fault: the body just stops, no last chunk (RFC 9112 §7.1)
            return
        if self._raw_chunked:
            self.raw(b"0\r\n\r\n")
            self.closed = True
        else:
            self.raw(self.conn.send(h11.EndOfMessage()) or b"")
        await self.drain()

    def abort(self) -> None:
        """Close without finishing the response."""
        self.closed = True
        self.writer.close()

    async def simple(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        await self.head(status, headers if status != 204 else [])
        await self.data(body)
        await self.end()

    async def json(self, body: bytes) -> None:
        await self.simple(200, body, "application/json")


def _plain(body: bytes) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "text/plain"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
