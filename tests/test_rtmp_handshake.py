"""The RTMP handshake (RTMP 1.0 §5.2 and the de facto digest scheme): both roles, each fault."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.common.events import Event, NeedData, Violation
from reference_impl.rtmp import handshake
from reference_impl.rtmp.handshake import (
    FAULT_NAMES,
    FMS_KEY,
    FMS_PARTIAL,
    FP_KEY,
    FP_PARTIAL,
    PACKET_SIZE,
    REQUIREMENT_IDS,
    ClientHandshake,
    HandshakeComplete,
    ServerHandshake,
    digest_offset,
    find_digest,
    make_c1,
    make_digest_response,
    make_echo,
    make_s1,
    sign,
    verify_digest_response,
)

CLIENT_RANDOM = bytes(range(256)) * 12
SERVER_RANDOM = bytes(reversed(range(256))) * 12
RANDOM_1528 = bytes((i * 7 + 3) % 256 for i in range(1528))
TAIL = b"\x02\x00\x00\x00\x00\x00\x04\x01\x00\x00\x00\x00\x00\x00\x10\x00"


@dataclass
class Side:
    """One role's events, in order, and whether it completed."""

    events: list[Event] = field(default_factory=list)

    @property
    def violations(self) -> list[str]:
        return [e.requirement_id for e in self.events if isinstance(e, Violation)]

    @property
    def complete(self) -> HandshakeComplete:
        done = [e for e in self.events if isinstance(e, HandshakeComplete)]
        assert len(done) == 1, self.events
        return done[0]


def drain(core: ServerHandshake | ClientHandshake, side: Side) -> None:
    while not isinstance(event := core.next_event(), NeedData):
        side.events.append(event)


def exchange(client: ClientHandshake, server: ServerHandshake) -> tuple[Side, Side]:
    """Run both roles against each other until neither has anything more to say."""
    client_side, server_side = Side(), Side()
    server.receive_data(client.initial_data())
    for _ in range(4):
        drain(server, server_side)
        client.receive_data(server.data_to_send())
        drain(client, client_side)
        server.receive_data(client.data_to_send())
    return client_side, server_side


def pair(
    *,
    client_digest: bool = True,
    scheme: int = 0,
    server_digest: str = "auto",
    client_faults: frozenset[str] = frozenset(),
    server_faults: frozenset[str] = frozenset(),
) -> tuple[Side, Side]:
    client = ClientHandshake(
        random=CLIENT_RANDOM,
        time_ms=1000,
        digest=client_digest,
        scheme=scheme,
        faults=client_faults,
    )
    server = ServerHandshake(
        random=SERVER_RANDOM, time_ms=2000, digest=server_digest, faults=server_faults
    )
    return exchange(client, server)


def server_events(data: bytes, digest: str = "auto") -> Side:
    server = ServerHandshake(random=SERVER_RANDOM, digest=digest)
    side = Side()
    server.receive_data(data)
    drain(server, side)
    return side


def c0c1c2(*, version: int = 3, c1: bytes | None = None, digest: str = "auto") -> bytes:
    """A client's three packets, C2 a correct echo of the S1 the server sends."""
    c1 = c1 if c1 is not None else make_c1(5, RANDOM_1528, digest=False)
    server = ServerHandshake(random=SERVER_RANDOM, digest=digest)
    server.receive_data(bytes([version]) + c1)
    s1 = server.data_to_send()[1 : 1 + PACKET_SIZE]
    return bytes([version]) + c1 + make_echo(s1, 9)


# -- keys and packets ---------------------------------------------------------------------------


def test_the_keys_are_the_genuine_adobe_strings_and_the_32_fixed_bytes() -> None:
    assert len(FMS_KEY) == 68 and len(FP_KEY) == 62
    assert FMS_PARTIAL == b"Genuine Adobe Flash Media Server 001"
    assert FP_PARTIAL == b"Genuine Adobe Flash Player 001"
    assert FMS_KEY[36:] == FP_KEY[30:] and FMS_KEY[36:38] == b"\xf0\xee"
    assert FMS_KEY[-2:] == b"\x31\xae"


