"""Fuzzing throughput: streamconform's cases per second against boofuzz on the same target.

    .venv/bin/python bench/fuzz_throughput.py [--peer gst-rtsp-server] [--cases 2000]

Both fuzzers run in this process against the same server, one after the other, so the machine
and the target are the same; the ratio is what matters, not the absolute rates. boofuzz runs
with its web UI, console logging and sleeps off, so it is measured at its fastest.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.fuzz.campaign import Campaign
from harness.fuzz.findings import FindingStore
from harness.targets import ServerTarget, parse_server_url


def ours(target: ServerTarget, cases: int, workers: int) -> float:
    store = FindingStore(Path(tempfile.mkdtemp(prefix="bench-ours-")))
    stats = Campaign(target, store, seed=7, max_cases=cases, workers=workers).run()
    return stats.rate  # cases per second of the case loop (minimization comes after it)


def boofuzz_rate(target: ServerTarget, cases: int) -> float:
    import boofuzz as bf

    logging.getLogger("boofuzz").setLevel(logging.ERROR)
    db = Path(tempfile.mkdtemp(prefix="bench-boofuzz-")) / "run.db"
    session = bf.Session(
        target=bf.Target(connection=bf.TCPSocketConnection(target.host, target.port)),
        web_port=None,
        fuzz_loggers=[],
        sleep_time=0.0,
        index_end=cases,
        db_filename=str(db),
        receive_data_after_fuzz=True,
    )
    name = f"OPTIONS {target.url}"  # boofuzz keeps requests in a global registry by name
    bf.s_initialize(name)
    bf.s_string("OPTIONS", name="method")
    bf.s_delim(" ", name="sp1")
    bf.s_string(target.url, name="uri")
    bf.s_static(" RTSP/1.0\r\nCSeq: ")
    bf.s_string("1", name="cseq")
    bf.s_static("\r\n\r\n")
    session.connect(bf.s_get(name))
    started = time.monotonic()
    session.fuzz()
    done = session.num_cases_actually_fuzzed or cases
    return done / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", help="also measure against this peer (e.g. gst-rtsp-server)")
    parser.add_argument("--cases", type=int, default=2000, help="cases per fuzzer (default 2000)")
    parser.add_argument(
        "--workers", type=int, default=8, help="streamconform's workers (default 8)"
    )
    args = parser.parse_args()
    targets: list[tuple[str, ServerTarget]] = []
    # The reference server runs in its own process, as a real server would: the fuzzers then
    # share no interpreter with it.
    reference = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", "rtsp"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert reference.stdout is not None
    line = reference.stdout.readline()  # "serving rtsp://127.0.0.1:PORT/test (Ctrl-C stops)"
    targets.append(("reference RTSP server", parse_server_url(line.split()[1])))
    peer = None
    if args.peer:
        from harness.peers import PeerUnavailable, start_peer

        try:
            peer = start_peer(args.peer, log_dir=Path(tempfile.mkdtemp(prefix="bench-peer-")))
            targets.append((args.peer, parse_server_url(peer.url("rtsp"))))
        except PeerUnavailable as exc:
            print(f"skipping {args.peer}: {exc}", file=sys.stderr)
    try:
        for label, target in targets:
            a = ours(target, args.cases, args.workers)
            b = boofuzz_rate(target, args.cases)
            print(f"{label}: streamconform {a:.0f} cases/s, boofuzz {b:.0f} cases/s", end="")
            print(f", ratio {a / b:.1f}x")
    finally:
        reference.terminate()
        reference.wait(10)
        if peer is not None:
            peer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
