"""RTMP server: the handshake, plain (RTMP 1.0 §5.2) and with digests (the de facto scheme)."""

from __future__ import annotations

import asyncio

import pytest

from harness.verdict import Conformance
from reference_impl.rtmp import handshake
from suites.rtmp.conftest import RtmpTarget, session

pytestmark = [pytest.mark.rtmp, pytest.mark.server]

QUIET = 0.3  # seconds a server gets to show it sends early; a conformant one sends nothing


@pytest.mark.requirement("RTMP-HS-VERSION", "RTMP-HS-ECHO", "RTMP-HS-ECHO-TIME", "RTMP-HS-ZERO")
async def test_a_plain_c1_gets_version_3_and_an_s2_that_echoes_it(rtmp_target: RtmpTarget) -> None:
    """S0 is 3; S1's zero field is zero (or S1 is signed); S2 echoes C1's time and bytes."""
    async with session(rtmp_target.url, digest=False) as client:
        assert client.conn.handshake is not None


@pytest.mark.requirement("RTMP-HS-DIGEST", "RTMP-HS-RESPONSE-DIGEST")
async def test_a_signed_c1_gets_a_signed_s1_and_an_s2_derived_from_its_digest(
    rtmp_target: RtmpTarget,
) -> None:
    """A digest C1 (base 8) is answered with an S1 signed by the server key and a derived S2."""
    async with session(rtmp_target.url, digest=True, scheme=0) as client:
        done = client.conn.handshake
        assert done is not None
        if not done.digest:
            pytest.skip("the server answers with the plain handshake only (no digests)")


@pytest.mark.requirement("RTMP-HS-DIGEST-SCHEME-1", "RTMP-HS-RESPONSE-DIGEST")
async def test_a_digest_at_offset_base_772_is_found_too(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """A server that does digests finds a C1 digest at either base and answers with one."""
    async with session(rtmp_target.url, digest=True, scheme=0) as first:
        assert first.conn.handshake is not None
        if not first.conn.handshake.digest:
            pytest.skip("the server answers with the plain handshake only (no digests)")
    async with session(rtmp_target.url, digest=True, scheme=1) as client:
        done = client.conn.handshake
        assert done is not None
        conformance.expect(
            done.digest,
            "RTMP-HS-DIGEST-SCHEME-1",
            "a C1 signed at base 772 got the plain handshake, though base 8 gets digests",
        )


@pytest.mark.requirement("RTMP-HS-WAIT-C2")
async def test_the_server_sends_nothing_after_s2_until_c2_arrives(
    rtmp_target: RtmpTarget, conformance: Conformance
) -> None:
    """After S0 S1 S2 the server waits for C2 before it sends anything else (§5.2.1)."""
    async with session(rtmp_target.url, do_handshake=False) as client:
        client.write(client.conn.initial_data())
        got = b""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while len(got) < 1 + 2 * handshake.PACKET_SIZE:
            data = await client.read(deadline - loop.time())
            if not data:
                pytest.fail(f"the server sent {len(got)} of the 3073 bytes of S0 S1 S2")
            got += data
        extra = len(got) - (1 + 2 * handshake.PACKET_SIZE)
        if not extra:
            extra = len(await client.read(QUIET))
        conformance.expect(
            extra == 0, "RTMP-HS-WAIT-C2", f"{extra} bytes came after S2 before C2 was sent"
        )
