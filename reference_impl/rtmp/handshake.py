"""The RTMP handshake, sans-IO: C0 C1 C2 and S0 S1 S2, plain or with digests.

The plain handshake is RTMP 1.0 (Adobe, Dec 2012) §5.2: C0/S0 carry the version (§5.2.2),
C1/S1 a time, four zero bytes and 1528 random bytes (§5.2.3), C2/S2 echo the peer's packet
with the time it was read (§5.2.4); the order of the exchange is §5.2.1 and §5.2.5.

The digest handshake is the de facto one of Flash Player 9+, ffmpeg and nginx-rtmp: C1/S1
carry a version in bytes 4 to 7 and an HMAC-SHA256 digest at an offset derived from the packet
itself (base 8 or base 772); C2/S2 end in an HMAC keyed by an HMAC of the peer's digest.

No sockets, clocks or randomness are read here: the caller passes time and random bytes in,
feeds received bytes to `receive_data`, drains `next_event` and sends `data_to_send` (h11
style). Deviations of the peer come out as `Violation` events; the handshake still completes.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections import deque
from dataclasses import dataclass, replace

from reference_impl.common.events import Event, NeedData, Violation

RTMP_VERSION = 3
PACKET_SIZE = 1536
#: C1/S1: time (4) and zero or version (4), then the random bytes
RANDOM_SIZE = PACKET_SIZE - 8
DIGEST_SIZE = 32
#: the part of a digest C2/S2 that is random; the last 32 bytes are its digest
RESPONSE_RANDOM_SIZE = PACKET_SIZE - DIGEST_SIZE
#: random bytes one side of the handshake consumes at most: C1/S1, then a digest C2/S2
RANDOM_NEEDED = RANDOM_SIZE + RESPONSE_RANDOM_SIZE
#: C0 + C1 + C2 (or S0 + S1 + S2): all a peer sends before its chunk stream
HANDSHAKE_SIZE = 1 + 2 * PACKET_SIZE

_KEY_TAIL = bytes.fromhex("F0EEC24A8068BEE82E00D0D1029E7E576EEC5D2D29806FAB93B8E636CFEB31AE")
FMS_KEY = b"Genuine Adobe Flash Media Server 001" + _KEY_TAIL
FP_KEY = b"Genuine Adobe Flash Player 001" + _KEY_TAIL
FMS_PARTIAL = FMS_KEY[:36]
FP_PARTIAL = FP_KEY[:30]

#: bytes 4 to 7 of a digest C1 (Flash Player 9.0.124.2) and a digest S1 (FMS 4.5.0.1)
CLIENT_VERSION = bytes([0x80, 0x00, 0x07, 0x02])
SERVER_VERSION = bytes([0x04, 0x05, 0x00, 0x01])
_ZERO = bytes(4)
#: where the four bytes that place the digest start, per scheme
_SCHEME_BASES = (8, 772)
#: keeps the 32 digest bytes inside the 764-byte half that starts at the base (8..771 or
#: 772..1535), after the four bytes that place it
_OFFSET_MODULUS = 728

REQUIREMENT_IDS = frozenset(
    {
        "RTMP-HS-VERSION",
        "RTMP-HS-ECHO",
        "RTMP-HS-ECHO-TIME",
        "RTMP-HS-ZERO",
        "RTMP-HS-DIGEST",
        "RTMP-HS-RESPONSE-DIGEST",
    }
)
FAULT_NAMES = frozenset(
    {
        "hs_bad_version",
        "hs_s2_not_echo",
        "hs_c2_not_echo",
        "hs_bad_s1_digest",
        "hs_bad_s2_digest",
        "hs_bad_c2_digest",
    }
)
#: the version byte a peer with the hs_bad_version fault sends
_BAD_VERSION = 6


@dataclass(frozen=True)
class HandshakeComplete(Event):
    """The handshake is done; `leftover` is the start of the peer's chunk stream."""

    #: True when the response packet (C2/S2) is derived from digests, not an echo
    digest: bool
    #: the scheme (0: base 8, 1: base 772) at which the peer's C1/S1 digest verified, or None
    scheme: int | None
    #: bytes 4 to 7 of the peer's C1/S1: zero (plain) or its version (digest)
    peer_version: bytes
    #: bytes received after the peer's last handshake packet
    leftover: bytes


# -- packets ------------------------------------------------------------------------------------


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _u32(value: int) -> bytes:
    # The time fields wrap like RTMP timestamps do (§5.2.3 says nothing else).
    return struct.pack(">I", value & 0xFFFFFFFF)


