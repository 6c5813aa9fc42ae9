"""SDP (RFC 4566) and RTSP's use of it (RFC 2326 Appendix C): round trips, totality, each rule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.common.events import ProtocolError, Violation
from reference_impl.rtsp import sdp
from reference_impl.rtsp.media import h264_sdp, l16_sdp, sdp_media
from reference_impl.rtsp.sdp import (
    NptRange,
    RtpMap,
    check_sdp,
    is_range,
    parse_npt_range,
    parse_sdp,
    resolve_control,
    serialize_sdp,
)

SESSION = (
    "v=0\r\no=- 3 1 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
    "a=control:*\r\na=range:npt=0-\r\n"
)
BASE = SESSION + h264_sdp("trackID=0") + sdp_media("trackID=1")


def ids(violations: list[Violation]) -> list[str]:
    return [v.requirement_id for v in violations]


def all_ids(text: str) -> list[str]:
    desc, violations = parse_sdp(text)
    return ids(violations) + ids(check_sdp(desc))


def test_the_generated_descriptions_follow_every_rule() -> None:
    for text in (BASE, SESSION + l16_sdp("a") + l16_sdp("b", 48000, 1)):
        desc, violations = parse_sdp(text)
        assert violations == [] and check_sdp(desc) == []
        assert serialize_sdp(desc) == text
    desc, _ = parse_sdp(BASE)
    video, audio = desc.media
    assert (video.kind, video.port, video.proto, video.formats) == ("video", 0, "RTP/AVP", ["96"])
    assert video.rtpmaps() == {96: RtpMap(96, "H264", 90000)}
    assert video.fmtp(96)["packetization-mode"] == "1"
    assert audio.rtpmaps()[8] == RtpMap(8, "PCMA", 8000)
    assert (desc.control, video.control, audio.control) == ("*", "trackID=0", "trackID=1")
    assert desc.origin is not None and desc.origin.session_id == "3"


# -- generated valid descriptions round trip --------------------------------------------------

TOKEN = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._", min_size=1, max_size=8
)
TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\r\n\0"),
    min_size=1,
    max_size=20,
)
DIGITS = st.integers(0, 2**40).map(str)


@st.composite
def descriptions(draw: st.DrawFn) -> str:
    lines = ["v=0", f"o={draw(TOKEN)} {draw(DIGITS)} {draw(DIGITS)} IN IP4 {draw(TOKEN)}"]
    lines.append(f"s={draw(TEXT)}")
    lines += [f"{k}={draw(TEXT)}" for k in "iu" if draw(st.booleans())]
    lines += [f"{k}={draw(TEXT)}" for k in "ep" for _ in range(draw(st.integers(0, 2)))]
    session_c = draw(st.booleans())
    if session_c:
        lines.append("c=IN IP4 0.0.0.0")
    lines += [f"b={draw(TOKEN)}:{draw(DIGITS)}" for _ in range(draw(st.integers(0, 2)))]
    for _ in range(draw(st.integers(1, 2))):
        lines.append(f"t={draw(DIGITS)} {draw(DIGITS)}")
        if draw(st.booleans()):
            lines.append("r=7d 1h 0 25h")
    if draw(st.booleans()):
        lines.append("z=2882844526 -1h 2898848070 0")
    if draw(st.booleans()):
        lines.append("k=prompt")
    lines += [f"a={draw(TOKEN)}" for _ in range(draw(st.integers(0, 2)))]
    for n in range(draw(st.integers(0, 3))):
        types = draw(st.lists(st.integers(0, 127), min_size=1, max_size=3, unique=True))
        kind = draw(st.sampled_from(["audio", "video", "application"]))
        lines.append(f"m={kind} {draw(st.integers(0, 65535))} RTP/AVP {' '.join(map(str, types))}")
        if draw(st.booleans()):
            lines.append(f"i={draw(TEXT)}")
        if not session_c:
            lines.append("c=IN IP4 0.0.0.0")
        lines += [f"a=rtpmap:{t} X{t}/90000" for t in types if t >= 96 or draw(st.booleans())]
        lines.append(f"a=control:track{n}")
    return "".join(line + "\r\n" for line in lines)


@settings(max_examples=150, deadline=None)
@given(descriptions())
def test_a_valid_description_parses_cleanly_and_serialises_back(text: str) -> None:
    desc, violations = parse_sdp(text)
    assert violations == [] and check_sdp(desc) == []
    assert serialize_sdp(desc) == text
    assert parse_sdp(serialize_sdp(desc))[0] == desc


SDP_BITS = ["v=0", "o=- 1 1 IN IP4 h", "s=", "t=0 0", "m=audio 0 RTP/AVP 8", "a=rtpmap:8 X/1"]
SDP_BITS += ["a=fmtp:8 a=b", "a=range:npt=", "c=IN", "b=AS:", "r=1", "z=", "k=", "x=", "\r\n", "\n"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.lists(st.sampled_from(SDP_BITS), max_size=30).map("".join))
def test_any_text_is_a_description_with_violations(text: str) -> None:
    desc, violations = parse_sdp(text)
    found = ids(violations) + ids(check_sdp(desc))
    assert set(found) <= sdp.REQUIREMENT_IDS


def test_the_description_is_bounded() -> None:
    with pytest.raises(ProtocolError):
        parse_sdp("a=x\r\n" * (sdp.MAX_LINES + 1))


# -- each rule --------------------------------------------------------------------------------


def edit(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (edit("v=0\r\n", ""), ["RTSP-SDP-VERSION", "RTSP-SDP-REQUIRED"]),
        (edit("v=0", "v=1"), ["RTSP-SDP-VERSION"]),
        (edit("t=0 0\r\n", ""), ["RTSP-SDP-REQUIRED"]),
        (BASE.replace("\r\n", "\n"), ["RTSP-SDP-CRLF"]),
        (edit("s=x\r\n", "s=x\r\nnot a line\r\n"), ["RTSP-SDP-SYNTAX"]),
        (edit("s=x\r\n", "s=x\r\nx=unknown\r\n"), ["RTSP-SDP-SYNTAX"]),
        (edit("s=x", "s=x\ry"), ["RTSP-SDP-SYNTAX"]),
        (
            edit("s=x\r\nc=IN IP4 0.0.0.0\r\nt=0 0", "t=0 0\r\ns=x\r\nc=IN IP4 0.0.0.0"),
            ["RTSP-SDP-ORDER"] * 2,
        ),
        (
            edit("a=control:trackID=1", "a=control:trackID=1\r\no=- 1 1 IN IP4 h"),
            ["RTSP-SDP-ORDER"],
        ),
        (edit("s=x\r\n", "s=x\r\ns=y\r\n"), ["RTSP-SDP-ONCE"]),
        (
            edit("m=audio 0 RTP/AVP 8", "m=audio 0 RTP/AVP"),
            ["RTSP-SDP-MEDIA", "RTSP-SDP-RTPMAP-SYNTAX"],
        ),
        (edit("m=audio 0 RTP/AVP 8", "m=audio 0 RTP/AVP 8 PCMA"), ["RTSP-SDP-MEDIA"]),
        (edit("m=audio 0 RTP/AVP 8", "m=audio 70000 RTP/AVP 8"), ["RTSP-SDP-MEDIA"]),
        (edit("o=- 3 1", "o=- x 1"), ["RTSP-SDP-ORIGIN"]),
        (edit("o=- 3 1 IN IP4 127.0.0.1", "o=- 3 1 IN IP4"), ["RTSP-SDP-ORIGIN"]),
        (edit("s=x", "s="), ["RTSP-SDP-SESSION-NAME"]),
        (edit("t=0 0", "t=0"), ["RTSP-SDP-TIMING"]),
        (edit("c=IN IP4 0.0.0.0", "c=IN IP4"), ["RTSP-SDP-FIELD-SYNTAX"]),
        (edit("t=0 0\r\n", "b=AS\r\nt=0 0\r\n"), ["RTSP-SDP-FIELD-SYNTAX"]),
        (edit("t=0 0\r\n", "t=0 0\r\nr=1d\r\n"), ["RTSP-SDP-FIELD-SYNTAX"]),
        (edit("a=control:*", "a=a b"), ["RTSP-SDP-FIELD-SYNTAX"]),
        (edit("c=IN IP4 0.0.0.0\r\n", ""), ["RTSP-SDP-CONNECTION", "RTSP-SDP-CONNECTION"]),
        (edit("a=rtpmap:96 H264/90000", "a=x"), ["RTSP-SDP-RTPMAP"]),
        (edit("a=rtpmap:8 PCMA/8000", "a=rtpmap:8 PCMA"), ["RTSP-SDP-RTPMAP-SYNTAX"]),
        (edit("a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000"), ["RTSP-SDP-RTPMAP-SYNTAX"]),
        (edit("a=fmtp:96", "a=fmtp:97"), ["RTSP-SDP-FMTP-FORMAT"]),
        (edit("a=control:*\r\n", "").replace("a=control:trackID=1\r\n", ""), ["RTSP-SDP-CONTROL"]),
        (edit("npt=0-", "npt=zero-"), ["RTSP-SDP-RANGE-SYNTAX"]),
        (edit("packetization-mode=1", "packetization-mode=3"), ["RTSP-SDP-H264-PARAMS"]),
        (edit("profile-level-id=42C01E", "profile-level-id=42C0"), ["RTSP-SDP-H264-PARAMS"]),
        (edit("sprop-parameter-sets=", "sprop-parameter-sets=!!,"), ["RTSP-SDP-H264-PARAMS"]),
        (edit("sprop-parameter-sets=", "sprop-parameter-sets=ZQ==,"), ["RTSP-SDP-H264-PARAMS"]),
    ],
)
def test_each_rule_is_reported_where_it_is_broken(text: str, expected: list[str]) -> None:
    assert all_ids(text) == expected


def test_time_descriptions_repeat_with_their_repeat_lines() -> None:
    text = edit("t=0 0\r\n", "t=1 2\r\nr=7d 1h 0\r\nt=3 4\r\nr=1d 1h 0 2h\r\nz=1 -1h\r\n")
    assert all_ids(text) == []
    assert all_ids(edit("t=0 0\r\n", "t=1 2\r\nz=1 -1h\r\nt=3 4\r\n")) == ["RTSP-SDP-ORDER"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("npt=0-", NptRange(0.0, None)),
        ("npt=now-", NptRange(None, None)),
        ("npt=10-20.25", NptRange(10.0, 20.25)),
        ("npt=-7", NptRange(0.0, 7.0)),
        ("npt=1:02:03.5-", NptRange(3723.5, None)),
        ("npt=0.-", NptRange(0.0, None)),
        ("npt=abc", None),
        ("npt=1:60:00-", None),
        ("npt=", None),
    ],
)
def test_npt_ranges_read_as_rfc_2326_section_3_6_says(
    value: str, expected: NptRange | None
) -> None:
    assert parse_npt_range(value) == expected


def test_smpte_and_clock_ranges_are_ranges_too() -> None:
    assert is_range("smpte=10:07:00-10:07:33:05.01")
    assert is_range("smpte-25=00:00:00-")
    assert is_range("clock=19961108T142300Z-19961108T143520Z")
    assert not is_range("clock=1996-") and not is_range("frames=1-2")


@pytest.mark.parametrize(
    ("control", "base", "location", "url", "expected"),
    [
        ("trackID=0", "rtsp://h:554/movie/", None, "rtsp://x/y", "rtsp://h:554/movie/trackID=0"),
        ("trackID=0", None, "rtsp://h/loc/", "rtsp://x/y", "rtsp://h/loc/trackID=0"),
        ("trackID=0", None, None, "rtsp://h:554/movie", "rtsp://h:554/movie/trackID=0"),
        ("rtsp://o/x", "rtsp://h/", None, "rtsp://x/y", "rtsp://o/x"),
        ("RTSPU://o/x", "rtsp://h/", None, "rtsp://x/y", "RTSPU://o/x"),
        ("*", "rtsp://h/b/", None, "rtsp://x/y", "rtsp://h/b/"),
        (None, None, None, "rtsp://h/movie", "rtsp://h/movie"),
        ("../other", "rtsp://h/a/b/", None, "rtsp://x/y", "rtsp://h/a/other"),
        ("/abs/path", "rtsp://h/a/", None, "rtsp://x/y", "rtsp://h/abs/path"),
    ],
    ids=["base", "location", "request", "absolute", "scheme", "star", "none", "dotdot", "root"],
)
def test_control_urls_resolve_as_rfc_2326_appendix_c_1_1_says(
    control: str | None, base: str | None, location: str | None, url: str, expected: str
) -> None:
    assert resolve_control(control, base, location, url) == expected