def test_a_plain_c1_is_time_then_four_zero_bytes_then_1528_random_bytes() -> None:
    c1 = make_c1(0x01020304, RANDOM_1528, digest=False)
    assert len(c1) == PACKET_SIZE
    assert c1[:8] == b"\x01\x02\x03\x04\x00\x00\x00\x00" and c1[8:] == RANDOM_1528


def test_a_digest_c1_carries_the_player_version_and_a_player_digest() -> None:
    c1 = make_c1(0, RANDOM_1528, digest=True, scheme=1)
    assert c1[4:8] == b"\x80\x00\x07\x02"
    found = find_digest(c1, FP_PARTIAL)
    assert found is not None and found[0] == 1
    assert find_digest(c1, FMS_PARTIAL) is None


def test_a_digest_s1_carries_the_server_version_and_a_server_digest() -> None:
    s1 = make_s1(0, RANDOM_1528, digest=True)
    assert s1[4:8] == b"\x04\x05\x00\x01"
    assert find_digest(s1, FMS_PARTIAL) == (0, s1[digest_offset(s1, 0) :][:32])


def test_the_digest_offset_is_the_sum_of_four_bytes_modulo_728_after_its_base() -> None:
    packet = bytearray(PACKET_SIZE)
    packet[8:12] = b"\xff\xff\xff\xff"
    packet[772:776] = b"\x01\x02\x03\x04"
    assert digest_offset(bytes(packet), 0) == 1020 % 728 + 12
    assert digest_offset(bytes(packet), 1) == 10 + 776


@pytest.mark.parametrize("scheme", [0, 1])
def test_find_digest_finds_a_packet_signed_at_either_scheme(scheme: int) -> None:
    packet = sign(bytes(range(256)) * 6, FP_PARTIAL, scheme)
    offset = digest_offset(packet, scheme)
    message = packet[:offset] + packet[offset + 32 :]
    digest = hmac.new(FP_PARTIAL, message, hashlib.sha256).digest()
    assert len(message) == 1504
    assert find_digest(packet, FP_PARTIAL) == (scheme, digest)


@pytest.mark.parametrize("scheme", [0, 1])
def test_find_digest_rejects_a_packet_whose_digest_was_corrupted(scheme: int) -> None:
    packet = bytearray(sign(bytes(range(256)) * 6, FMS_PARTIAL, scheme))
    packet[digest_offset(bytes(packet), scheme) + 5] ^= 0x01
    assert find_digest(bytes(packet), FMS_PARTIAL) is None


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=PACKET_SIZE, max_size=PACKET_SIZE), st.sampled_from([0, 1]))
def test_any_signed_packet_verifies_and_keeps_its_digest_inside(packet: bytes, scheme: int) -> None:
    offset = digest_offset(packet, scheme)
    assert 12 <= offset and offset + 32 <= PACKET_SIZE
    assert not (scheme == 0 and offset + 32 > 772)
    found = find_digest(sign(packet, FMS_PARTIAL, scheme), FMS_PARTIAL)
    assert found is not None


def test_find_digest_does_not_raise_on_a_packet_of_the_wrong_size() -> None:
    assert find_digest(b"\x00" * 100, FP_PARTIAL) is None
    assert not verify_digest_response(b"", b"\x00" * 32, FMS_KEY)


def test_an_echo_carries_the_peers_time_our_read_time_and_the_peers_random_bytes() -> None:
    peer = make_c1(77, RANDOM_1528, digest=False)
    echo = make_echo(peer, 0x0A0B0C0D)
    assert echo[:4] == peer[:4] and echo[4:8] == b"\x0a\x0b\x0c\x0d" and echo[8:] == peer[8:]


def test_a_digest_response_verifies_only_against_the_digest_and_key_it_was_made_from() -> None:
    digest = bytes(range(32))
    response = make_digest_response(digest, FMS_KEY, bytes(1504))
    assert len(response) == PACKET_SIZE
    assert verify_digest_response(response, digest, FMS_KEY)
    assert not verify_digest_response(response, bytes(32), FMS_KEY)
    assert not verify_digest_response(response, digest, FP_KEY)


