"""What a run tests: a server URL, a client command, a named peer, or the embedded references."""

from __future__ import annotations

import asyncio
import importlib
import shlex
import shutil
import socket
import threading
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from reference_impl.registry import reference_server

#: URL scheme -> (protocol family, default port, transport used for the reachability check)
SCHEMES: dict[str, tuple[str, int, str]] = {
    "rtsp": ("rtsp", 554, "tcp"),
    "rtmp": ("rtmp", 1935, "tcp"),
    "mms": ("mms", 1755, "tcp"),
    "mmst": ("mms", 1755, "tcp"),
    "mmsu": ("mms", 1755, "udp"),
    "mmsh": ("mms", 80, "tcp"),
    "pnm": ("pna", 7070, "tcp"),
    "http": ("http", 80, "tcp"),
}


class TargetError(ValueError):
    """A target the user gave cannot be used; the message says what to do instead."""


@dataclass(frozen=True)
class ServerTarget:
    """A server to test: where it is, what it speaks, and what it is."""

    url: str
    scheme: str
    protocol: str
    host: str
    port: int
    path: str
    kind: str  # reference, server, peer
    label: str  # what the report calls it: "reference", the URL, or "peer:NAME"


def parse_server_url(url: str, kind: str = "server", label: str | None = None) -> ServerTarget:
    parsed = urllib.parse.urlsplit(url)
    scheme = parsed.scheme.lower()
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise TargetError(
            f"--target {url!r}: unknown scheme {scheme or '(none)'!r}; use one of {known}"
        )
    try:
        port = parsed.port
    except ValueError:
        raise TargetError(f"--target {url!r}: the port is not a number from 1 to 65535") from None
    if not parsed.hostname:
        raise TargetError(f"--target {url!r}: no host; write it as {scheme}://HOST:PORT/path")
    protocol, default_port, _ = SCHEMES[scheme]
    return ServerTarget(
        url=url,
        scheme=scheme,
        protocol=protocol,
        host=parsed.hostname,
        port=port or default_port,
        path=parsed.path or "/",
        kind=kind,
        label=label or url,
    )


def check_reachable(target: ServerTarget, timeout: float = 3.0) -> None:
    """Fail early, in one line, when nothing listens where the user pointed us."""
    if SCHEMES[target.scheme][2] != "tcp":
        return
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout):
            return
    except ConnectionRefusedError:
        reason = "connection refused"
    except TimeoutError:
        reason = f"no answer within {timeout:g} s"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    raise TargetError(
        f"nothing answers at {target.host}:{target.port} ({reason}); "
        f"start the server under test or correct --target {target.url}"
    )


@dataclass(frozen=True)
class ClientCommand:
    """A client under test: a command line with `{url}` where the harness's server URL goes."""

    template: str

    def argv(self, url: str, directory: str = ".") -> list[str]:
        """The command line: `{url}` is the server's URL, `{dir}` the run's evidence folder."""
        return [
            part.replace("{url}", url).replace("{dir}", directory)
            for part in shlex.split(self.template)
        ]


def parse_client_command(template: str) -> ClientCommand:
    try:
        parts = shlex.split(template)
    except ValueError as exc:
        raise TargetError(
            f"--target-client {template!r}: cannot split it into words ({exc})"
        ) from None
    if not parts:
        raise TargetError(
            "--target-client is empty; give a command such as 'ffmpeg -i {url} -f null -'"
        )
    if not any("{url}" in p for p in parts):
        raise TargetError(
            f"--target-client {template!r} has no {{url}}; write where the server URL goes, "
            "e.g. 'ffprobe {url}'"
        )
    if shutil.which(parts[0]) is None:
        raise TargetError(
            f"--target-client: cannot start {parts[0]!r}: not found on PATH; "
            "install it or give its full path"
        )
    return ClientCommand(template)


class ThreadedServer:
    """Runs an asyncio server in a daemon thread, so suites can share it across tests."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro_factory: Callable[[], Awaitable[object]], timeout: float = 10.0) -> object:
        """Run a coroutine on the server's loop and wait for its result."""

        async def wrapper() -> object:
            return await coro_factory()

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def close(self, timeout: float = 5.0) -> None:
        if self.loop.is_closed():
            return

        async def shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self.loop.close()


@dataclass
class EmbeddedReference:
    """A reference server running in this process, and how to stop it."""

    target: ServerTarget
    close: Callable[[], None]


def start_reference_server(protocol: str, faults: tuple[str, ...]) -> EmbeddedReference:
    """Start the protocol's reference server on an ephemeral loopback port, in its own thread.

    Each reference server module has `ReferenceServer(faults)` with `async start(host, port)
    -> port`, `url(host, port)` and `async close()`.
    """
    spec = reference_server(protocol)
    if spec is None:
        raise TargetError(f"no embedded reference server for {protocol} yet")
    module_name, _, attr = spec.partition(":")
    server_class = getattr(importlib.import_module(module_name), attr)
    thread = ThreadedServer(f"reference-{protocol}")
    holder: dict[str, Any] = {}

    async def start() -> int:
        holder["server"] = server_class(faults)
        port: int = await holder["server"].start("127.0.0.1", 0)
        return port

    port = int(str(thread.run(start)))
    url = holder["server"].url("127.0.0.1", port)

    def close() -> None:
        try:
            thread.run(lambda: holder["server"].close())
        finally:
            thread.close()

    target = parse_server_url(url, kind="reference", label="reference")
    return EmbeddedReference(target, close)
