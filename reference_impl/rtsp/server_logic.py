"""What the RTSP reference server answers: requests in, responses out, no I/O, time passed in.

Sessions follow the state table of RFC 2326 Appendix A (states.py). Media is one PCMA audio
track; the adapter (server.py) owns the sockets and streams while a session is Playing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from reference_impl.common.faults import FaultSet
from reference_impl.rtsp.media import h264_sdp, h264_stream, pcma_stream, sdp_media
from reference_impl.rtsp.messages import RTSP_VERSION, BadRequest, Request, Response
from reference_impl.rtsp.packetizer import SEQ_JUMP, AudioStream, H264Stream
from reference_impl.rtsp.states import SERVER_TRANSITIONS, State, allowed_in
from reference_impl.rtsp.transport import TransportSpec, format_transport, parse_transports

PUBLIC_METHODS = ("OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER")
SESSION_TIMEOUT = 60
VIDEO, AUDIO = "trackID=0", "trackID=1"
TRACKS = (VIDEO, AUDIO)
MediaStream = AudioStream | H264Stream
SERVER_NAME = "streamconform-reference/0.1"


@dataclass
class Delivery:
    """Where a session's media goes: interleaved channels, or UDP ports on loopback."""

    spec: TransportSpec
    channel: int | None = None  # RTP channel on the RTSP connection (RTCP is channel + 1)
    client_ports: tuple[int, int] | None = None
    server_ports: tuple[int, int] | None = None


@dataclass
class Track:
    """One set-up media stream of a session: where it goes and what produces it."""

    control: str
    delivery: Delivery
    stream: MediaStream


@dataclass
class Session:
    """One RTSP session (RFC 2326 §3.4): state, tracks, media position, last sign of life."""

    id: str
    state: State = State.INIT
    tracks: dict[str, Track] = field(default_factory=dict)
    last_seen: float = 0.0
    plays: int = 0
    media_time: float = 0.0  # where PLAY resumes after PAUSE (RFC 2326 §10.6)
    last_setup: str = ""  # the control of the newest SETUP, for the adapter


