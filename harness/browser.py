"""A real browser as a client under test: Debian's Chromium, headless, driven by Playwright.

    python -m harness.browser eventsource http://127.0.0.1:PORT/events?retry=400

opens the server's /eventsource.html page, whose EventSource reads the given path, and prints
each event it receives as a JSON line. It ends when the EventSource closes (after a 204, say),
or at --deadline. It uses the system Chromium (never a downloaded one) with the flags that keep
it off the network: only loopback traffic.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def eventsource(url: str, deadline: float) -> int:
    from playwright.sync_api import Error, sync_playwright

    parts = urllib.parse.urlsplit(url)
    source = parts.path + (f"?{parts.query}" if parts.query else "")
    page_url = f"{parts.scheme}://{parts.netloc}/eventsource.html?" + urllib.parse.urlencode(
        {"src": source}
    )
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        except Error as exc:
            print(f"streamconform browser: cannot start {CHROMIUM}: {exc}", file=sys.stderr)
            return 2
        try:
            page = browser.new_page()
            page.goto(page_url, timeout=deadline * 1000)
            seen = 0
            try:
                # Each wait returns as soon as a new event arrived or the source closed.
                while True:
                    page.wait_for_function(
                        f"window.sourceClosed || window.received.length > {seen}",
                        timeout=deadline * 1000,
                        polling=50,  # ms; the default (animation frames) stalls when headless
                    )
                    # One evaluation for both, so an event that lands just before the close
                    # is never left unprinted.
                    closed, received = page.evaluate("[window.sourceClosed, window.received]")
                    for event in received[seen:]:
                        print(json.dumps(event), flush=True)
                    seen = len(received)
                    if closed:
                        break
            except Error:
                pass  # the deadline: report what arrived
            return 0 if seen else 1
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.browser")
    parser.add_argument("mode", choices=["eventsource"])
    parser.add_argument("url")
    parser.add_argument("--deadline", type=float, default=25.0, help="seconds (default 25)")
    args = parser.parse_args(argv)
    return eventsource(args.url, args.deadline)


if __name__ == "__main__":
    sys.exit(main())
