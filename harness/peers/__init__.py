"""Real programs as peers: declarative specs, a Docker and a local backend, clean stops.

peer = start_peer("gst-rtsp-server", log_dir=Path("reports/x/peers"))
peer.url("rtsp")   # rtsp://127.0.0.1:PORT/test
peer.stop()        # also at exit, and a context manager
"""

from __future__ import annotations

import atexit
import secrets
import shutil
from pathlib import Path
from types import TracebackType

from harness.peers.backends import DockerContainer, LocalProcess, Process, wait_ready
from harness.peers.images import ImageError, docker_client, image_exists, image_is_current
from harness.peers.ports import allocate
from harness.peers.registry import UnknownPeerName, all_specs, get_spec
from harness.peers.spec import PeerSpec

__all__ = [
    "PeerSpec",
    "PeerUnavailable",
    "RunningPeer",
    "UnknownPeer",
    "all_specs",
    "availability",
    "get_spec",
    "start_peer",
]


class PeerUnavailable(Exception):
    """A peer cannot start here; str() is one line: what is missing and how to fix it."""


class UnknownPeer(PeerUnavailable):
    """No peer of that name."""


class PeerBlocked(PeerUnavailable):
    """The program cannot be had on this machine at all (e.g. a registry refuses it)."""


_running: set[RunningPeer] = set()


class RunningPeer:
    """A started peer: its ports, URLs and log; stop() ends only what we started."""

    def __init__(
        self, spec: PeerSpec, backend: str, process: Process, ports: dict[str, int], log_path: Path
    ) -> None:
        self.spec, self.name, self.backend = spec, spec.name, backend
        self.process, self.ports, self.log_path = process, ports, log_path
        self._stopped = False
        _running.add(self)

    def url(self, protocol: str) -> str:
        return self.spec.url(protocol, self.ports)

    def alive(self) -> bool:
        return not self._stopped and self.process.alive()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.process.stop()
        _running.discard(self)

    def __enter__(self) -> RunningPeer:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __hash__(self) -> int:
        return id(self)


@atexit.register
def _stop_all() -> None:
    for peer in list(_running):
        peer.stop()


def _spec(name: str) -> PeerSpec:
    try:
        return get_spec(name)
    except UnknownPeerName as exc:
        raise UnknownPeer(str(exc.args[0])) from None


def _docker_problem(spec: PeerSpec) -> str | None:
    try:
        client = docker_client(timeout=10)
    except ImageError as exc:
        return str(exc)
    if not image_exists(client, spec.image):
        return f"image {spec.image} is not built; run `streamconform peers build {spec.name}`"
    if not image_is_current(client, spec):
        return (
            f"image {spec.image} was built from older files in {spec.context}; "
            f"run `streamconform peers build {spec.name}`"
        )
    return None


def availability(name: str) -> str | None:
    """None when the peer can start here (in Docker or locally); else why not, in one line."""
    spec = _spec(name)
    blocked = spec.blocked()
    if blocked:
        return blocked
    docker_problem = _docker_problem(spec) if spec.docker_args is not None else "no Docker image"
    if docker_problem is None:
        return None
    if spec.local_argv is not None and spec.local_argv(allocate(spec.ports)) is not None:
        return None
    return f"{name}: {docker_problem}"


def start_peer(
    name: str, *, log_dir: Path, backend: str = "auto", timeout: float = 60.0
) -> RunningPeer:
    """Start a peer on free loopback ports and wait until it is ready."""
    spec = _spec(name)
    blocked = spec.blocked()
    if blocked:
        raise PeerBlocked(f"{name}: blocked: {blocked}")
    log_dir.mkdir(parents=True, exist_ok=True)
    ports = allocate(spec.ports)
    env = spec.env(ports) if spec.env else {}
    log_path = log_dir / f"{name}-{secrets.token_hex(3)}.log"
    process: Process
    chosen = backend
    if backend == "auto":
        chosen = (
            "docker" if spec.docker_args is not None and _docker_problem(spec) is None else "local"
        )
    if chosen == "docker":
        problem = _docker_problem(spec)
        if problem:
            raise PeerUnavailable(f"{name}: {problem}")
        assert spec.docker_args is not None
        client = docker_client()
        process = DockerContainer(
            client,
            spec.image,
            spec.docker_args(ports),
            env,
            f"streamconform-{name}-{secrets.token_hex(3)}",
            log_path,
        )
    else:
        argv = spec.local_argv(ports) if spec.local_argv else None
        if not argv or shutil.which(argv[0]) is None:
            raise PeerUnavailable(
                f"{name}: not installed locally and {_docker_problem(spec) or 'no Docker image'}"
            )
        process = LocalProcess(argv, env, log_path)
    peer = RunningPeer(spec, chosen, process, ports, log_path)
    problem = wait_ready(process, spec.ready_log, ports.get(spec.ready_port or ""), timeout)
    if problem is not None:
        tail = " | ".join(process.output().strip().splitlines()[-3:])
        peer.stop()
        raise PeerUnavailable(f"{name} ({chosen}): {problem}; last log lines: {tail or '(none)'}")
    return peer
