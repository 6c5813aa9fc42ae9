"""What every reference server on one TCP port shares: start, close, a task per connection."""

from __future__ import annotations

import asyncio
import sys
from typing import TypeVar

from reference_impl.common.watch import Watched

T = TypeVar("T")


class TcpReferenceServer(Watched[T]):
    """Listens on one loopback port; each connection runs `_serve` as a task `close` ends."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        #: connection handlers that failed with an exception: reference bugs, for tests to see
        self.errors: list[str] = []

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._accept, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except Exception as exc:  # a reference bug: one line, kept, and the connection closed
            self.errors.append(f"{type(exc).__name__}: {exc}")
            print(
                f"streamconform: reference server bug ({type(exc).__name__}: {exc}); "
                "the connection was closed",
                file=sys.stderr,
            )
            writer.close()
        finally:
            self._connections.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError
