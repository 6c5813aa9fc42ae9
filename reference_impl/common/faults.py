"""Named faults: each turns on one deliberate deviation in a reference implementation.

The project's own tests run every suite against the reference with each fault on and check
that the tests naming the fault's requirements fail. That is how we know a test can fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One deliberate deviation and the requirements it breaks."""

    name: str
    breaks: tuple[str, ...]
    summary: str


class UnknownFault(ValueError):
    """A fault name that the protocol's registry does not know."""


class FaultSet:
    """The faults switched on for one reference server or client; empty means conformant."""

    def __init__(self, registry: Mapping[str, Fault], names: Iterable[str] = ()) -> None:
        self._registry = registry
        chosen = frozenset(names)
        unknown = sorted(chosen - registry.keys())
        if unknown:
            known = ", ".join(sorted(registry)) or "(none)"
            raise UnknownFault(f"unknown fault(s) {', '.join(unknown)}; known: {known}")
        self.names = chosen

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str) and name not in self._registry:
            # A typo in a fault check would silently never fire: refuse it loudly.
            raise UnknownFault(f"fault {name!r} is not registered")
        return name in self.names

    def __bool__(self) -> bool:
        return bool(self.names)

    def __repr__(self) -> str:
        return f"FaultSet({sorted(self.names)!r})"
