"""Clients under test: a command line started against the harness's server, or the reference."""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from harness.targets import ClientCommand
from reference_impl.common import observe
from reference_impl.common.watch import Watched
from reference_impl.registry import reference_client

W = TypeVar("W")

STOP_GRACE = 2.0


@dataclass
class ClientRun:
    """A client started by the harness: how it ended, and where its output went."""

    label: str
    log_path: Path | None = None
    returncode: int | None = None
    error: str | None = None
    #: what the reference client's session returned (e.g. the events it parsed)
    result: object = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, timeout: float) -> bool:
        """Wait until the client ends by itself; False if it is still running at the deadline."""
        try:
            await asyncio.wait_for(self.finished.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def output(self, limit: int = 20000) -> str:
        """The tail of what the client printed (commands only)."""
        if self.log_path is None or not self.log_path.exists():
            return self.error or ""
        return self.log_path.read_bytes()[-limit:].decode("utf-8", "replace")


@dataclass(frozen=True)
class ClientUnderTest:
    """Either a command template or the reference client of a protocol, with faults."""

    protocol: str
    command: ClientCommand | None
    faults: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"client:{self.command.template}" if self.command else "reference"

    @asynccontextmanager
    async def run(self, url: str, log_dir: Path) -> AsyncIterator[ClientRun]:
        """Start the client; on exit stop it (by PID, SIGTERM then SIGKILL) if still running."""
        if self.command is None:
            async with _run_reference(self.protocol, url, self.faults) as run:
                yield run
        else:
            async with _run_command(self.command, url, log_dir) as run:
                yield run


@asynccontextmanager
async def _run_reference(
    protocol: str, url: str, faults: tuple[str, ...]
) -> AsyncIterator[ClientRun]:
    spec = reference_client(protocol)
    if spec is None:
        raise RuntimeError(f"no reference client for {protocol} yet")
    module_name, _, attr = spec.partition(":")
    session: Callable[..., Awaitable[object]] = getattr(importlib.import_module(module_name), attr)
    run = ClientRun("reference")

    async def play() -> None:
        try:
            run.result = await session(url, faults=faults)
            run.returncode = 0
        except Exception as exc:  # the reference client's failure is evidence, not a crash
            run.returncode, run.error = 1, f"{type(exc).__name__}: {exc}"
        finally:
            run.finished.set()

    # The scripted server already records this connection; the reference client under test
    # records nothing, so each connection appears once in the evidence.
    quiet = contextvars.copy_context()
    quiet.run(observe.set_observer, None)
    task = asyncio.create_task(play(), context=quiet)
    try:
        yield run
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def _run_command(command: ClientCommand, url: str, log_dir: Path) -> AsyncIterator[ClientRun]:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "client.log"
    run = ClientRun(command.template, log_path)
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command.argv(url, str(log_dir)),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: we can end it and its children
        )

        async def watch() -> None:
            run.returncode = await process.wait()
            run.finished.set()

        watcher = asyncio.create_task(watch())
        try:
            yield run
        finally:
            run.returncode = await _stop(process)
            await asyncio.gather(watcher, return_exceptions=True)


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is not None:
        return process.returncode
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            return await asyncio.wait_for(process.wait(), STOP_GRACE)
        except TimeoutError:
            continue
    return await process.wait()


async def wait_for_client(
    server: Watched[W], condition: Callable[[W], bool], run: ClientRun, timeout: float
) -> bool:
    """Wait until `condition(server)` holds, the client under test exits, or the deadline."""
    watch = asyncio.create_task(server.wait_until(condition, timeout))
    ended = asyncio.create_task(run.wait(timeout))
    try:
        await asyncio.wait({watch, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (watch, ended):
            task.cancel()
        await asyncio.gather(watch, ended, return_exceptions=True)
    me: W = server  # type: ignore[assignment]
    return condition(me)
