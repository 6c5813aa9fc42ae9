"""`streamconform serve PROTOCOL`: run a reference server in the foreground, e.g. for a client."""

from __future__ import annotations

import argparse
import asyncio
import importlib
from typing import Any

from reference_impl.registry import protocols_with, reference_server


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve", help="run a reference server on 127.0.0.1 until Ctrl-C"
    )
    parser.add_argument("protocol", choices=protocols_with("server"))
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: any free one)")
    parser.add_argument("--fault", action="append", default=[], help="switch on a named fault")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from harness.errors import CliError
    from reference_impl.common.faults import UnknownFault

    module_name, _, attr = str(reference_server(args.protocol)).partition(":")
    server_class = getattr(importlib.import_module(module_name), attr)

    async def serve() -> None:
        server = server_class(args.fault)
        port = await server.start("127.0.0.1", args.port)
        print(f"serving {server.url('127.0.0.1', port)} (Ctrl-C stops)", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.close()

    try:
        asyncio.run(serve())
    except UnknownFault as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}") from None
    return 0
