"""`streamconform fuzz` and `streamconform replay`."""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import PROJECT_ROOT
from harness.fuzz.campaign import Campaign, Stats, TargetDown
from harness.fuzz.driver import Verdict
from harness.fuzz.findings import FindingStore, load_finding
from harness.targets import ServerTarget, TargetError, parse_server_url, start_reference_server

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)?$")


def parse_duration(text: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; write e.g. 90s, 10m or 1h")
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--target", metavar="URL", help="server to fuzz, e.g. rtsp://127.0.0.1:8554/x"
    )
    group.add_argument("--peer", metavar="NAME", help="start a known real program and fuzz it")
    parser.add_argument(
        "--protocol", help="with --peer: which of the peer's protocols (default: its first)"
    )
    group.add_argument("--reference", metavar="PROTOCOL", help="fuzz the embedded reference server")
    parser.add_argument(
        "--fault", action="append", default=[], help="with --reference: plant a fault"
    )


def add_parser(sub: Any) -> None:
    fuzz = sub.add_parser("fuzz", help="run a fuzzing campaign against a server")
    _add_target_options(fuzz)
    limit = fuzz.add_mutually_exclusive_group()
    limit.add_argument("--duration", type=parse_duration, help="how long, e.g. 10m (default 60s)")
    limit.add_argument("--cases", type=int, help="how many cases")
    fuzz.add_argument("--seed", type=int, default=0, help="cases are a function of seed and index")
    fuzz.add_argument(
        "--workers", type=int, default=4, help="connections in flight at once (default 4)"
    )
    fuzz.add_argument("--out", metavar="DIR", help="campaign directory (default reports/fuzz/<id>)")
    fuzz.set_defaults(run=run_fuzz)
    replay = sub.add_parser("replay", help="replay a finding against a server")
    replay.add_argument("finding", type=Path, help="a finding-*.json file of a campaign")
    _add_target_options(replay)
    replay.add_argument("--original", action="store_true", help="replay the unminimized case")
    replay.set_defaults(run=run_replay)


@contextmanager
def _server(
    args: argparse.Namespace, default_url: str | None = None
) -> Iterator[tuple[ServerTarget, Any]]:
    from harness.errors import CliError

    if args.reference:
        try:
            reference = start_reference_server(args.reference, tuple(args.fault))
        except (TargetError, ValueError) as exc:
            raise CliError(str(exc)) from None
        try:
            yield reference.target, None
        finally:
            reference.close()
        return
    if args.peer:
        from harness.peers import PeerUnavailable, start_peer

        log_dir = PROJECT_ROOT / "reports" / "fuzz" / "peers"
        try:
            peer = start_peer(args.peer, log_dir=log_dir)
        except PeerUnavailable as exc:
            raise CliError(str(exc)) from None
        try:
            yield (
                parse_server_url(
                    peer.url(_peer_protocol(args, peer)), kind="peer", label=f"peer:{args.peer}"
                ),
                peer,
            )
        finally:
            peer.stop()
        return
    url = args.target or default_url
    if not url:
        raise CliError("give --target URL, --peer NAME or --reference PROTOCOL")
    try:
        yield parse_server_url(url), None
    except TargetError as exc:
        raise CliError(str(exc)) from None


def _peer_protocol(args: argparse.Namespace, peer: Any) -> str:
    """The protocol to fuzz on a peer: --protocol, or the peer's only (or first) one."""
    protocols: tuple[str, ...] = peer.spec.protocols
    chosen: str | None = getattr(args, "protocol", None)
    if chosen is None:
        return protocols[0]
    if chosen not in protocols:
        from harness.errors import CliError

        raise CliError(
            f"--protocol {chosen}: peer {peer.name} serves {', '.join(protocols)}; pick one"
        )
    return chosen


def _progress(stats: Stats) -> None:
    end = "\r" if sys.stderr.isatty() else "\n"
    print(stats.line(), end=end, file=sys.stderr, flush=True)


def run_fuzz(args: argparse.Namespace) -> int:
    from harness.errors import CliError

    duration = args.duration if args.duration is not None or args.cases else 60.0
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with _server(args) as (target, peer):
        name = args.peer or args.reference or target.host
        out = (
            Path(args.out)
            if args.out
            else PROJECT_ROOT / "reports" / "fuzz" / f"{stamp}-{target.protocol}-{name}"
        )
        store = FindingStore(out)

        def restart() -> ServerTarget:
            from harness.peers import start_peer

            nonlocal peer
            peer.stop()
            peer = start_peer(args.peer, log_dir=out / "peers")
            return parse_server_url(
                peer.url(_peer_protocol(args, peer)), kind="peer", label=f"peer:{args.peer}"
            )

        try:
            campaign = Campaign(
                target,
                store,
                seed=args.seed,
                duration=duration,
                max_cases=args.cases,
                workers=max(1, args.workers),
                restart=restart if peer is not None else None,
                alive=(lambda: bool(peer.alive())) if peer is not None else None,
            )
            print(f"fuzzing {target.url} (seed {args.seed}); findings go to {out}", file=sys.stderr)
            stats = campaign.run(_progress)
        except (ValueError, TargetDown) as exc:
            raise CliError(str(exc)) from None
    print(file=sys.stderr)
    print(f"{stats.line()}\nstopped: {stats.stopped_because}")
    from harness.report import render_report

    paths = render_report(out)
    print(f"report: {paths.html}")
    for finding in store.signatures.values():
        print(
            f"finding {finding.signature}: {finding.detail}\n  replay: streamconform replay "
            f"{store.replay_path(finding)} --target URL"
        )
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from harness.errors import CliError

    try:
        finding = load_finding(args.finding)
    except (OSError, ValueError, TypeError) as exc:
        raise CliError(f"{args.finding}: cannot read the finding ({exc})") from None
    payload = bytes.fromhex(
        finding.payload_hex if args.original or not finding.minimized_hex else finding.minimized_hex
    )
    with _server(args, default_url=finding.target) as (target, _peer):
        store = FindingStore(args.finding.parent)
        try:
            campaign = Campaign(target, store)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        try:
            verdict, _ = campaign.attempt(finding.state, payload=payload)
        except TargetDown as exc:
            # The target went down after the case and stayed down: that reproduces an
            # unresponsive or crash finding; for any other finding it is a new symptom.
            kind = finding.oracle if finding.oracle in ("crash", "unresponsive") else "unresponsive"
            same = kind == finding.oracle
            verdict = Verdict(kind, str(exc), finding.requirement if same else None)
    reproduced = verdict.oracle == finding.oracle and verdict.requirement == finding.requirement
    print(
        f"case ({len(payload)} bytes) in state {finding.state} against {target.url}: "
        f"{verdict.oracle or 'no oracle fired'} {verdict.detail}".rstrip()
    )
    print("reproduced" if reproduced else "not reproduced")
    return 1 if reproduced else 0
