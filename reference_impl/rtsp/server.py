"""The RTSP reference server: `ServerLogic` decides (no I/O), `ReferenceServer` owns sockets.

This slice answers OPTIONS, DESCRIBE, SETUP (interleaved TCP), PLAY, PAUSE, GET_PARAMETER and
TEARDOWN with the session state table of Appendix A; it does not send media yet.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from reference_impl.common import observe
from reference_impl.common.events import ProtocolError, Violation
from reference_impl.common.faults import FaultSet
from reference_impl.rtsp.connection import Role, RTSPConnection
from reference_impl.rtsp.faults import FAULTS
from reference_impl.rtsp.messages import RTSP_VERSION, BadRequest, Request, Response
from reference_impl.rtsp.states import SERVER_TRANSITIONS, State, allowed_in

PUBLIC_METHODS = ("OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER")
SESSION_TIMEOUT = 60
IDLE_TIMEOUT = 120.0


@dataclass
class Session:
    """One RTSP session (RFC 2326 §3.4): its state and the last time the client showed life."""

    id: str
    state: State = State.INIT
    transports: dict[str, str] = field(default_factory=dict)
    last_seen: float = 0.0


class ServerLogic:
    """Request in, response out; `now` is passed in. Shared by every connection of a server."""

    def __init__(self, faults: FaultSet, base_url: str) -> None:
        self.faults = faults
        self.base_url = base_url.rstrip("/")
        self.sessions: dict[str, Session] = {}

    def respond(self, event: Request | BadRequest, now: float) -> Response:
        if isinstance(event, BadRequest):
            if "accept_malformed" in self.faults:
                return self._reply(event.headers, 200)
            return self._reply(event.headers, 400)
        request = event
        if request.version != RTSP_VERSION and "accept_any_version" not in self.faults:
            return self._reply(request.headers, 505)
        handler = self._handlers().get(request.method)
        if handler is None:
            status = 400 if "unknown_method_400" in self.faults else 501
            return self._reply(request.headers, status, [("Public", ", ".join(PUBLIC_METHODS))])
        return handler(request, now)

    def _handlers(self) -> dict[str, Callable[[Request, float], Response]]:
        return {
            "OPTIONS": self._options,
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._session_method,
            "PAUSE": self._session_method,
            "TEARDOWN": self._session_method,
            "GET_PARAMETER": self._get_parameter,
        }

    def _reply(
        self,
        request_headers: Iterable[tuple[str, str]],
        status: int,
        extra: list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> Response:
        headers: list[tuple[str, str]] = []
        cseq = next((v for k, v in request_headers if k.lower() == "cseq"), None)
        if cseq is not None and "omit_cseq" not in self.faults:
            if "wrong_cseq" in self.faults and cseq.isdigit():
                cseq = str(int(cseq) + 1)
            headers.append(("CSeq", cseq))
        headers.append(("Server", "streamconform-reference/0.1"))
        headers.extend(extra or [])
        if body:
            headers.append(("Content-Length", str(len(body))))
        version = "RTSP/1.1" if "wrong_version" in self.faults else RTSP_VERSION
        return Response(status, tuple(headers), body, version=version)

    def _options(self, request: Request, now: float) -> Response:
        # RFC 2326 §10.1 and Appendix D.2: OPTIONS lists the methods the server supports.
        methods = [
            m
            for m in PUBLIC_METHODS
            if not (m == "SETUP" and "public_without_setup" in self.faults)
        ]
        extra = [] if "no_public" in self.faults else [("Public", ", ".join(methods))]
        self._touch(request, now)
        return self._reply(request.headers, 200, extra)

    def _describe(self, request: Request, now: float) -> Response:
        sdp = (
            b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=streamconform reference\r\n"
            b"c=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n"
            b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
            b"a=fmtp:96 packetization-mode=1\r\na=control:trackID=0\r\n"
        )
        extra = [("Content-Base", self.base_url + "/"), ("Content-Type", "application/sdp")]
        return self._reply(request.headers, 200, extra, sdp)

    def _setup(self, request: Request, now: float) -> Response:
        transport = request.header("Transport") or ""
        tcp = "RTP/AVP/TCP" in transport and "interleaved=" in transport
        if not tcp or "setup_always_461" in self.faults:
            # This slice serves interleaved TCP only (RFC 2326 §12.39, 461 per §11.3.9).
            return self._reply(request.headers, 461)
        session = self._session_of(request)
        if request.header("Session") and session is None:
            return self._reply(request.headers, 454)
        if session is None:
            session = Session(secrets.token_hex(8), last_seen=now)
            self.sessions[session.id] = session
        session.state = SERVER_TRANSITIONS[(session.state, "SETUP")]
        session.transports[request.uri] = transport
        session.last_seen = now
        extra = [
            ("Session", f"{session.id};timeout={SESSION_TIMEOUT}"),
            ("Transport", transport),
        ]
        return self._reply(request.headers, 200, extra)

    def _session_method(self, request: Request, now: float) -> Response:
        session = self._session_of(request)
        if session is None:
            return self._reply(request.headers, 454)
        next_state = SERVER_TRANSITIONS.get((session.state, request.method))
        if next_state is None:
            allow = ", ".join(allowed_in(session.state))
            return self._reply(request.headers, 455, [("Allow", allow)])
        session.state = next_state
        session.last_seen = now
        extra = [("Session", session.id)]
        if request.method == "PLAY":
            extra += [
                ("Range", "npt=0.000-"),
                ("RTP-Info", f"url={self.base_url}/trackID=0;seq=0;rtptime=0"),
            ]
        if request.method == "TEARDOWN":
            del self.sessions[session.id]
        return self._reply(request.headers, 200, extra)

    def _get_parameter(self, request: Request, now: float) -> Response:
        self._touch(request, now)  # RFC 2326 §10.8: an empty GET_PARAMETER keeps a session alive
        return self._reply(request.headers, 200)

    def _session_of(self, request: Request) -> Session | None:
        value = request.header("Session")
        return self.sessions.get(value.split(";")[0].strip()) if value else None

    def _touch(self, request: Request, now: float) -> None:
        session = self._session_of(request)
        if session is not None:
            session.last_seen = now


class ReferenceServer:
    """Asyncio adapter: one ServerLogic, one RTSPConnection per TCP connection."""

    protocol = "rtsp"

    def __init__(self, faults: Iterable[str] = (), path: str = "/test") -> None:
        self.faults = FaultSet(FAULTS, faults)
        self.path = path
        self.logic: ServerLogic | None = None
        self.requests: list[Request | BadRequest] = []  # what clients sent, for client suites
        self.violations: list[Violation] = []
        self.connections_closed = 0
        self._changed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        bound = int(self._server.sockets[0].getsockname()[1])
        self.logic = ServerLogic(self.faults, f"rtsp://{host}:{bound}{self.path}")
        return bound

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(
        self, condition: Callable[[ReferenceServer], bool], timeout: float
    ) -> bool:
        """Wait until `condition(self)` holds after a request or a close; False at the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition(self):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return condition(self)
        return True

    def url(self, host: str, port: int) -> str:
        return f"rtsp://{host}:{port}{self.path}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        local = writer.get_extra_info("sockname")[:2]
        remote = writer.get_extra_info("peername")[:2]
        wire = observe.recorder("rtsp", "tcp", local, remote, "server")
        conn = RTSPConnection(Role.SERVER)
        loop = asyncio.get_running_loop()
        by_peer = True
        try:
            while True:
                data = await asyncio.wait_for(reader.read(65536), IDLE_TIMEOUT)
                wire.received(data)
                conn.receive_data(data)
                try:
                    events = conn.events()
                except ProtocolError as exc:
                    out = conn.send(Response(400, (("Server", "streamconform-reference/0.1"),)))
                    wire.sent(out)
                    writer.write(out)
                    self.violations.append(Violation("RTSP-MSG-FRAMING", str(exc)))
                    by_peer = False
                    break
                for event in events:
                    if isinstance(event, (Request, BadRequest)):
                        self.requests.append(event)
                        self._notify()
                        assert self.logic is not None
                        response = self.logic.respond(event, loop.time())
                        out = conn.send(response)
                        if "malformed_status_line" in self.faults:
                            line, _, rest = out.partition(b"\r\n")
                            out = b" ".join(line.split(b" ")[::2]) + b"\r\n" + rest
                        if "bare_lf" in self.faults:
                            head, _, body = out.partition(b"\r\n\r\n")
                            out = head.replace(b"\r\n", b"\n") + b"\n\n" + body
                        wire.sent(out)
                        writer.write(out)
                    elif isinstance(event, Violation):
                        self.violations.append(event)
                        observe.report(event)
                await writer.drain()
                if not data:
                    break
        except (TimeoutError, ConnectionError, asyncio.CancelledError):
            by_peer = False
        finally:
            wire.closed(by_peer)
            self.connections_closed += 1
            self._notify()
            writer.close()
            if task is not None:
                self._tasks.discard(task)
