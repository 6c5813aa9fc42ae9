"""Run nginx in the foreground from a generated configuration, for the nginx peers' runners.

One process, no daemon, no master: the PID the harness holds is nginx's parent (the runner),
and SIGTERM to the runner ends nginx too. The runner prints its ready line once nginx started.
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
from pathlib import Path


def run_nginx(conf_template: str, ready_line: str, **values: object) -> int:
    """Write the configuration (with {tmp} and `values` filled in), run nginx until it ends."""
    with tempfile.TemporaryDirectory(prefix="streamconform-nginx-") as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(conf_template.format(tmp=tmp, **values))
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-e", "stderr"])
        signal.signal(signal.SIGTERM, lambda *_: nginx.terminate())
        print(ready_line, flush=True)
        try:
            return nginx.wait()
        finally:
            if nginx.poll() is None:
                nginx.kill()