def _flip(data: bytes) -> bytes:
    """Every bit inverted: what a fault does to bytes that must match."""
    return bytes(b ^ 0xFF for b in data)


def _check_size(what: str, data: bytes, size: int) -> None:
    if len(data) != size:
        raise ValueError(f"{what} must be {size} bytes, not {len(data)}")


def digest_offset(packet: bytes, scheme: int) -> int:
    """Where the 32-byte digest of a C1/S1 sits under `scheme` (0: base 8, 1: base 772)."""
    if scheme not in (0, 1):
        raise ValueError(f"scheme must be 0 or 1, not {scheme}")
    _check_size("a C1/S1", packet, PACKET_SIZE)
    base = _SCHEME_BASES[scheme]
    return sum(packet[base : base + 4]) % _OFFSET_MODULUS + base + 4


def _digest_at(packet: bytes, key: bytes, offset: int) -> bytes:
    """The digest of `packet` with its 32 bytes at `offset` left out."""
    return _hmac(key, packet[:offset] + packet[offset + DIGEST_SIZE :])


def sign(packet: bytes, key: bytes, scheme: int) -> bytes:
    """`packet` with its digest under `scheme` and `key` written in place."""
    offset = digest_offset(packet, scheme)
    digest = _digest_at(packet, key, offset)
    return packet[:offset] + digest + packet[offset + DIGEST_SIZE :]


def find_digest(packet: bytes, key: bytes) -> tuple[int, bytes] | None:
    """(scheme, digest) of the first scheme whose digest verifies with `key`, else None."""
    if len(packet) != PACKET_SIZE:
        return None
    for scheme in (0, 1):
        offset = digest_offset(packet, scheme)
        found = packet[offset : offset + DIGEST_SIZE]
        if hmac.compare_digest(found, _digest_at(packet, key, offset)):
            return scheme, found
    return None


def _make_first(
    time_ms: int, random: bytes, version: bytes, key: bytes, *, digest: bool, scheme: int
) -> bytes:
    _check_size("random", random, RANDOM_SIZE)
    packet = _u32(time_ms) + (version if digest else _ZERO) + random
    return sign(packet, key, scheme) if digest else packet


def make_c1(time_ms: int, random: bytes, *, digest: bool, scheme: int = 0) -> bytes:
    """C1: time, zero (or the player version, signed with FP_PARTIAL), 1528 random bytes."""
    return _make_first(time_ms, random, CLIENT_VERSION, FP_PARTIAL, digest=digest, scheme=scheme)


def make_s1(time_ms: int, random: bytes, *, digest: bool, scheme: int = 0) -> bytes:
    """S1: time, zero (or the server version, signed with FMS_PARTIAL), 1528 random bytes."""
    return _make_first(time_ms, random, SERVER_VERSION, FMS_PARTIAL, digest=digest, scheme=scheme)


def make_echo(peer_packet: bytes, time2_ms: int) -> bytes:
    """A plain C2/S2: the peer's time, the time its packet was read, its random bytes (§5.2.4)."""
    _check_size("the peer's C1/S1", peer_packet, PACKET_SIZE)
    return peer_packet[:4] + _u32(time2_ms) + peer_packet[8:]


def _response_digest(body: bytes, peer_digest: bytes, full_key: bytes) -> bytes:
    return _hmac(_hmac(full_key, peer_digest), body)


def make_digest_response(peer_digest: bytes, full_key: bytes, random: bytes) -> bytes:
    """A digest S2 (FMS_KEY, C1's digest) or C2 (FP_KEY, S1's digest): random + its HMAC."""
    _check_size("random", random, RESPONSE_RANDOM_SIZE)
    return random + _response_digest(random, peer_digest, full_key)


def verify_digest_response(packet: bytes, our_digest: bytes, full_key: bytes) -> bool:
    """Whether a C2/S2 ends in the HMAC derived from our C1/S1 digest."""
    if len(packet) != PACKET_SIZE:
        return False
    body, found = packet[:RESPONSE_RANDOM_SIZE], packet[RESPONSE_RANDOM_SIZE:]
    return hmac.compare_digest(found, _response_digest(body, our_digest, full_key))


def _digest_in(packet: bytes, scheme: int) -> bytes:
    """The 32 bytes where `scheme` puts the digest, whether or not they verify."""
    offset = digest_offset(packet, scheme)
    return packet[offset : offset + DIGEST_SIZE]


