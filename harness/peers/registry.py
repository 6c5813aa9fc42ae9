"""The real programs the harness knows (see ../shared/PEERS.md for who plays what).

Collected from the modules of harness/peers/known/, one per protocol family.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from harness.peers import known
from harness.peers.spec import ClientRun, PeerSpec, ServerRun


class UnknownPeerName(KeyError):
    pass


@cache
def _modules() -> tuple[ModuleType, ...]:
    names = sorted(m.name for m in pkgutil.iter_modules(known.__path__))
    return tuple(importlib.import_module(f"{known.__name__}.{name}") for name in names)


@cache
def _specs() -> dict[str, PeerSpec]:
    specs: dict[str, PeerSpec] = {}
    for module in _modules():
        for spec in getattr(module, "PEERS", []):
            if spec.name in specs:
                raise ValueError(f"peer {spec.name!r} is declared twice ({module.__name__})")
            specs[spec.name] = spec
    return specs


def get_spec(name: str) -> PeerSpec:
    try:
        return _specs()[name]
    except KeyError:
        known_names = ", ".join(sorted(_specs()))
        raise UnknownPeerName(f"unknown peer {name!r}; known peers: {known_names}") from None


def all_specs() -> list[PeerSpec]:
    return [spec for _, spec in sorted(_specs().items())]


def server_runs() -> list[ServerRun]:
    """Every (peer, protocol) whose server suites `make test` runs."""
    return [run for module in _modules() for run in getattr(module, "SERVER_RUNS", [])]


def client_runs() -> list[ClientRun]:
    """Every real client command whose client suites `make test` runs."""
    return [run for module in _modules() for run in getattr(module, "CLIENT_RUNS", [])]
