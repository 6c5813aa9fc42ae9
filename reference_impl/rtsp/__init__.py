"""RTSP 1.0 (RFC 2326): sans-IO core, reference server and reference client."""
