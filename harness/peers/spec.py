"""A real program as a declarative spec: roles, protocols, ports, how to start it, when ready."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness import FIXTURES

Ports = dict[str, int]


@dataclass(frozen=True)
class PeerSpec:
    """What the harness needs to know to run one real program, in Docker or locally."""

    name: str
    summary: str
    roles: tuple[str, ...]
    protocols: tuple[str, ...]
    #: names of the loopback ports to allocate at start, e.g. ("rtsp",)
    ports: tuple[str, ...]
    #: protocol -> URL template over the port names, e.g. "rtsp://127.0.0.1:{rtsp}/test"
    urls: Mapping[str, str]
    #: arguments for the image's entrypoint, from the allocated ports
    docker_args: Callable[[Ports], list[str]] | None = None
    #: a local command line, from the allocated ports (None: no local backend)
    local_argv: Callable[[Ports], list[str] | None] | None = None
    #: environment variables for either backend, from the allocated ports
    env: Callable[[Ports], dict[str, str]] | None = None
    #: a line the program prints when it is ready (regex); None: the first port accepting
    ready_log: str | None = None
    #: the port name probed by a TCP connect for readiness
    ready_port: str | None = None
    #: why the program cannot be had on this machine at all, and what would unblock it
    blocked: Callable[[], str | None] = field(default=lambda: None)
    #: the fixtures/docker/ folder (and image) this peer runs, when several peers share one
    image_of: str | None = None

    @property
    def image(self) -> str:
        return f"streamconform/{self.image_of or self.name}:latest"

    @property
    def context(self) -> Path:
        return FIXTURES / "docker" / (self.image_of or self.name)

    def url(self, protocol: str, ports: Ports) -> str:
        if protocol not in self.urls:
            raise KeyError(f"{self.name} does not serve {protocol}")
        return self.urls[protocol].format(**ports)


@dataclass(frozen=True)
class ServerRun:
    """`make test` runs the server suites of `protocol` against the peer `peer`."""

    peer: str
    protocol: str


@dataclass(frozen=True)
class ClientRun:
    """`make test` runs the client suites of `protocol` on the client `command` (with {url})."""

    name: str
    command: str
    protocol: str
    #: how to get the program when it is missing, e.g. "apt-get install ffmpeg"
    install: str