# -- both roles together ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_digest", "server_digest", "scheme", "digest"),
    [
        (True, "auto", 0, True),
        (True, "auto", 1, True),
        (True, "on", 0, True),
        (True, "on", 1, True),
        (False, "auto", 0, False),
        (False, "off", 0, False),
        (False, "on", 0, False),
        (True, "off", 0, False),
        (True, "off", 1, False),
    ],
)
def test_the_reference_client_and_server_complete_without_violations(
    client_digest: bool, server_digest: str, scheme: int, digest: bool
) -> None:
    client, server = pair(client_digest=client_digest, scheme=scheme, server_digest=server_digest)
    assert client.violations == [] and server.violations == []
    assert client.complete.digest is digest and server.complete.digest is digest
    if digest:
        assert client.complete.scheme == scheme and server.complete.scheme == scheme
    assert server.complete.scheme == (scheme if client_digest else None)
    assert server.complete.peer_version == (b"\x80\x00\x07\x02" if client_digest else bytes(4))


def test_a_digest_handshake_reports_the_peer_versions() -> None:
    client, server = pair(client_digest=True, server_digest="on")
    assert client.complete.peer_version == b"\x04\x05\x00\x01"
    assert server.complete.peer_version == b"\x80\x00\x07\x02"


def test_the_server_sends_s0_s1_and_s2_together_once_c0_and_c1_arrived() -> None:
    server = ServerHandshake(random=SERVER_RANDOM)
    c0c1 = ClientHandshake(random=CLIENT_RANDOM).initial_data()
    server.receive_data(c0c1[:-1])
    assert isinstance(server.next_event(), NeedData) and server.data_to_send() == b""
    server.receive_data(c0c1[-1:])
    assert isinstance(server.next_event(), NeedData)
    out = server.data_to_send()
    assert len(out) == 1 + 2 * PACKET_SIZE and out[0] == 3
    assert server.data_to_send() == b""


def test_the_client_sends_c2_once_s0_and_s1_arrived_without_waiting_for_s2() -> None:
    client = ClientHandshake(random=CLIENT_RANDOM)
    server = ServerHandshake(random=SERVER_RANDOM)
    server.receive_data(client.initial_data())
    s0s1s2 = server.data_to_send()
    client.receive_data(s0s1s2[: 1 + PACKET_SIZE])
    assert isinstance(client.next_event(), NeedData)
    assert len(client.data_to_send()) == PACKET_SIZE
    client.receive_data(s0s1s2[1 + PACKET_SIZE :])
    assert isinstance(client.next_event(), HandshakeComplete)


# -- faults -------------------------------------------------------------------------------------

FAULT_CASES = [
    # (fault, on the server?, client digest, server digest, scheme, the other side reports)
    ("hs_bad_version", True, False, "auto", 0, "RTMP-HS-VERSION"),
    ("hs_bad_version", False, True, "auto", 0, "RTMP-HS-VERSION"),
    ("hs_s2_not_echo", True, False, "auto", 0, "RTMP-HS-ECHO"),
    ("hs_s2_not_echo", True, True, "off", 1, "RTMP-HS-ECHO"),
    ("hs_c2_not_echo", False, False, "auto", 0, "RTMP-HS-ECHO"),
    ("hs_bad_s1_digest", True, True, "auto", 0, "RTMP-HS-DIGEST"),
    ("hs_bad_s1_digest", True, True, "auto", 1, "RTMP-HS-DIGEST"),
    ("hs_bad_s2_digest", True, True, "on", 0, "RTMP-HS-RESPONSE-DIGEST"),
    ("hs_bad_c2_digest", False, True, "auto", 1, "RTMP-HS-RESPONSE-DIGEST"),
]