def _corrupt_digest(packet: bytes, scheme: int) -> bytes:
    offset = digest_offset(packet, scheme)
    end = offset + DIGEST_SIZE
    return packet[:offset] + _flip(packet[offset:end]) + packet[end:]


def _corrupt_response(packet: bytes) -> bytes:
    return packet[:RESPONSE_RANDOM_SIZE] + _flip(packet[RESPONSE_RANDOM_SIZE:])


# -- checks on the peer's packets ---------------------------------------------------------------


def _version_violation(version: int, name: str) -> Violation | None:
    """§5.2.2: 0-2 deprecated, 4-31 reserved, above 31 not RTMP; we still parse on."""
    if version == RTMP_VERSION:
        return None
    if version < RTMP_VERSION:
        kind = "a deprecated version (0 to 2)"
    elif version <= 31:
        kind = "a reserved version (4 to 31)"
    else:
        kind = "not an RTMP version (above 31)"
    return Violation("RTMP-HS-VERSION", f"{name} carries {version}, {kind}; 3 is required")


def _unsigned_violation(packet: bytes, name: str, *, wanted_digest: bool) -> Violation | None:
    """A C1/S1 with non-zero bytes 4 to 7 but no digest that verifies."""
    if packet[4:8] == _ZERO:
        return None
    version = packet[4:8].hex()
    if wanted_digest:
        detail = f"{name} carries version {version} but no digest verifies at base 8 or 772"
        return Violation("RTMP-HS-DIGEST", detail)
    detail = f"{name} bytes 4 to 7 are {version}, not zero, and it carries no valid digest"
    return Violation("RTMP-HS-ZERO", detail)


def _echo_violations(response: bytes, ours: bytes, name: str, ours_name: str) -> list[Violation]:
    """A plain C2/S2 must carry our C1/S1's random bytes and (SHOULD) its time."""
    found: list[Violation] = []
    if response[8:] != ours[8:]:
        differ = sum(1 for a, b in zip(response[8:], ours[8:], strict=True) if a != b)
        detail = f"{name} differs from {ours_name}'s random bytes in {differ} of {RANDOM_SIZE}"
        found.append(Violation("RTMP-HS-ECHO", detail))
    if response[:4] != ours[:4]:
        got, sent = struct.unpack(">I", response[:4])[0], struct.unpack(">I", ours[:4])[0]
        detail = f"{name} time is {got}, not {ours_name}'s time {sent}"
        found.append(Violation("RTMP-HS-ECHO-TIME", detail))
    return found


def _response_violations(
    response: bytes, ours: bytes, our_digest: bytes, full_key: bytes, name: str, *, echo_ok: bool
) -> list[Violation]:
    """A digest C2/S2 must end in the HMAC derived from our digest."""
    if verify_digest_response(response, our_digest, full_key):
        return []
    if echo_ok and response[8:] == ours[8:]:
        # The peer's packet already failed its digest check: a plain peer with junk in bytes
        # 4 to 7 echoes, and that was reported once.
        return []
    detail = f"{name} does not end in the HMAC derived from our digest"
    return [Violation("RTMP-HS-RESPONSE-DIGEST", detail)]


# -- the state machines -------------------------------------------------------------------------


