"""The reference servers take hostile input without failing: found by fuzzing, kept fixed."""

from __future__ import annotations

import asyncio

from reference_impl.http.server import ReferenceServer


async def _exchange(port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    try:
        return await asyncio.wait_for(reader.read(4096), 2.0)
    finally:
        writer.close()


async def test_a_last_event_id_that_is_not_utf8_is_read_as_bytes_not_a_crash() -> None:
    server = ReferenceServer()
    port = await server.start()
    try:
        raw = b"GET /events?count=1 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 3\xbd\xd5\r\n\r\n"
        answer = await _exchange(port, raw)
        assert answer.startswith(b"HTTP/1.1 200")
        assert server.errors == []
    finally:
        await server.close()


async def test_digits_that_are_not_ascii_are_not_numbers() -> None:
    server = ReferenceServer()
    port = await server.start()
    try:
        raw = "GET /events?count=1 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ²\r\n\r\n".encode(
            "latin-1"
        )
        answer = await _exchange(port, raw)
        assert answer.startswith(b"HTTP/1.1 200")
        answer = await _exchange(port, b"GET /poll?since=%C2%B2 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200")
        assert server.errors == []
    finally:
        await server.close()
