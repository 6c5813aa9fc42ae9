"""Which protocols have reference implementations, found by the shape of their packages.

Every protocol package has the same files (DESIGN.md): `reference_impl/<proto>/faults.py`
with `FAULTS: dict[str, Fault]`, `server.py` with `ReferenceServer`, and `client.py` with
`run_session(url, faults=...)`. A protocol is registered by having them; nothing else is edited.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache

from reference_impl.common.faults import Fault

#: every protocol family the project knows, in report order
PROTOCOLS = ("rtsp", "rtmp", "mms", "pna", "http")


def _has(protocol: str, module: str) -> bool:
    try:
        return importlib.util.find_spec(f"reference_impl.{protocol}.{module}") is not None
    except ModuleNotFoundError:
        return False


@cache
def protocols_with(module: str) -> tuple[str, ...]:
    """The protocols whose reference package has `module` (faults, server or client)."""
    return tuple(p for p in PROTOCOLS if _has(p, module))


def reference_server(protocol: str) -> str | None:
    """`module:class` of the protocol's embedded reference server, if it has one."""
    return f"reference_impl.{protocol}.server:ReferenceServer" if _has(protocol, "server") else None


def reference_client(protocol: str) -> str | None:
    """`module:function` of the protocol's reference client session, if it has one."""
    return f"reference_impl.{protocol}.client:run_session" if _has(protocol, "client") else None


def faults_of(protocol: str) -> dict[str, Fault]:
    if not _has(protocol, "faults"):
        return {}
    faults: dict[str, Fault] = importlib.import_module(f"reference_impl.{protocol}.faults").FAULTS
    return faults


def all_faults() -> dict[str, tuple[str, Fault]]:
    """Every fault name -> (protocol, fault); names are unique across protocols."""
    found: dict[str, tuple[str, Fault]] = {}
    for proto in protocols_with("faults"):
        for name, fault in faults_of(proto).items():
            if name in found:
                raise ValueError(f"fault {name!r} is named by both {found[name][0]} and {proto}")
            found[name] = (proto, fault)
    return found
