"""How a peer runs: in Docker (host network, loopback only) or as a local process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Protocol

STOP_GRACE = 5.0
POLL = 0.05


class Process(Protocol):
    def alive(self) -> bool: ...
    def output(self) -> str: ...
    def stop(self) -> None: ...


class LocalProcess:
    """A subprocess in its own process group; stopped by its PID, SIGTERM then SIGKILL."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env},
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                return
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(STOP_GRACE)
                return
            except subprocess.TimeoutExpired:
                continue


class DockerContainer:
    """A container on the host network, labelled with our PID so only ours are ever removed."""

    def __init__(
        self,
        client: Any,
        image: str,
        args: list[str],
        env: dict[str, str],
        name: str,
        log_path: Path,
    ) -> None:
        self.log_path = log_path
        self.container = client.containers.run(
            image,
            command=args,
            environment=env,
            network_mode="host",
            detach=True,
            name=name,
            labels={"streamconform.owner": str(os.getpid())},
        )

    def alive(self) -> bool:
        try:
            self.container.reload()
        except Exception:
            return False
        return bool(self.container.status in ("created", "running"))

    def output(self) -> str:
        try:
            data: bytes = self.container.logs()
        except Exception:
            return ""
        return data.decode("utf-8", "replace")

    def stop(self) -> None:
        try:
            self.log_path.write_text(self.output(), encoding="utf-8")
            self.container.stop(timeout=int(STOP_GRACE))
        except Exception:
            pass
        try:
            self.container.remove(force=True)
        except Exception:
            pass


def wait_ready(
    process: Process, ready_log: str | None, port: int | None, timeout: float
) -> str | None:
    """None when ready; else why not (exited, or the deadline passed), with the log's tail."""
    pattern = re.compile(ready_log, re.MULTILINE) if ready_log else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            return "it exited while starting"
        log_ok = pattern is None or bool(pattern.search(process.output()))
        if log_ok and (port is None or _accepts(port)):
            return None
        time.sleep(POLL)
    return f"not ready within {timeout:g} s"


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
