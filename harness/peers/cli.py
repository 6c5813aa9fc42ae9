"""`streamconform peers list | build [NAME ...] | up NAME`."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from harness import PROJECT_ROOT


def add_parser(sub: Any) -> None:
    peers = sub.add_parser("peers", help="real programs: list, build images, run one")
    inner = peers.add_subparsers(dest="peers_command", required=True, metavar="ACTION")
    inner.add_parser(
        "list", help="known peers, their roles, and whether they can start here"
    ).set_defaults(run=run_list)
    build = inner.add_parser(
        "build", help="build Docker images (all buildable peers if none named)"
    )
    build.add_argument("names", nargs="*", metavar="NAME")
    build.set_defaults(run=run_build)
    up = inner.add_parser("up", help="start a peer, print its URLs, stop it on Ctrl-C")
    up.add_argument("name", metavar="NAME")
    up.add_argument("--backend", choices=("auto", "docker", "local"), default="auto")
    up.set_defaults(run=run_up)


def run_list(args: argparse.Namespace) -> int:
    from harness.peers import all_specs, availability

    for spec in all_specs():
        problem = availability(spec.name)
        state = "ready" if problem is None else f"unavailable: {problem}"
        print(f"{spec.name:18} {'/'.join(spec.roles):8} {','.join(spec.protocols):10} {state}")
        print(f"{'':18} {spec.summary}")
    return 0


def run_build(args: argparse.Namespace) -> int:
    from harness.errors import CliError
    from harness.peers import UnknownPeer, all_specs, get_spec
    from harness.peers.images import ImageError, build, docker_client

    try:
        specs = [get_spec(n) for n in args.names] if args.names else all_specs()
    except KeyError as exc:
        raise CliError(str(exc.args[0])) from None
    except UnknownPeer as exc:
        raise CliError(str(exc)) from None
    try:
        client = docker_client()
        built: set[str] = set()
        for spec in specs:
            blocked = spec.blocked()
            if blocked and not args.names:
                print(f"skipping {spec.name}: blocked: {blocked}")
                continue
            if blocked:
                raise CliError(f"{spec.name}: blocked: {blocked}")
            if not (spec.context / "Dockerfile").exists():
                print(f"skipping {spec.name}: no Dockerfile (runs locally only)")
                continue
            if spec.image in built:
                continue  # several peers run one image (image_of): it is built once
            build(client, spec)
            built.add(spec.image)
    except ImageError as exc:
        raise CliError(str(exc)) from None
    return 0


def run_up(args: argparse.Namespace) -> int:
    from harness.errors import CliError
    from harness.peers import PeerUnavailable, start_peer

    try:
        peer = start_peer(
            args.name, log_dir=PROJECT_ROOT / "reports" / "peers", backend=args.backend
        )
    except PeerUnavailable as exc:
        raise CliError(str(exc)) from None
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        for protocol in peer.spec.protocols:
            print(f"{protocol}: {peer.url(protocol)}")
        print(
            f"{peer.name} runs ({peer.backend}); log: {peer.log_path}; Ctrl-C stops it", flush=True
        )
        while not done.wait(0.5):
            if not peer.alive():
                print(f"{peer.name} exited; see {peer.log_path}")
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        peer.stop()
    return 0