class _Handshake:
    """What both roles share: the receive buffer, the event queue, the bytes owed."""

    def __init__(self, random: bytes, faults: frozenset[str]) -> None:
        if len(random) < RANDOM_NEEDED:
            raise ValueError(f"random must supply at least {RANDOM_NEEDED} bytes")
        unknown = faults - FAULT_NAMES
        if unknown:
            raise ValueError(f"unknown handshake faults: {sorted(unknown)}")
        self._random = random
        self._faults = faults
        #: the handshake bytes received and not yet consumed; never more than one stage needs
        self._buffer = bytearray()
        #: bytes beyond the peer's last handshake packet: its chunk stream
        self._leftover = bytearray()
        #: how many handshake bytes are still to come (the rest is leftover)
        self._expected = HANDSHAKE_SIZE
        self._events: deque[Event] = deque()
        self._outgoing = bytearray()
        self._complete: HandshakeComplete | None = None
        self._finished = False

    def receive_data(self, data: bytes) -> None:
        """Bytes from the peer; RuntimeError once HandshakeComplete has been handed out."""
        if self._finished and data:
            raise RuntimeError("the handshake is complete: feed the chunk stream instead")
        take = min(len(data), self._expected)
        self._buffer += data[:take]
        self._expected -= take
        self._leftover += data[take:]
        # Packets are handled as soon as they are whole, so that the answer (S0 S1 S2, or C2)
        # is owed at once, whether or not the caller reads events first.
        while self._complete is None and self._advance():
            pass

    def data_to_send(self) -> bytes:
        """Handshake bytes owed to the peer since the last call."""
        out = bytes(self._outgoing)
        self._outgoing.clear()
        return out

    def next_event(self) -> Event:
        """The next event; NeedData while the peer's next packet is incomplete."""
        if self._events:
            return self._events.popleft()
        if self._complete is not None and not self._finished:
            self._finished = True
            # Built now so that bytes received after C2/S2 but before this call count too.
            leftover = bytes(self._leftover)
            self._leftover.clear()
            return replace(self._complete, leftover=leftover)
        return NeedData()

    def _take(self, size: int) -> bytes | None:
        """The next `size` handshake bytes, or None (consuming nothing) if not all came yet."""
        if len(self._buffer) < size:
            return None
        taken = bytes(self._buffer[:size])
        del self._buffer[:size]
        return taken

    def _advance(self) -> bool:
        """Process the next packet if it is all here; whether anything happened."""
        raise NotImplementedError

    def _finish(self, *, digest: bool, scheme: int | None, peer_version: bytes) -> None:
        # The leftover is filled in when the event is handed out (see next_event).
        self._complete = HandshakeComplete(digest, scheme, peer_version, b"")


class ServerHandshake(_Handshake):
    """The server side: reads C0 C1, sends S0 S1 S2 at once, reads and checks C2."""

    def __init__(
        self,
        *,
        random: bytes,
        time_ms: int = 0,
        digest: str = "auto",
        faults: frozenset[str] = frozenset(),
    ) -> None:
        if digest not in ("auto", "on", "off"):
            raise ValueError(f"digest must be 'auto', 'on' or 'off', not {digest!r}")
        super().__init__(random, faults)
        self._time_ms = time_ms
        self._mode = digest
        self._c1: bytes | None = None
        self._s1 = b""
        #: the digest of S1 as sent (a derived C2 must use it), or None for a plain S1
        self._s1_digest: bytes | None = None
        #: whether C2 must be derived from S1's digest (else it must echo S1)
        self._expect_derived = False
        self._scheme: int | None = None

    def _advance(self) -> bool:
        if self._c1 is None:
            c0c1 = self._take(1 + PACKET_SIZE)
            if c0c1 is None:
                return False
            self._on_c0c1(c0c1[0], c0c1[1:])
            return True
        c2 = self._take(PACKET_SIZE)
        if c2 is None:
            return False
        self._on_c2(c2)
        return True

    def _on_c0c1(self, version: int, c1: bytes) -> None:
        self._c1 = c1
        found = find_digest(c1, FP_PARTIAL)
        self._scheme = found[0] if found else None
        # Bytes 4 to 7 non-zero: the client takes part in the digest handshake, broken or not.
        peer_digest = found is not None or c1[4:8] != _ZERO
        for violation in (
            _version_violation(version, "C0"),
            None if found else _unsigned_violation(c1, "C1", wanted_digest=self._mode != "off"),
        ):
            if violation is not None:
                self._events.append(violation)
        signed = self._mode == "on" or (self._mode == "auto" and found is not None)
        # S1 is signed at the scheme the client used, as Flash Media Server does.
        scheme = found[0] if found else 0
        s0 = bytes([_BAD_VERSION if "hs_bad_version" in self._faults else RTMP_VERSION])
        s1 = self._make_s1(signed, scheme)
        # A plain client (C1 bytes 4 to 7 zero) can only echo and check echoes (§5.2.4).
        self._expect_derived = signed and peer_digest
        c1_digest = found[1] if found else _digest_in(c1, scheme)
        self._outgoing += s0 + s1 + self._make_s2(c1, c1_digest)

    def _make_s1(self, signed: bool, scheme: int) -> bytes:
        s1 = make_s1(self._time_ms, self._random[:RANDOM_SIZE], digest=signed, scheme=scheme)
        if signed and "hs_bad_s1_digest" in self._faults:
            s1 = _corrupt_digest(s1, scheme)
        # The client can only derive C2 from the digest as sent, corrupted or not.
        self._s1_digest = _digest_in(s1, scheme) if signed else None
        self._s1 = s1
        return s1

    def _make_s2(self, c1: bytes, c1_digest: bytes) -> bytes:
        if self._expect_derived:
            body = self._random[RANDOM_SIZE:RANDOM_NEEDED]
            s2 = make_digest_response(c1_digest, FMS_KEY, body)
            return _corrupt_response(s2) if "hs_bad_s2_digest" in self._faults else s2
        s2 = make_echo(c1, self._time_ms)
        if "hs_s2_not_echo" in self._faults:
            s2 = s2[:8] + _flip(s2[8:])
        return s2

    def _on_c2(self, c2: bytes) -> None:
        assert self._c1 is not None
        if self._expect_derived and self._s1_digest is not None:
            self._events.extend(
                _response_violations(c2, self._s1, self._s1_digest, FP_KEY, "C2", echo_ok=False)
            )
        else:
            self._events.extend(_echo_violations(c2, self._s1, "C2", "S1"))
        self._finish(digest=self._expect_derived, scheme=self._scheme, peer_version=self._c1[4:8])


