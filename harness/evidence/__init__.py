"""Evidence of what crossed the wire in a test: transcripts always, pcapng on failure.

Adapters (reference clients and servers) ask `current()` for the running test's evidence and
open one `ConnectionRecorder` per connection or UDP flow; the plugin sets it around each test.
"""

from harness.evidence.transcript import (
    ConnectionRecorder,
    Frame,
    TestEvidence,
    Transcript,
    current,
    using,
)

__all__ = ["ConnectionRecorder", "Frame", "TestEvidence", "Transcript", "current", "using"]