@pytest.mark.parametrize(
    ("fault", "on_server", "client_digest", "server_digest", "scheme", "expected"), FAULT_CASES
)
def test_each_fault_makes_the_other_side_report_exactly_its_violation(
    fault: str, on_server: bool, client_digest: bool, server_digest: str, scheme: int, expected: str
) -> None:
    faults = frozenset({fault})
    client, server = pair(
        client_digest=client_digest,
        scheme=scheme,
        server_digest=server_digest,
        server_faults=faults if on_server else frozenset(),
        client_faults=frozenset() if on_server else faults,
    )
    victim, culprit = (client, server) if on_server else (server, client)
    assert victim.violations == [expected]
    assert culprit.violations == []
    assert isinstance(victim.complete, HandshakeComplete)
    assert isinstance(culprit.complete, HandshakeComplete)


def test_every_fault_name_has_a_case_and_every_id_is_catalogued_here() -> None:
    assert {case[0] for case in FAULT_CASES} == FAULT_NAMES
    assert {case[-1] for case in FAULT_CASES} <= REQUIREMENT_IDS


def test_an_unknown_fault_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        ServerHandshake(random=SERVER_RANDOM, faults=frozenset({"hs_typo"}))


# -- what the server checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "words"),
    [(0, "deprecated"), (2, "deprecated"), (4, "reserved"), (31, "reserved"), (32, "not an")],
)
def test_a_c0_other_than_3_is_a_violation_and_the_handshake_goes_on(
    version: int, words: str
) -> None:
    side = server_events(c0c1c2(version=version))
    assert side.violations == ["RTMP-HS-VERSION"]
    first = side.events[0]
    assert isinstance(first, Violation) and words in first.detail
    assert side.complete.digest is False


def test_a_c2_that_does_not_carry_s1s_time_breaks_only_the_should() -> None:
    data = bytearray(c0c1c2())
    data[1 + PACKET_SIZE] ^= 0x80
    assert server_events(bytes(data)).violations == ["RTMP-HS-ECHO-TIME"]


def test_a_plain_c1_with_junk_in_bytes_4_to_7_breaks_the_zero_rule() -> None:
    c1 = make_c1(0, RANDOM_1528, digest=False)
    junk = c1[:4] + b"\x01\x02\x03\x04" + c1[8:]
    assert server_events(c0c1c2(c1=junk, digest="off"), "off").violations == ["RTMP-HS-ZERO"]


def test_a_c1_with_a_version_but_no_valid_digest_breaks_the_digest_rule() -> None:
    c1 = bytearray(make_c1(0, RANDOM_1528, digest=True))
    c1[digest_offset(bytes(c1), 0)] ^= 0xFF
    side = server_events(c0c1c2(c1=bytes(c1)))
    assert side.violations == ["RTMP-HS-DIGEST"]
    assert side.complete.digest is False and side.complete.scheme is None


def test_a_signed_c1_is_not_held_to_the_zero_rule_by_a_server_that_answers_plainly() -> None:
    c1 = make_c1(0, RANDOM_1528, digest=True, scheme=1)
    side = server_events(c0c1c2(c1=c1, digest="off"), "off")
    assert side.violations == []
    assert side.complete.digest is False and side.complete.scheme == 1


# -- what the client checks ---------------------------------------------------------------------


def test_a_digest_client_falls_back_silently_to_a_plain_server_but_then_s2_must_echo_c1() -> None:
    client, _ = pair(client_digest=True, server_digest="off")
    assert client.violations == [] and client.complete.digest is False
    client, _ = pair(
        client_digest=True, server_digest="off", server_faults=frozenset({"hs_s2_not_echo"})
    )
    assert client.violations == ["RTMP-HS-ECHO"]


def test_a_plain_client_reports_junk_in_a_plain_s1s_bytes_4_to_7() -> None:
    client = ClientHandshake(random=CLIENT_RANDOM, digest=False)
    c1 = client.initial_data()[1:]
    s1 = make_s1(0, RANDOM_1528, digest=False)
    client.receive_data(b"\x03" + s1[:4] + b"\xde\xad\xbe\xef" + s1[8:] + make_echo(c1, 0))
    side = Side()
    drain(client, side)
    assert side.violations == ["RTMP-HS-ZERO"]


