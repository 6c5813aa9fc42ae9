"""The `streamconform` command: report, peers, fuzz, replay."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness.errors import CliError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamconform",
        description="Conformance and interoperability harness for streaming protocols.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from harness import serve_cli
    from harness.fuzz import cli as fuzz_cli
    from harness.peers import cli as peers_cli
    from harness.report import cli as report_cli

    report_cli.add_parser(sub)
    peers_cli.add_parser(sub)
    serve_cli.add_parser(sub)
    fuzz_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except CliError as exc:
        print(f"streamconform: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("streamconform: interrupted; what was recorded so far is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
