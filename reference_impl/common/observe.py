"""How adapters tell whoever runs them what crossed the wire and what deviated.

The harness sets an Observer around each test; outside a test there is none and adapters do
nothing extra. Keeping this a Protocol keeps reference_impl free of any harness import.
"""

from __future__ import annotations

import contextvars
from typing import Literal, Protocol

from reference_impl.common.events import Violation

Address = tuple[str, int]


class WireRecorder(Protocol):
    def sent(self, data: bytes) -> None: ...
    def received(self, data: bytes) -> None: ...
    def closed(self, by_peer: bool) -> None: ...


class Observer(Protocol):
    def open_connection(
        self,
        protocol: str,
        transport: Literal["tcp", "udp"],
        local: Address,
        remote: Address,
        local_role: Literal["client", "server"],
    ) -> WireRecorder: ...

    def violation(self, violation: Violation) -> None: ...


class _NullRecorder:
    def sent(self, data: bytes) -> None:
        pass

    def received(self, data: bytes) -> None:
        pass

    def closed(self, by_peer: bool) -> None:
        pass


_observer: contextvars.ContextVar[Observer | None] = contextvars.ContextVar(
    "streamconform_observer", default=None
)


def current() -> Observer | None:
    return _observer.get()


def set_observer(observer: Observer | None) -> contextvars.Token[Observer | None]:
    return _observer.set(observer)


def reset_observer(token: contextvars.Token[Observer | None]) -> None:
    _observer.reset(token)


def recorder(
    protocol: str,
    transport: Literal["tcp", "udp"],
    local: Address,
    remote: Address,
    local_role: Literal["client", "server"],
) -> WireRecorder:
    observer = _observer.get()
    if observer is None:
        return _NullRecorder()
    return observer.open_connection(protocol, transport, local, remote, local_role)


def report(violation: Violation) -> None:
    observer = _observer.get()
    if observer is not None:
        observer.violation(violation)
