"""HTTP streaming peers: the real clients `make test` runs the client suites on."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from harness import FIXTURES
from harness.peers.spec import ClientRun, PeerSpec, Ports, ServerRun

_PYTHON = str(Path(sys.executable))


def _nginx_proxy(accel_off: bool) -> object:
    def argv(ports: Ports) -> list[str] | None:
        if shutil.which("nginx") is None:
            return None
        run = FIXTURES / "docker" / "nginx-proxy" / "run.py"
        args = [_PYTHON, str(run), "--port", str(ports["http"]), "--upstream", str(ports["up"])]
        return args + (["--accel-off"] if accel_off else [])

    return argv


def _icecast(ports: Ports) -> list[str] | None:
    if shutil.which("icecast2") is None or shutil.which("ffmpeg") is None:
        return None
    run = FIXTURES / "docker" / "icecast" / "run.py"
    return [_PYTHON, str(run), "--port", str(ports["http"])]


PEERS: list[PeerSpec] = [
    PeerSpec(
        name="vlc-http",
        summary="VLC 3.0 HTTP stream output looping an H.264 test pattern as MPEG-TS",
        roles=("server",),
        protocols=("http",),
        ports=("http",),
        urls={"http": "http://127.0.0.1:{http}/stream.ts"},
        docker_args=lambda ports: ["http", str(ports["http"])],
        ready_port="http",
        image_of="vlc",
    ),
    PeerSpec(
        name="icecast",
        summary="Icecast 2.4 with ffmpeg as its source: a live MP3 stream at /live.mp3",
        roles=("server",),
        protocols=("http",),
        ports=("http",),
        urls={"http": "http://127.0.0.1:{http}/live.mp3"},
        local_argv=_icecast,
        ready_log=r"^ready http://",
        ready_port="http",
    ),
    PeerSpec(
        name="nginx-proxy",
        summary="nginx 1.22 reverse proxy, default buffering, in front of the reference server",
        roles=("server",),
        protocols=("http",),
        ports=("http", "up"),
        urls={"http": "http://127.0.0.1:{http}/events"},
        local_argv=_nginx_proxy(accel_off=False),  # type: ignore[arg-type]
        ready_log=r"^ready http://",
        ready_port="http",
    ),
    PeerSpec(
        name="nginx-proxy-xaccel",
        summary="the same nginx proxy; the upstream sends X-Accel-Buffering: no on streams",
        roles=("server",),
        protocols=("http",),
        ports=("http", "up"),
        urls={"http": "http://127.0.0.1:{http}/events"},
        local_argv=_nginx_proxy(accel_off=True),  # type: ignore[arg-type]
        ready_log=r"^ready http://",
        ready_port="http",
    ),
]

#: server suites `make test` runs against a peer (with fixtures/expectations/<peer>.toml)
SERVER_RUNS: list[ServerRun] = [
    ServerRun("nginx-proxy", "http"),
    ServerRun("nginx-proxy-xaccel", "http"),
    ServerRun("icecast", "http"),
    ServerRun("vlc-http", "http"),
]

#: client suites `make test` runs on a real client (with fixtures/expectations/<name>.toml)
CLIENT_RUNS: list[ClientRun] = [
    # Debian's Chromium, headless, through Playwright: a real EventSource.
    ClientRun(
        "chromium-eventsource",
        f"{_PYTHON} -m harness.browser eventsource {{url}}",
        "http",
        "apt-get install chromium; pip install playwright",
    ),
    # curl streams a response as it comes (-N) but is no EventSource: it never reconnects.
    ClientRun("curl", "curl -sSN --max-time 8 {url}", "http", "apt-get install curl"),
    # ffmpeg and GStreamer read streamed HTTP (their interop cells); neither is an EventSource.
    ClientRun(
        "ffmpeg-http",
        "ffmpeg -v error -rw_timeout 5000000 -i {url} -t 3 -f null -",
        "http",
        "apt-get install ffmpeg",
    ),
    ClientRun(
        "gst-souphttpsrc",
        "gst-launch-1.0 -q souphttpsrc location={url} is-live=true ! fakesink",
        "http",
        "apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good",
    ),
]
