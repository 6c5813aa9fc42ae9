"""The real programs the harness knows, one module per protocol family.

Each module has `PEERS: list[PeerSpec]` (programs the harness starts), and may have
`SERVER_RUNS: list[ServerRun]` and `CLIENT_RUNS: list[ClientRun]` (what `make test` runs on
them). A new module here is picked up by the registry; nothing else needs editing.
"""
