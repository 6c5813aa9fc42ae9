"""Peer images, built locally: a Debian bookworm base made with debootstrap, then one per peer.

No registry can be pulled from here, so the base is `debootstrap --variant=minbase` into a
cache folder and `docker import`ed once as streamconform/bookworm:base.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.peers.spec import PeerSpec

BASE_IMAGE = "streamconform/bookworm:base"
MIRROR = "http://deb.debian.org/debian"
CACHE = Path.home() / ".cache" / "streamconform"


class ImageError(RuntimeError):
    """An image could not be made; the message says which step and what to do."""


def _say(message: str) -> None:
    print(f"streamconform peers: {message}", file=sys.stderr, flush=True)


def docker_client(timeout: int = 60) -> Any:
    """A Docker SDK client, or ImageError saying how to get an engine."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except Exception as exc:
        raise ImageError(
            f"no Docker engine answers ({type(exc).__name__}); "
            "start one with `bash .ci/docker.sh` (as root)"
        ) from None


#: image label holding the digest of the build context the image was made from
CONTEXT_LABEL = "streamconform.context"


def image_exists(client: Any, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def context_digest(context: Path) -> str:
    """A digest of every file in a build context, so an image made from older files shows."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def image_is_current(client: Any, spec: PeerSpec) -> bool:
    """True when the peer's image exists and was built from its context as it is now."""
    import docker.errors

    try:
        labels = client.images.get(spec.image).labels or {}
    except docker.errors.ImageNotFound:
        return False
    return bool(labels.get(CONTEXT_LABEL) == context_digest(spec.context))


def ensure_base(client: Any) -> None:
    if image_exists(client, BASE_IMAGE):
        return
    if shutil.which("debootstrap") is None:
        raise ImageError(
            "debootstrap is not installed; run `apt-get install debootstrap` (as root)"
        )
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="rootfs-") as rootfs:
        _say(f"making the Debian bookworm base with debootstrap into {rootfs} (about 30 s) ...")
        log = CACHE / "debootstrap.log"
        with log.open("wb") as out:
            code = subprocess.call(
                ["debootstrap", "--variant=minbase", "bookworm", rootfs, MIRROR],
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=900,
            )
        if code != 0:
            raise ImageError(f"debootstrap failed (exit {code}); see {log}")
        _say("importing it as " + BASE_IMAGE + " ...")
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", "-", BASE_IMAGE],
            stdin=tar.stdout,
            capture_output=True,
            timeout=600,
        )
        tar.wait(60)
        if imported.returncode != 0:
            raise ImageError(
                f"docker import failed: {imported.stderr.decode(errors='replace').strip()}"
            )
    _say(f"base image ready in {time.monotonic() - started:.0f} s")


def build(client: Any, spec: PeerSpec, progress: Callable[[str], None] = _say) -> float:
    """Build the peer's image from fixtures/docker/<peer>/; returns the seconds it took."""
    if not (spec.context / "Dockerfile").exists():
        raise ImageError(f"{spec.name}: no Dockerfile in {spec.context}")
    ensure_base(client)
    started = time.monotonic()
    progress(f"building {spec.image} from {spec.context} ...")
    try:
        for chunk in client.api.build(
            path=str(spec.context),
            tag=spec.image,
            network_mode="host",
            rm=True,
            decode=True,
            labels={CONTEXT_LABEL: context_digest(spec.context)},
        ):
            if "error" in chunk:
                raise ImageError(f"{spec.name}: docker build failed: {chunk['error'].strip()}")
            line = str(chunk.get("stream", "")).strip()
            if line.startswith("Step "):
                progress(line)
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"{spec.name}: docker build failed: {exc}") from None
    seconds = time.monotonic() - started
    progress(f"{spec.image} built in {seconds:.0f} s")
    return seconds
