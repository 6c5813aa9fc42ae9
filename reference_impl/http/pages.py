"""A page for browsers: an EventSource whose events, errors and state the page keeps."""

from __future__ import annotations

import html
import json


def eventsource_page(src: str) -> str:
    """HTML that opens EventSource(src) and records what it sees in `window.received`."""
    source = json.dumps(src)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>streamconform EventSource {html.escape(src)}</title></head>
<body><pre id="log"></pre><script>
window.received = [];
window.opens = 0;
window.sourceClosed = false;  // not window.closed: that one is the window's own
const es = new EventSource({source});
es.onopen = () => {{ window.opens += 1; }};
const keep = (e) => {{
  window.received.push({{data: e.data, lastEventId: e.lastEventId, type: e.type}});
  document.getElementById("log").textContent += e.lastEventId + " " + e.data + "\\n";
}};
es.onmessage = keep;
es.addEventListener("custom", keep);  // the one typed event the suites send
es.onerror = () => {{ if (es.readyState === EventSource.CLOSED) window.sourceClosed = true; }};
</script></body></html>
"""
