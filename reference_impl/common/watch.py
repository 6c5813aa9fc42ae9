"""Waiting for what a server observed, without polling: a condition re-checked on each change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Watched(Generic[T]):
    """Mix-in for servers whose state tests wait on: call `_notify()` after each change."""

    _changed: asyncio.Event | None = None

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, condition: Callable[[T], bool], timeout: float) -> bool:
        """Wait until `condition(self)` holds after a change; False at the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        me: T = self  # type: ignore[assignment]
        while not condition(me):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            if self._changed is None:
                self._changed = asyncio.Event()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return condition(me)
        return True
