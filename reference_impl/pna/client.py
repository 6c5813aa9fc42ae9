"""The PNA reference client: asyncio around the sans-IO connection.

It behaves like the MPlayer/xine pnm client: the request with its chunks, the challenge
response when the server asks for one, a keep-alive every 43 packets, and it reads data
packets until the server ends the stream or `count` arrived. It is also the checking side of
the server suite: it keeps every event and reports violations.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field

from reference_impl.common import observe
from reference_impl.common.events import Event, NeedData, ProtocolError, Violation
from reference_impl.common.faults import FaultSet
from reference_impl.pna import wire
from reference_impl.pna.connection import (
    ChallengeBlock,
    PacketReceived,
    PnaChunkReceived,
    PNAConnection,
    Role,
    ServerMessage,
)
from reference_impl.pna.faults import FAULTS

DEFAULT_PORT = 7070
DEFAULT_TIMEOUT = 10.0
KEEPALIVE_EVERY = 43
RESPONSE = b"0" * 32


class PNAError(Exception):
    """The server refused, closed early or never answered; the message says which."""


@dataclass
class Session:
    """What one PNA session received."""

    events: list[Event] = field(default_factory=list)
    packets: int = 0
    closed: bool = False


async def open_session(
    url: str,
    *,
    faults: Iterable[str] = (),
    request: bytes | None = None,
    count: int = 1 << 30,
    timeout: float = DEFAULT_TIMEOUT,
) -> Session:
    """Send the request (or `request`) and read until `count` packets, the end, or the deadline."""
    fault = FaultSet(FAULTS, faults)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "pnm" or not parts.hostname:
        raise PNAError(f"not a pnm:// URL: {url!r}")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(parts.hostname, parts.port or DEFAULT_PORT), timeout
    )
    local, remote = writer.get_extra_info("sockname"), writer.get_extra_info("peername")
    log = observe.recorder("pna", "tcp", local[:2], remote[:2], "client")
    conn = PNAConnection(Role.CLIENT)
    session = Session()
    out = request if request is not None else wire.build_request(path, faults=fault.names)
    log.sent(out)
    writer.write(out)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while session.packets < count:
            try:
                event = conn.next_event()
            except ProtocolError as exc:
                # Unframable: the rest cannot be read. Recorded as what it breaks, then we stop.
                event = Violation(exc.requirement_id or "PNA-RESP-PNA-CHUNK", str(exc))
                session.events.append(event)
                observe.report(event)
                break
            if isinstance(event, NeedData):
                if "pna_client_stalls" in fault and any(
                    isinstance(e, ChallengeBlock) for e in session.events
                ):
                    break  # the fault: hang up once the headers are in
                try:
                    data = await asyncio.wait_for(reader.read(65536), deadline - loop.time())
                except (TimeoutError, ConnectionError):
                    data = b""
                if not data:
                    session.closed = True
                    break
                log.received(data)
                conn.receive_data(data)
                continue
            session.events.append(event)
            if isinstance(event, Violation):
                observe.report(event)
            elif isinstance(event, PnaChunkReceived) and event.challenge:
                if "pna_client_no_response" not in fault:
                    _send(writer, log, wire.challenge_response(RESPONSE))
            elif isinstance(event, PacketReceived):
                session.packets += 1
                if (
                    session.packets % KEEPALIVE_EVERY == KEEPALIVE_EVERY - 1
                    and "pna_client_no_keepalive" not in fault
                ):
                    _send(writer, log, wire.KEEPALIVE)
            elif isinstance(event, ServerMessage):
                break
    finally:
        log.closed(by_peer=session.closed)
        writer.close()
    return session


def _send(writer: asyncio.StreamWriter, log: observe.WireRecorder, data: bytes) -> None:
    if not writer.is_closing():
        log.sent(data)
        writer.write(data)


async def run_session(
    url: str, faults: Iterable[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> dict[str, int]:
    """Play `url` like MPlayer's pnm client; returns how many data packets arrived."""
    session = await open_session(url, faults=faults, timeout=timeout)
    message = next((e for e in session.events if isinstance(e, ServerMessage)), None)
    if message is not None:
        raise PNAError(f"the server said: {message.text.strip()}")
    if not session.packets and "pna_client_stalls" not in faults:
        raise PNAError("no data packet arrived")
    return {"packets": session.packets}
