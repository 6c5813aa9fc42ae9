"""RTMP peers: nginx-rtmp as a server, and the real clients the client suites run on."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from harness import FIXTURES
from harness.peers.spec import ClientRun, PeerSpec, Ports, ServerRun

_PYTHON = str(Path(sys.executable))
_NGINX_RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")


def _nginx_rtmp(ports: Ports) -> list[str] | None:
    if shutil.which("nginx") is None or not _NGINX_RTMP_MODULE.exists():
        return None
    run = FIXTURES / "docker" / "nginx-rtmp" / "run.py"
    return [_PYTHON, str(run), "--port", str(ports["rtmp"])]


_NMS = FIXTURES / "docker" / "node-media-server"


def _node_media_server(ports: Ports) -> list[str] | None:
    if shutil.which("node") is None or not (_NMS / "node_modules" / "node-media-server").exists():
        return None
    return ["node", str(_NMS / "serve.js"), str(ports["rtmp"])]


PEERS: list[PeerSpec] = [
    PeerSpec(
        name="nginx-rtmp",
        summary="nginx 1.22 with Debian's RTMP module 1.2.2, live application `live`",
        roles=("server",),
        protocols=("rtmp",),
        ports=("rtmp",),
        urls={"rtmp": "rtmp://127.0.0.1:{rtmp}/live/stream"},
        local_argv=_nginx_rtmp,
        ready_log=r"^ready rtmp://",
        ready_port="rtmp",
    ),
    PeerSpec(
        name="node-media-server",
        summary="node-media-server 2.7 (npm), live RTMP, pinned to 127.0.0.1 by its runner",
        roles=("server",),
        protocols=("rtmp",),
        ports=("rtmp",),
        urls={"rtmp": "rtmp://127.0.0.1:{rtmp}/live/stream"},
        local_argv=_node_media_server,
        ready_log=r"^ready rtmp://",
        ready_port="rtmp",
    ),
]

#: server suites `make test` runs against a peer (with fixtures/expectations/<peer>.toml)
SERVER_RUNS: list[ServerRun] = [
    ServerRun("nginx-rtmp", "rtmp"),
    ServerRun("node-media-server", "rtmp"),
]

_X264 = "-c:v libx264 -preset ultrafast -tune zerolatency -g 25"

#: client suites `make test` runs on a real client (with fixtures/expectations/<name>.toml)
CLIENT_RUNS: list[ClientRun] = [
    ClientRun(
        "ffmpeg-rtmp-play",
        "ffmpeg -v error -rw_timeout 5000000 -i {url} -t 2 -f null -",
        "rtmp",
        "apt-get install ffmpeg",
    ),
    ClientRun(
        "ffmpeg-rtmp-publish",
        "ffmpeg -v error -re -f lavfi -i testsrc=size=160x120:rate=25 -f lavfi -i sine "
        f"-t 3 {_X264} -c:a aac -f flv {{url}}",
        "rtmp",
        "apt-get install ffmpeg",
    ),
    ClientRun(
        "rtmpdump",
        "rtmpdump -q --live -r {url} -o /dev/null --stop 2",
        "rtmp",
        "apt-get install rtmpdump",
    ),
    ClientRun(
        "gst-rtmp2src",
        "gst-launch-1.0 -q rtmp2src location={url} ! fakesink num-buffers=300",
        "rtmp",
        "apt-get install gstreamer1.0-plugins-bad",
    ),
    ClientRun(
        "gst-rtmp2sink",
        "gst-launch-1.0 -q videotestsrc num-buffers=75 ! video/x-raw,width=160,height=120 "
        "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! h264parse "
        "! flvmux streamable=true ! rtmp2sink location={url}",
        "rtmp",
        "apt-get install gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly",
    ),
    ClientRun(
        "curl-librtmp",
        "curl -sS --max-time 4 -o /dev/null {url}",
        "rtmp",
        "apt-get install curl",
    ),
]
