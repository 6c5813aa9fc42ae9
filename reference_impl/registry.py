"""Which protocols have reference implementations, and their named faults."""

from __future__ import annotations

import importlib

from reference_impl.common.faults import Fault

#: protocol -> module with FAULTS: dict[str, Fault]
FAULT_MODULES: dict[str, str] = {
    "rtsp": "reference_impl.rtsp.faults",
}


def faults_of(protocol: str) -> dict[str, Fault]:
    module = FAULT_MODULES.get(protocol)
    if module is None:
        return {}
    faults: dict[str, Fault] = importlib.import_module(module).FAULTS
    return faults


def all_faults() -> dict[str, tuple[str, Fault]]:
    """Every fault name -> (protocol, fault)."""
    return {name: (proto, f) for proto in FAULT_MODULES for name, f in faults_of(proto).items()}