@dataclass
class ServerLogic:
    """Shared by every connection of a server; `udp_ports` binds a loopback even/odd pair."""

    faults: FaultSet
    base_url: str
    udp_ports: Callable[[], tuple[int, int]]
    sessions: dict[str, Session] = field(default_factory=dict)

    def respond(self, event: Request | BadRequest, now: float) -> Response:
        if isinstance(event, BadRequest):
            return self._reply(event.headers, 200 if "accept_malformed" in self.faults else 400)
        request = event
        if request.version != RTSP_VERSION and "accept_any_version" not in self.faults:
            return self._reply(request.headers, 505)
        handler = {
            "OPTIONS": self._options,
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._session_method,
            "PAUSE": self._session_method,
            "TEARDOWN": self._session_method,
            "GET_PARAMETER": self._get_parameter,
        }.get(request.method)
        if handler is None:
            status = 400 if "unknown_method_400" in self.faults else 501
            return self._reply(request.headers, status, [("Public", ", ".join(PUBLIC_METHODS))])
        return handler(request, now)

    def session_of(self, request: Request) -> Session | None:
        value = request.header("Session")
        return self.sessions.get(value.split(";")[0].strip()) if value else None

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
            if "wrong_cseq" in self.faults and cseq.isascii() and cseq.isdigit():
                cseq = str(int(cseq) + 1)
            headers.append(("CSeq", cseq))
        headers.append(("Server", SERVER_NAME))
        headers.extend(extra or [])
        if body:
            headers.append(("Content-Length", str(len(body))))
        version = "RTSP/1.1" if "wrong_version" in self.faults else RTSP_VERSION
        return Response(status, tuple(headers), body, version=version)

    def _options(self, request: Request, now: float) -> Response:
        # RFC 2326 §10.1 and Appendix D.2: OPTIONS lists the methods the server supports.
        drop = "SETUP" if "public_without_setup" in self.faults else None
        methods = [m for m in PUBLIC_METHODS if m != drop]
        extra = [] if "no_public" in self.faults else [("Public", ", ".join(methods))]
        self._touch(request, now)
        return self._reply(request.headers, 200, extra)

    def _describe(self, request: Request, now: float) -> Response:
        sdp = (
            "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=streamconform reference\r\n"
            "c=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n" + h264_sdp(VIDEO) + sdp_media(AUDIO)
        )
        sdp = self._broken_sdp(sdp)
        extra = [("Content-Base", self.base_url + "/"), ("Content-Type", "application/sdp")]
        return self._reply(request.headers, 200, extra, sdp.encode())

    def _broken_sdp(self, sdp: str) -> str:
        """The SDP faults: each breaks one rule of RFC 4566."""
        edits = {
            "sdp_without_version": ("v=0\r\n", ""),
            "sdp_without_origin": ("o=- 0 0 IN IP4 127.0.0.1\r\n", ""),
            "sdp_bad_line": ("t=0 0\r\n", "t=0 0\r\nnot a line\r\n"),
            "sdp_out_of_order": (
                "s=streamconform reference\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n",
                "t=0 0\r\ns=streamconform reference\r\nc=IN IP4 0.0.0.0\r\n",
            ),
            "sdp_bad_media": ("m=audio 0 RTP/AVP 8", "m=audio"),
            "sdp_bare_lf": ("\r\n", "\n"),
        }
        for fault, (old, new) in edits.items():
            if fault in self.faults:
                sdp = sdp.replace(old, new)
        return sdp

    def _setup(self, request: Request, now: float) -> Response:
        control = request.uri.rstrip("/").rsplit("/", 1)[-1]
        if control not in TRACKS:
            # RFC 2326 §10.4: SETUP names one stream; the aggregate URL of a presentation of
            # several streams is not one (§11.3.8, 459), and anything else is not found.
            aggregate = request.uri.rstrip("/") == self.base_url
            return self._reply(request.headers, 459 if aggregate else 404)
        delivery = self._choose(request.header("Transport") or "")
        if delivery is None or "setup_always_461" in self.faults:
            # RFC 2326 §12.39 and §11.3.9: none of the offered transports is served here.
            return self._reply(request.headers, 461)
        session = self.session_of(request)
        if request.header("Session") and session is None:
            return self._reply(request.headers, 454)
        if session is None:
            length = 2 if "short_session_id" in self.faults else 8
            session = Session(secrets.token_hex(length), last_seen=now)
            self.sessions[session.id] = session
        session.state = SERVER_TRANSITIONS[(session.state, "SETUP")]
        track = Track(control, delivery, self._new_stream(control))
        session.tracks[control] = track
        session.last_setup = control
        session.last_seen = now
        extra_params = {"ssrc": f"{track.stream.ssrc:08X}"}
        if delivery.server_ports is not None:
            extra_params["server_port"] = "{}-{}".format(*delivery.server_ports)
        extra = [
            ("Session", f"{session.id};timeout={SESSION_TIMEOUT}"),
            ("Transport", format_transport(delivery.spec, extra_params)),
        ]
        return self._reply(request.headers, 200, extra)

    def _new_stream(self, control: str) -> MediaStream:
        """Random SSRC, first sequence number and timestamp (RFC 3550 §5.1)."""
        ssrc = int.from_bytes(secrets.token_bytes(4), "big")
        first_sequence = int.from_bytes(secrets.token_bytes(2), "big")
        first_timestamp = int.from_bytes(secrets.token_bytes(4), "big")
        jump = SEQ_JUMP if "rtp_seq_jump_after_pause" in self.faults else 0
        if control == VIDEO:
            return h264_stream(
                ssrc,
                first_sequence=first_sequence,
                first_timestamp=first_timestamp,
                seq_jump_after_resume=jump,
            )
        return pcma_stream(ssrc, first_sequence, first_timestamp, jump)

    def _choose(self, header: str) -> Delivery | None:
        for spec in parse_transports(header):
            if not spec.protocol.upper().startswith("RTP/AVP") or not spec.unicast:
                continue  # multicast is refused with 461 outside a test namespace
            if spec.tcp:
                channels = spec.pair("interleaved") or (0, 1)
                return Delivery(spec, channel=channels[0])
            ports = spec.pair("client_port")
            if ports is not None:
                return Delivery(spec, client_ports=ports, server_ports=self.udp_ports())
        return None

    def _session_method(self, request: Request, now: float) -> Response:
        session = self.session_of(request)
        if session is None:
            unknown = request.header("Session") is not None
            if unknown and "unknown_session_200" in self.faults:
                return self._reply(request.headers, 200)
            return self._reply(request.headers, 454)
        if request.method == "PLAY" and session.plays and "no_resume_after_pause" in self.faults:
            return self._reply(request.headers, 503)
        next_state = SERVER_TRANSITIONS.get((session.state, request.method))
        if next_state is None and "ignore_state" in self.faults:
            return self._reply(request.headers, 200, [("Session", session.id)])
        if next_state is None:
            allow = ", ".join(allowed_in(session.state))
            return self._reply(request.headers, 455, [("Allow", allow)])
        session.state = next_state
        session.last_seen = now
        extra = [("Session", session.id)]
        if request.method == "PLAY":
            for track in session.tracks.values():
                if session.plays:
                    track.stream.resume()
            session.plays += 1
            extra.append(("Range", f"npt={session.media_time:.3f}-"))
            # RFC 2326 §12.33: where each stream starts, so the client can map RTP to the play.
            info = ",".join(
                f"url={self.base_url}/{t.control};seq={t.stream.next_sequence};"
                f"rtptime={t.stream.next_timestamp}"
                for t in session.tracks.values()
            )
            extra.append(("RTP-Info", info))
        if request.method == "PAUSE":
            for track in session.tracks.values():
                track.stream.pause()
        if request.method == "TEARDOWN":
            del self.sessions[session.id]
        return self._reply(request.headers, 200, extra)

    def _get_parameter(self, request: Request, now: float) -> Response:
        self._touch(request, now)  # RFC 2326 §10.8: an empty GET_PARAMETER keeps a session alive
        return self._reply(request.headers, 200)

    def _touch(self, request: Request, now: float) -> None:
        session = self.session_of(request)
        if session is not None:
            session.last_seen = now
