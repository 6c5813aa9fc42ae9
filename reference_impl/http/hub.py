"""The reference server's event sources: channels whose events are numbered and kept a while.

Channel `tick` publishes an event every `tick_interval` by itself; `quiet` publishes only what
is posted to it, so a test can time one event from the moment it occurs to its arrival.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass

#: events kept per channel for resumption (Last-Event-ID) and polling
HISTORY = 2000


@dataclass(frozen=True)
class StreamEvent:
    """One event of a channel: its number (the SSE id) and its data."""

    id: int
    data: str


class Channel:
    """Numbered events with a bounded history, and a way to wait for the next ones."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.history: deque[StreamEvent] = deque(maxlen=HISTORY)
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()

    @property
    def last_id(self) -> int:
        return self.history[-1].id if self.history else 0

    async def publish(self, data: str) -> StreamEvent:
        event = StreamEvent(next(self._ids), data)
        self.history.append(event)
        async with self._changed:
            self._changed.notify_all()
        return event

    def after(self, last_id: int) -> list[StreamEvent]:
        return [e for e in self.history if e.id > last_id]

    async def wait_after(self, last_id: int, timeout: float) -> list[StreamEvent]:
        """Events newer than `last_id`, waiting up to `timeout` seconds for the first one."""
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: self.last_id > last_id)
        except TimeoutError:
            pass
        return self.after(last_id)


class Hub:
    """The channels of one server, and the ticker that feeds `tick`."""

    def __init__(self, tick_interval: float = 0.1) -> None:
        self.channels = {name: Channel(name) for name in ("tick", "quiet")}
        self.tick_interval = tick_interval
        self._ticker: asyncio.Task[None] | None = None

    def channel(self, name: str | None) -> Channel | None:
        return self.channels.get(name or "tick")

    def start(self) -> None:
        self._ticker = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)

    async def _tick(self) -> None:
        channel = self.channels["tick"]
        for n in itertools.count(1):
            await channel.publish(f"tick {n}")
            await asyncio.sleep(self.tick_interval)  # the source's own pace, not a wait
