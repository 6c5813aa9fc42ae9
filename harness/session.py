"""The run's state, shared by the plugin's hooks and the suites' fixtures."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.catalogue import Catalogue
from harness.clients import ClientUnderTest
from harness.expectations import Deviation
from harness.targets import (
    EmbeddedReference,
    ServerTarget,
    start_reference_server,
)

ROLES = ("server", "client", "interop")


def new_run_dir(reports: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return reports / f"{stamp}-{secrets.token_hex(2)}"


@dataclass
class RunState:
    """Everything a run decided at configure time, plus the reference servers it started."""

    catalogue: Catalogue
    run_dir: Path
    strict: bool
    case_timeout: float
    faults: tuple[str, ...]
    #: seconds an event may take from occurring to reaching a connected client (streaming)
    latency_bound: float = 0.2
    server: ServerTarget | None = None  # --target or --peer
    client: ClientUnderTest | None = None  # --target-client
    peer_name: str | None = None
    peer_log: str | None = None
    expectations: list[Deviation] = field(default_factory=list)
    require_peers: bool = field(
        default_factory=lambda: os.environ.get("STREAMCONFORM_REQUIRE_PEERS") == "1"
    )
    deselected: dict[str, int] = field(default_factory=dict)
    records_written: int = 0
    _references: dict[str, EmbeddedReference] = field(default_factory=dict)
    peer_handle: Any = None

    @property
    def target_label(self) -> str:
        if self.server is not None:
            return self.server.label
        if self.client is not None and self.client.command is not None:
            return self.client.label
        return "reference"

    @property
    def target_kind(self) -> str:
        if self.server is not None:
            return self.server.kind
        if self.client is not None and self.client.command is not None:
            return "client"
        return "reference"

    def server_for(self, protocol: str) -> ServerTarget:
        """The server the suite of `protocol` tests: the user's, or an embedded reference."""
        if self.server is not None:
            return self.server
        if protocol not in self._references:
            self._references[protocol] = start_reference_server(protocol, self.faults_for(protocol))
        return self._references[protocol].target

    def client_for(self, protocol: str) -> ClientUnderTest:
        if self.client is not None:
            return ClientUnderTest(protocol, self.client.command)
        return ClientUnderTest(protocol, None, self.faults_for(protocol))

    def faults_for(self, protocol: str) -> tuple[str, ...]:
        """The --fault names that belong to this protocol's reference implementation."""
        from reference_impl.registry import faults_of

        known = faults_of(protocol)
        return tuple(name for name in self.faults if name in known)

    def close(self) -> None:
        for reference in self._references.values():
            reference.close()
        self._references.clear()
