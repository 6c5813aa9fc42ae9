"""The HTTP streaming reference server: h11 framing, asyncio I/O, one task per connection.

Routes (query parameters in brackets):
  GET  /events [channel, retry, close_after, count, stop_after, session, heartbeat (ms)]
                     Server-Sent Events, resumable by Last-Event-ID; 204 once a session
                     has had `stop_after` streams
  GET  /stream [channel, count]                        one chunk per event (HTTP/1.0: until close)
  GET  /poll [channel, since]                          short polling: the events after `since`, now
  GET  /longpoll [channel, since, timeout]             long polling: held until an event or timeout
  GET  /mjpeg [count]                                  multipart/x-mixed-replace JPEG frames
  GET  /chunky                                        SSE in chunks with extensions and a trailer
  GET  /tricky                                        one event stream of parsing traps, then 204s
  GET  /eventsource.html [src]                         a page whose EventSource shows what it got
  POST /publish [channel]                              the body becomes an event of the channel
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Callable, Iterable

import h11

from reference_impl.common import observe
from reference_impl.common.faults import FaultSet
from reference_impl.common.tcp_server import TcpReferenceServer
from reference_impl.http.faults import FAULTS
from reference_impl.http.hub import Channel, Hub, StreamEvent
from reference_impl.http.icy import format_block
from reference_impl.http.media import JPEG_FRAME, TRICKY_STREAM
from reference_impl.http.multipart import format_part
from reference_impl.http.pages import eventsource_page
from reference_impl.http.responder import Responder, read_request
from reference_impl.http.sse import format_comment, format_event

FRAME_INTERVAL = 0.1
LONGPOLL_DEFAULT = 10.0
LONGPOLL_MAX = 30.0
ICY_METAINT = 4096  # audio bytes between two metadata blocks on /radio
BUFFER_FLUSH = 1.0  # the http_buffer_events fault writes what it holds this often
HEARTBEAT_MS = 15000  # WHATWG §9.2.7 suggests a comment about every 15 seconds


class ReferenceServer(TcpReferenceServer["ReferenceServer"]):
    """Serves every route above on one loopback port; `faults` switch on deviations."""

    def __init__(
        self,
        faults: Iterable[str] = (),
        tick_interval: float = 0.1,
        stream_headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__()
        self.faults = FaultSet(FAULTS, faults)
        #: extra header fields of streamed responses (e.g. X-Accel-Buffering: no for nginx)
        self.stream_headers = list(stream_headers)
        self.hub = Hub(tick_interval)
        #: (loop time, request) of every request, for suites that observe a client
        self.requests: list[tuple[float, h11.Request]] = []
        #: (loop time, last event id sent) of each event stream broken off by `close_after`
        self.breaks: list[tuple[float, int]] = []
        #: event stream requests per `session` query value (stop_after counts these)
        self._event_streams: dict[str, int] = {}
        self._tricked: set[str] = set()
        #: requests refused as unparsable (answered 400)
        self.rejected = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self.hub.start()
        return await super().start(host, port)

    def url(self, host: str, port: int) -> str:
        return f"http://{host}:{port}/events"

    async def close(self) -> None:
        await super().close()
        await self.hub.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local, remote = writer.get_extra_info("sockname"), writer.get_extra_info("peername")
        wire = observe.recorder("http", "tcp", local[:2], remote[:2], "server")
        conn = h11.Connection(h11.SERVER)
        out = Responder(conn, writer, wire, self.faults)
        try:
            while True:
                got = await read_request(conn, reader, wire, out, self.faults)
                if got is None:
                    if conn.their_state is h11.ERROR:
                        self.rejected += 1  # bytes h11 could not take as a request
                        self._notify()
                    return
                request, body = got
                self.requests.append((asyncio.get_running_loop().time(), request))
                self._notify()
                await self._route(request, body, out)
                if conn.our_state is h11.MUST_CLOSE or out.closed:
                    return
                conn.start_next_cycle()
        except (ConnectionError, h11.LocalProtocolError, TimeoutError):
            return
        except asyncio.CancelledError:
            return  # the server is closing: end quietly (asyncio's callback reports otherwise)
        finally:
            wire.closed(by_peer=False)
            writer.close()

    async def _route(self, request: h11.Request, body: bytes, out: Responder) -> None:
        target = urllib.parse.urlsplit(request.target.decode("latin-1"))
        query = dict(urllib.parse.parse_qsl(target.query))
        method = request.method.decode("ascii")
        channel = self.hub.channel(query.get("channel"))
        if channel is None:
            await out.simple(404, b"no such channel; use channel=tick or channel=quiet\n")
            return
        route = (method if method != "HEAD" else "GET", target.path)
        if route == ("POST", "/publish"):
            await channel.publish(body.decode("utf-8", "replace"))
            await out.simple(204, b"")
        elif route == ("GET", "/events"):
            key = query.get("session", "")
            self._event_streams[key] = self._event_streams.get(key, 0) + 1
            if self._event_streams[key] > _int(query.get("stop_after"), 1 << 30):
                await out.simple(204, b"")  # WHATWG: 204 tells an EventSource to stop
            else:
                await self._events(request, query, channel, out)
        elif route == ("GET", "/chunky"):
            await self._chunky(query, out)
        elif route == ("GET", "/tricky"):
            if query.get("session", "") in self._tricked:
                await out.simple(204, b"")  # once is enough: the client must stop now
                return
            self._tricked.add(query.get("session", ""))
            headers = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
            await out.head(200, headers)
            await out.data(TRICKY_STREAM)
            await out.end()
        elif route == ("GET", "/stream"):
            await out.head(
                200, [("Content-Type", "text/plain; charset=utf-8"), *self.stream_headers]
            )
            if out.http10 and "http_http10_empty_body" in self.faults:
                out.abort()  # the fault: the close comes before any of the body
                return
            if "http_stream_one_event_each" in self.faults:
                query = {**query, "count": "1"}  # the fault: one event, then the end
            await self._pump(channel, channel.last_id, query, out, lambda e: f"{e.id} {e.data}\n")
        elif route == ("GET", "/poll"):
            if "http_poll_hold" in self.faults:
                await self._longpoll(query, channel, out)
            else:
                events = channel.after(_int(query.get("since"), channel.last_id))
                await out.json(_poll_body(events, channel.last_id))
        elif route == ("GET", "/longpoll"):
            await self._longpoll(query, channel, out)
        elif route == ("GET", "/radio"):
            await self._radio(request, query, out)
        elif route == ("GET", "/mjpeg"):
            await self._mjpeg(query, out)
        elif route == ("GET", "/eventsource.html"):
            page = eventsource_page(query.get("src", "/events"))
            await out.simple(200, page.encode(), "text/html; charset=utf-8")
        else:
            await out.simple(404, b"not found\n")

    async def _events(
        self, request: h11.Request, query: dict[str, str], channel: Channel, out: Responder
    ) -> None:
        headers = [
            (
                "Content-Type",
                "text/plain" if "http_sse_wrong_type" in self.faults else "text/event-stream",
            )
        ]
        if "http_sse_cacheable" not in self.faults:
            headers.append(("Cache-Control", "no-cache"))
        await out.head(200, headers + self.stream_headers)
        retry = str(_int(query.get("retry"), 1000))
        await out.data(
            f"retry: {'1.5s' if 'http_sse_bad_retry' in self.faults else retry}\n\n".encode()
        )
        # Header values are opaque bytes on the wire (RFC 9110 §5.5): latin-1 never fails.
        fields = ((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in request.headers)
        resume = dict(fields).get("last-event-id")
        start = channel.last_id
        if (
            resume is not None
            and resume.isascii()
            and resume.isdigit()
            and "http_sse_ignore_last_event_id" not in (self.faults)
        ):
            start = int(resume)

        def render(event: StreamEvent) -> str:
            event_id = None if "http_sse_no_ids" in self.faults else str(event.id)
            if event_id and "http_sse_nul_id" in self.faults:
                event_id += "\x00"
            data = event.data + (" café" if "http_sse_not_utf8" in self.faults else "")
            text = format_event(data, id=event_id).decode()
            return text[:-1] if "http_sse_no_blank_line" in self.faults else text

        heartbeat = _int(query.get("heartbeat"), HEARTBEAT_MS) / 1000
        await self._pump(channel, start, query, out, render, heartbeat)

    async def _pump(
        self,
        channel: Channel,
        start: int,
        query: dict[str, str],
        out: Responder,
        render: Callable[[StreamEvent], str],
        heartbeat: float | None = None,
    ) -> None:
        """Write each event of the channel after `start` the moment it is published; with
        `heartbeat`, a comment after that many seconds without an event."""
        count = _int(query.get("count"), 0) or _int(query.get("close_after"), 0)
        sent, last, held = 0, start, ""
        loop = asyncio.get_running_loop()
        flushed = loop.time()
        while not count or sent < count:
            events = await channel.wait_after(last, heartbeat or BUFFER_FLUSH)
            if not events and heartbeat and "http_sse_no_heartbeat" not in self.faults:
                held += format_comment("heartbeat").decode()  # keeps intermediaries from timing out
            for event in events[: (count - sent) if count else None]:
                held += render(event)
                last, sent = event.id, sent + 1
            if "http_buffer_events" in self.faults and loop.time() - flushed < BUFFER_FLUSH:
                continue  # the fault: hold events instead of writing them as they occur
            if held:
                await out.data(self._encode(held))
                held, flushed = "", loop.time()
        if held:
            await out.data(self._encode(held))
        if "close_after" in query:
            self.breaks.append((asyncio.get_running_loop().time(), last))
            self._notify()
            # The response ends (last chunk) and the connection closes: a client reconnects
            # either way, and no browser drops the final events as part of a broken body.
            await out.end()
            out.abort()
            return
        await out.end()

    async def _chunky(self, query: dict[str, str], out: Responder) -> None:
        """Three events in chunks with extensions, then a trailer; then 204s for the session."""
        key = query.get("session", "")
        if key in self._tricked:
            await out.simple(204, b"")
            return
        self._tricked.add(key)
        # h11 writes neither chunk extensions nor trailers: these bytes are ours (RFC 9112 §7.1).
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        body = b"".join(
            b"%x;streamconform=ext%d\r\n%s\r\n" % (len(e), n, e)
            for n, e in enumerate(format_event(f"chunk {n}", id=str(n + 1)) for n in range(3))
        )
        out.raw(head + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body)
        out.raw(b"0\r\nX-Streamconform-Trailer: yes\r\n\r\n")
        await out.drain()
        out.abort()

    def _encode(self, text: str) -> bytes:
        # The http_sse_not_utf8 fault: Latin-1 where WHATWG §9.2.5 says UTF-8.
        return text.encode("latin-1" if "http_sse_not_utf8" in self.faults else "utf-8")

    async def _longpoll(self, query: dict[str, str], channel: Channel, out: Responder) -> None:
        since = _int(query.get("since"), channel.last_id)
        timeout = min(float(_int(query.get("timeout"), int(LONGPOLL_DEFAULT))), LONGPOLL_MAX)
        if "http_longpoll_no_hold" in self.faults:
            timeout = 0.0
        elif "http_longpoll_hold_forever" in self.faults and not channel.after(since):
            timeout = LONGPOLL_MAX
        events = await channel.wait_after(since, timeout)
        if "http_longpoll_drop_missed" in self.faults:
            events = events[-1:]
        await out.json(_poll_body(events, channel.last_id))

    async def _radio(self, request: h11.Request, query: dict[str, str], out: Responder) -> None:
        """Synthetic MP3-typed audio, with ICY metadata (a title per tick) when asked for it."""
        asked = any(k.lower() == b"icy-metadata" and v.strip() == b"1" for k, v in request.headers)
        headers = [("Content-Type", "audio/mpeg"), ("Cache-Control", "no-cache")]
        if asked:
            headers.append(("icy-metaint", str(ICY_METAINT)))
        await out.head(200, headers + self.stream_headers)
        count = _int(query.get("count"), 0)
        ticks = self.hub.channels["tick"]
        last, sent = ticks.last_id, 0
        interval = ICY_METAINT - 100 if "http_icy_wrong_interval" in self.faults else ICY_METAINT
        while not count or sent < count:
            events = await ticks.wait_after(last, LONGPOLL_MAX)
            last = events[-1].id if events else last
            audio = bytes((last + i) & 0xFF for i in range(ICY_METAINT))
            block = format_block({"StreamTitle": f"streamconform tick {last}"}) if asked else b""
            await out.data(audio[:interval] + block + audio[interval:] if asked else audio)
            sent += 1
        await out.end()

    async def _mjpeg(self, query: dict[str, str], out: Responder) -> None:
        boundary = "streamconform-frame"
        if "http_multipart_bad_boundary" in self.faults:
            boundary = "streamconform-" + "x" * 61  # 75 characters: RFC 2046 allows 70
        content_type = "multipart/x-mixed-replace"
        if "http_multipart_no_boundary" not in self.faults:
            content_type += f";boundary={boundary}"
        headers = [("Content-Type", content_type), ("Cache-Control", "no-cache")]
        await out.head(200, headers + self.stream_headers)
        delimiter = "other-frame" if "http_multipart_wrong_delimiter" in self.faults else boundary
        count = _int(query.get("count"), 0)
        ticks = self.hub.channels["tick"]
        last, sent = ticks.last_id, 0
        held_parts: list[bytes] = []
        while not count or sent < count:
            events = await ticks.wait_after(last, LONGPOLL_MAX)
            last = events[-1].id if events else last
            part = format_part(JPEG_FRAME, "image/jpeg", delimiter)
            if "http_multipart_untyped_part" in self.faults:
                part = part.replace(b"Content-Type: image/jpeg\r\n", b"")
            if "http_multipart_wrong_length" in self.faults:
                part = part.replace(
                    f"Content-Length: {len(JPEG_FRAME)}".encode(),
                    f"Content-Length: {len(JPEG_FRAME) + 1}".encode(),
                )
            if "http_multipart_glued" in self.faults:
                part = part[:-2]  # the fault: no CRLF before the next delimiter
            sent += 1
            if "http_multipart_all_at_once" in self.faults:
                held_parts.append(part)  # the fault: nothing goes out until the last frame
                if count and sent < count:
                    continue
                part, held_parts = b"".join(held_parts), []
            await out.data(part)
        if "http_multipart_no_close" not in self.faults:
            await out.data(f"--{delimiter}--\r\n".encode())
        await out.end()


def _int(text: str | None, default: int) -> int:
    return (
        int(text)
        if text is not None and text.isascii() and text.isdigit() and len(text) < 12
        else default
    )


def _poll_body(events: list[StreamEvent], last_id: int) -> bytes:
    items = [{"id": e.id, "data": e.data} for e in events]
    return json.dumps({"events": items, "last": last_id}).encode()
