"""RTSP peers: real RTSP servers, and the RTSP clients `make test` runs the client suites on."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness import FIXTURES
from harness.peers.spec import ClientRun, PeerSpec, Ports, ServerRun


def _mediamtx_binary() -> Path | None:
    """A MediaMTX binary on PATH or in the cache; it cannot be built here (see `blocked`)."""
    found = shutil.which("mediamtx")
    cached = Path.home() / ".cache" / "streamconform" / "mediamtx" / "mediamtx"
    return Path(found) if found else (cached if cached.exists() else None)


def _mediamtx_blocked() -> str | None:
    if _mediamtx_binary() is not None:
        return None
    return (
        "MediaMTX cannot be built here: the Go module proxy refuses github.com/bluenviron/mediamtx "
        "(403 'This module version is not available') and no mediamtx binary is installed; "
        "unblock by allowing the module on the proxy, or put a mediamtx binary on PATH"
    )


def _mediamtx_local(ports: Ports) -> list[str] | None:
    binary = _mediamtx_binary()
    if binary is None:
        return None
    config = FIXTURES / "docker" / "mediamtx" / "mediamtx.yml"
    return [str(binary), str(config)]


def _gst_local(ports: Ports) -> list[str] | None:
    # Debian's python3 with python3-gst-1.0 and gir1.2-gst-rtsp-server-1.0 (not the venv's).
    if not os.path.exists("/usr/lib/python3/dist-packages/gi/repository/GstRtspServer.py") and not (
        Path("/usr/lib/x86_64-linux-gnu/girepository-1.0/GstRtspServer-1.0.typelib").exists()
    ):
        return None
    serve = FIXTURES / "docker" / "gst-rtsp-server" / "serve.py"
    return ["/usr/bin/python3", str(serve), "--port", str(ports["rtsp"])]


PEERS: list[PeerSpec] = [
    PeerSpec(
        name="gst-rtsp-server",
        summary="GStreamer 1.22 RTSP server with a live H.264 + PCMA test pattern at /test",
        roles=("server",),
        protocols=("rtsp",),
        ports=("rtsp",),
        urls={"rtsp": "rtsp://127.0.0.1:{rtsp}/test"},
        docker_args=lambda ports: ["--port", str(ports["rtsp"])],
        local_argv=_gst_local,
        ready_log=r"^ready rtsp://",
        ready_port="rtsp",
    ),
    PeerSpec(
        name="vlc-rtsp",
        summary="VLC 3.0 RTSP server (RTP stream output) looping an H.264 test pattern at /test",
        roles=("server",),
        protocols=("rtsp",),
        ports=("rtsp",),
        urls={"rtsp": "rtsp://127.0.0.1:{rtsp}/test"},
        docker_args=lambda ports: ["rtsp", str(ports["rtsp"])],
        ready_port="rtsp",
        image_of="vlc",
    ),
    PeerSpec(
        name="mediamtx",
        summary="MediaMTX RTSP/RTMP media server (built from its Go module)",
        roles=("server",),
        protocols=("rtsp", "rtmp"),
        ports=("rtsp", "rtp", "rtmp"),
        urls={"rtsp": "rtsp://127.0.0.1:{rtsp}/test", "rtmp": "rtmp://127.0.0.1:{rtmp}/test"},
        docker_args=lambda ports: [],
        local_argv=_mediamtx_local,
        env=lambda ports: {
            "MTX_RTSPADDRESS": f"127.0.0.1:{ports['rtsp']}",
            "MTX_RTPADDRESS": f"127.0.0.1:{ports['rtp']}",
            "MTX_RTCPADDRESS": f"127.0.0.1:{ports['rtp'] + 1}",
            "MTX_RTMPADDRESS": f"127.0.0.1:{ports['rtmp']}",
        },
        ready_port="rtsp",
        blocked=_mediamtx_blocked,
    ),
]


#: server suites `make test` runs against a peer (with fixtures/expectations/<peer>.toml)
SERVER_RUNS: list[ServerRun] = [
    ServerRun("mediamtx", "rtsp"),
    ServerRun("gst-rtsp-server", "rtsp"),
    ServerRun("vlc-rtsp", "rtsp"),
]

#: client suites `make test` runs on a real client (with fixtures/expectations/<name>.toml)
CLIENT_RUNS: list[ClientRun] = [
    ClientRun(
        "ffprobe-tcp",
        "ffprobe -v error -rtsp_transport tcp -timeout 5000000 {url}",
        "rtsp",
        "apt-get install ffmpeg",
    ),
    ClientRun(
        "ffprobe-udp",
        "ffprobe -v error -rtsp_transport udp -timeout 5000000 {url}",
        "rtsp",
        "apt-get install ffmpeg",
    ),
    # rtspsrc plays until its sink has taken 50 buffers, then ends the session itself.
    ClientRun(
        "gst-rtspsrc-tcp",
        "gst-launch-1.0 -q rtspsrc location={url} protocols=tcp ! fakesink num-buffers=50",
        "rtsp",
        "apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good",
    ),
    ClientRun(
        "gst-rtspsrc-udp",
        "gst-launch-1.0 -q rtspsrc location={url} protocols=udp ! fakesink num-buffers=50",
        "rtsp",
        "apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good",
    ),
]
