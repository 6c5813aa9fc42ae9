"""PNA peers: the real pnm clients the client suites run on (no open-source PNA server exists)."""

from __future__ import annotations

from harness.peers.spec import ClientRun, PeerSpec, ServerRun

PEERS: list[PeerSpec] = []
SERVER_RUNS: list[ServerRun] = []

#: client suites `make test` runs on a real client (with fixtures/expectations/<name>.toml)
CLIENT_RUNS: list[ClientRun] = [
    # -dumpstream writes what arrives to the evidence folder; -endpos bounds it (MPlayer's dump
    # loop does not stop at the end of a pnm stream by itself).
    ClientRun(
        "mplayer-pnm",
        "mplayer -really-quiet -noconsolecontrols -nolirc -dumpstream "
        "-dumpfile {dir}/mplayer.dump -endpos 60kb {url}",
        "pna",
        "apt-get install mplayer",
    ),
    # xine's text-mode player; it plays until the harness stops it.
    ClientRun(
        "xine-pnm", "aaxine -driver stdout -A none -N {url}", "pna", "apt-get install xine-console"
    ),
]
