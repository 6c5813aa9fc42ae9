"""What a protocol gives the campaign: states to walk into, cases, oracles, a health check.

Each protocol has `harness/fuzz/<protocol>.py` with `DRIVER`, a class following `FuzzDriver`;
the campaign finds it by the target's protocol. The campaign owns threads, seeds, findings,
minimization and evidence; the driver owns everything protocol-specific.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass
from typing import Protocol

from harness.catalogue import Catalogue
from harness.fuzz.wire import Exchange


@dataclass
class Verdict:
    """What one case showed: an oracle that fired (None: nothing) and its detail."""

    oracle: str | None
    detail: str = ""
    requirement: str | None = None
    answered: bool = False  # a whole answer came back, so the connection is in step


class FuzzDriver(Protocol):
    """One connection's protocol driver (a campaign keeps one per worker thread)."""

    protocol: str
    states: tuple[str, ...]
    url: str

    def walk(self, ex: Exchange, state: str) -> bool:
        """Bring the connection into `state` with valid messages; False if the target won't."""

    def case(self, rng: random.Random, recorded: list[bytes]) -> bytes:
        """The bytes of one case: generated, or a mutation of a recorded valid message."""

    def recorded_session(self) -> list[bytes]:
        """Valid messages of a well-behaved peer: the seeds of mutation."""

    def judge(self, ex: Exchange, payload: bytes) -> Verdict:
        """Send the case and apply the spec oracles to what comes back."""

    def healthy(self, host: str, port: int, timeout: float, ex: Exchange | None = None) -> bool:
        """A valid request still succeeds (on `ex` when it is in step, else a fresh connection)."""


class DriverFactory(Protocol):
    def __call__(self, url: str, catalogue: Catalogue, answer_timeout: float = 1.0) -> FuzzDriver:
        """A driver for the server at `url`."""


def driver_for(protocol: str) -> DriverFactory:
    """The protocol's driver class; ValueError naming the fuzzable protocols if it has none."""
    try:
        module = importlib.import_module(f"harness.fuzz.{protocol}")
    except ModuleNotFoundError:
        module = None
    factory: DriverFactory | None = getattr(module, "DRIVER", None)
    if factory is None:
        raise ValueError(f"fuzzing {protocol} is not supported yet (fuzzable: {fuzzable()})")
    return factory


def fuzzable() -> str:
    from reference_impl.registry import PROTOCOLS

    found = []
    for protocol in PROTOCOLS:
        try:
            if hasattr(importlib.import_module(f"harness.fuzz.{protocol}"), "DRIVER"):
                found.append(protocol)
        except ModuleNotFoundError:
            continue
    return ", ".join(found)
