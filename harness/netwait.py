"""Loopback ports: a free one, and whether something listens on one without connecting to it.

Some peers (ffmpeg -listen) take exactly one connection, so a probe connection would be the
one they serve: `listening` reads the kernel's table instead.
"""

from __future__ import annotations

import asyncio
import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    """True once a TCP socket listens on 127.0.0.1:port (from /proc/net/tcp)."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return any(row[1] == wanted and row[3] == "0A" for row in rows)


async def wait_listening(port: int, deadline: float) -> bool:
    """Wait until something listens on the port; False at the deadline (seconds)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not listening(port):
        if loop.time() > end:
            return False
        await asyncio.sleep(0.02)  # a listen has no event to wait on: poll, with a deadline
    return True