# -- byte handling ------------------------------------------------------------------------------


def client_stream(digest: bool, scheme: int) -> bytes:
    """Everything a client sends to a server with SERVER_RANDOM: C0 C1 C2, then TAIL."""
    client = ClientHandshake(random=CLIENT_RANDOM, digest=digest, scheme=scheme)
    server = ServerHandshake(random=SERVER_RANDOM)
    server.receive_data(client.initial_data())
    client.receive_data(server.data_to_send())
    drain(client, Side())
    return client.initial_data() + client.data_to_send() + TAIL


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([(True, 0), (True, 1), (False, 0)]),
    st.lists(st.integers(0, 3073 + len(TAIL)), max_size=8),
)
def test_any_split_of_the_clients_bytes_gives_the_server_the_same_events(
    mode: tuple[bool, int], cuts: list[int]
) -> None:
    stream = client_stream(*mode)
    whole = server_events(stream)
    bounds = [0, *sorted(cuts), len(stream)]
    server = ServerHandshake(random=SERVER_RANDOM)
    side, unfed = Side(), b""
    for start, end in zip(bounds, bounds[1:], strict=False):
        if side.events and isinstance(side.events[-1], HandshakeComplete):
            unfed += stream[start:end]
            continue
        server.receive_data(stream[start:end])
        drain(server, side)
    assert side.events[:-1] == whole.events[:-1]
    done = side.complete
    assert (done.digest, done.scheme) == (whole.complete.digest, whole.complete.scheme)
    assert done.leftover + unfed == TAIL


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["auto", "on", "off"]),
    st.lists(st.binary(max_size=1600), max_size=4),
)
def test_arbitrary_bytes_into_the_server_only_ever_make_events(
    digest: str, pieces: list[bytes]
) -> None:
    server = ServerHandshake(random=SERVER_RANDOM, digest=digest)
    side, fed = Side(), 0
    for piece in pieces:
        server.receive_data(piece)
        fed += len(piece)
        drain(server, side)
        if any(isinstance(e, HandshakeComplete) for e in side.events):
            break
    assert set(side.violations) <= REQUIREMENT_IDS
    assert len(server.data_to_send()) == (0 if fed < 1 + PACKET_SIZE else 1 + 2 * PACKET_SIZE)
    if fed >= 1 + 2 * PACKET_SIZE:
        assert len(side.complete.leftover) == fed - (1 + 2 * PACKET_SIZE)
    else:
        assert not any(isinstance(e, HandshakeComplete) for e in side.events)


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=1 + 2 * PACKET_SIZE, max_size=1 + 2 * PACKET_SIZE + 8))
def test_arbitrary_bytes_into_the_client_only_ever_make_events(data: bytes) -> None:
    client = ClientHandshake(random=CLIENT_RANDOM)
    side = Side()
    client.receive_data(data)
    drain(client, side)
    assert set(side.violations) <= REQUIREMENT_IDS
    assert side.complete.leftover == data[1 + 2 * PACKET_SIZE :]


def test_bytes_after_c2_come_out_as_the_leftover_of_handshake_complete() -> None:
    side = server_events(c0c1c2() + TAIL)
    assert side.complete.leftover == TAIL


def test_bytes_that_arrive_after_c2_but_before_the_event_is_read_are_leftover_too() -> None:
    server = ServerHandshake(random=SERVER_RANDOM)
    server.receive_data(c0c1c2())
    server.receive_data(TAIL[:3])
    server.receive_data(TAIL[3:])
    side = Side()
    drain(server, side)
    assert side.complete.leftover == TAIL


def test_the_handshake_refuses_bytes_once_it_handed_out_handshake_complete() -> None:
    server = ServerHandshake(random=SERVER_RANDOM)
    server.receive_data(c0c1c2())
    drain(server, Side())
    with pytest.raises(RuntimeError):
        server.receive_data(TAIL)


def test_too_few_random_bytes_are_refused() -> None:
    with pytest.raises(ValueError):
        ClientHandshake(random=bytes(handshake.RANDOM_NEEDED - 1))