class ClientHandshake(_Handshake):
    """The client side: sends C0 C1, reads S0 S1 (then sends C2), reads and checks S2."""

    def __init__(
        self,
        *,
        random: bytes,
        time_ms: int = 0,
        digest: bool = True,
        scheme: int = 0,
        faults: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(random, faults)
        self._time_ms = time_ms
        self._digest = digest
        self._scheme_used = scheme
        self._c1 = make_c1(time_ms, random[:RANDOM_SIZE], digest=digest, scheme=scheme)
        self._c1_digest = _digest_in(self._c1, scheme)
        version = _BAD_VERSION if "hs_bad_version" in faults else RTMP_VERSION
        self._c0 = bytes([version])
        self._s1: bytes | None = None
        #: whether S2 must be derived from C1's digest (else it must echo C1)
        self._expect_derived = False
        #: S1 carried a version but no digest verified (reported once, as RTMP-HS-DIGEST)
        self._s1_unverified = False
        self._scheme: int | None = None

    def initial_data(self) -> bytes:
        """C0 and C1, to send before anything else."""
        return self._c0 + self._c1

    def _advance(self) -> bool:
        if self._s1 is None:
            s0s1 = self._take(1 + PACKET_SIZE)
            if s0s1 is None:
                return False
            self._on_s0s1(s0s1[0], s0s1[1:])
            return True
        s2 = self._take(PACKET_SIZE)
        if s2 is None:
            return False
        self._on_s2(s2)
        return True

    def _on_s0s1(self, version: int, s1: bytes) -> None:
        self._s1 = s1
        found = find_digest(s1, FMS_PARTIAL)
        self._scheme = found[0] if found else None
        for violation in (
            _version_violation(version, "S0"),
            None if found else _unsigned_violation(s1, "S1", wanted_digest=self._digest),
        ):
            if violation is not None:
                self._events.append(violation)
        # A plain S1 (bytes 4 to 7 zero) is a simple server, which is conformant: fall back.
        self._expect_derived = self._digest and (found is not None or s1[4:8] != _ZERO)
        self._s1_unverified = self._expect_derived and found is None
        self._outgoing += self._make_c2(s1, found)

    def _make_c2(self, s1: bytes, found: tuple[int, bytes] | None) -> bytes:
        if self._expect_derived:
            # No digest verified: servers sign S1 at the scheme of C1, so the bytes there are
            # what this server would derive C2 from.
            s1_digest = found[1] if found else _digest_in(s1, self._scheme_used)
            body = self._random[RANDOM_SIZE:RANDOM_NEEDED]
            c2 = make_digest_response(s1_digest, FP_KEY, body)
            return _corrupt_response(c2) if "hs_bad_c2_digest" in self._faults else c2
        c2 = make_echo(s1, self._time_ms)
        if "hs_c2_not_echo" in self._faults:
            c2 = c2[:8] + _flip(c2[8:])
        return c2

    def _on_s2(self, s2: bytes) -> None:
        assert self._s1 is not None
        if self._expect_derived:
            self._events.extend(
                _response_violations(
                    s2, self._c1, self._c1_digest, FMS_KEY, "S2", echo_ok=self._s1_unverified
                )
            )
        else:
            self._events.extend(_echo_violations(s2, self._c1, "S2", "C1"))
        self._finish(digest=self._expect_derived, scheme=self._scheme, peer_version=self._s1[4:8])
