"""The RTSP server session state machine as a table (RFC 2326 Appendix A.2)."""

from __future__ import annotations

import enum


class State(enum.Enum):
    INIT = "Init"
    READY = "Ready"
    PLAYING = "Playing"
    RECORDING = "Recording"


# RFC 2326 Appendix A.2, server state machine: (state, method) -> next state.
# A pair missing from the table is not valid in that state: 455 (§11.3.6).
SERVER_TRANSITIONS: dict[tuple[State, str], State] = {
    (State.INIT, "SETUP"): State.READY,
    (State.INIT, "TEARDOWN"): State.INIT,
    (State.READY, "PLAY"): State.PLAYING,
    (State.READY, "RECORD"): State.RECORDING,
    (State.READY, "SETUP"): State.READY,
    (State.READY, "TEARDOWN"): State.INIT,
    (State.PLAYING, "PLAY"): State.PLAYING,
    (State.PLAYING, "PAUSE"): State.READY,
    (State.PLAYING, "SETUP"): State.PLAYING,
    (State.PLAYING, "TEARDOWN"): State.INIT,
    (State.RECORDING, "RECORD"): State.RECORDING,
    (State.RECORDING, "PAUSE"): State.READY,
    (State.RECORDING, "SETUP"): State.RECORDING,
    (State.RECORDING, "TEARDOWN"): State.INIT,
}

# RFC 2326 Appendix A: these methods do not change the session state.
STATELESS_METHODS = frozenset({"OPTIONS", "DESCRIBE", "ANNOUNCE", "GET_PARAMETER", "SET_PARAMETER"})


def allowed_in(state: State) -> list[str]:
    """Methods valid in a state, for the Allow header of a 455 (RFC 2326 §11.3.6)."""
    return sorted({m for (s, m) in SERVER_TRANSITIONS if s is state} | STATELESS_METHODS)
