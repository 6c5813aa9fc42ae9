"""The pytest plugin, exercised through pytester in a scratch project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SUITE = '''
import pytest
from reference_impl.common.events import Violation
from reference_impl.common import observe

pytestmark = [pytest.mark.rtsp, pytest.mark.server]

@pytest.mark.requirement("RTSP-CSEQ-ECHO")
def test_must_ok(conformance):
    """A passing MUST check."""
    conformance.expect(True, "RTSP-CSEQ-ECHO", "fine")

@pytest.mark.requirement("RTSP-CSEQ-ECHO")
def test_must_violated(conformance):
    conformance.expect(False, "RTSP-CSEQ-ECHO", "sent 1 got 2 <script>x</script>")

@pytest.mark.requirement("RTSP-VERSION-505")
def test_should_violated(conformance):
    conformance.expect(False, "RTSP-VERSION-505", "answered 400")

@pytest.mark.requirement("RTSP-CSEQ-ECHO")
def test_reported_by_core_and_unrelated(conformance):
    observe.report(Violation("RTSP-MSG-CRLF", "bare LF seen"))
'''


def _records(pytester: pytest.Pytester) -> list[dict[str, object]]:
    runs = Path(pytester.path, "reports").glob("*/results.jsonl")
    files = [p for p in runs if p.parent.name != "latest"]
    assert len(files) == 1, files
    return [json.loads(line) for line in files[0].read_text().splitlines()]


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.mkdir("suites")
    pytester.mkdir("suites/rtsp")
    pytester.path.joinpath("suites/rtsp/test_sample.py").write_text(SUITE)
    return pytester


def test_must_violations_fail_should_violations_pass_as_warnings(suite: pytest.Pytester) -> None:
    result = suite.runpytest("suites", "-p", "no:randomly")
    result.assert_outcomes(passed=3, failed=1)
    verdicts = {r["name"]: r["verdict"] for r in _records(suite)}
    assert verdicts == {
        "test_must_ok": "pass",
        "test_must_violated": "fail",
        "test_should_violated": "warn",
        "test_reported_by_core_and_unrelated": "pass",
    }


def test_strict_makes_should_violations_fail(suite: pytest.Pytester) -> None:
    result = suite.runpytest("suites", "--strict")
    result.assert_outcomes(passed=2, failed=2)


def test_violations_of_other_requirements_are_observed_not_counted(suite: pytest.Pytester) -> None:
    suite.runpytest("suites", "-k", "unrelated")
    (record,) = _records(suite)
    assert record["verdict"] == "pass"
    assert record["observed"] == [
        {"requirement": "RTSP-MSG-CRLF", "level": "MUST", "detail": "bare LF seen"}
    ]


def test_record_carries_requirements_doc_and_duration(suite: pytest.Pytester) -> None:
    suite.runpytest("suites", "-k", "must_ok")
    (record,) = _records(suite)
    assert record["requirements"] == ["RTSP-CSEQ-ECHO"]
    assert record["doc"] == "A passing MUST check."
    assert record["protocol"] == "rtsp" and record["role"] == "server"
    assert record["target"] == "reference"
    assert isinstance(record["duration"], float)


def test_unknown_requirement_id_fails_collection_naming_id_and_file(
    pytester: pytest.Pytester,
) -> None:
    pytester.mkdir("suites")
    pytester.makepyfile(
        **{
            "suites/test_bad": """
import pytest
@pytest.mark.requirement("RTSP-NO-SUCH-THING")
def test_x():
    pass
"""
        }
    )
    result = pytester.runpytest("suites")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["*unknown requirement ID 'RTSP-NO-SUCH-THING'*fixtures/requirements*"]
    )


def test_a_conformance_test_without_requirement_is_refused(pytester: pytest.Pytester) -> None:
    pytester.mkdir("suites")
    pytester.makepyfile(**{"suites/test_bare": "def test_x():\n    pass\n"})
    result = pytester.runpytest("suites")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*must name what it checks*"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--target", "rtsp://127.0.0.1:1/x"],
            "*nothing answers at 127.0.0.1:1 (connection refused)*",
        ),
        (["--target", "gopher://127.0.0.1/x"], "*unknown scheme 'gopher'*"),
        (["--target", "rtsp://127.0.0.1:99999/x"], "*port is not a number*"),
        (["--target-client", "no-such-program-xyz {url}"], "*cannot start 'no-such-program-xyz'*"),
        (["--target-client", "ffprobe"], "*has no {url}*"),
        (["--peer", "no-such-peer"], "*no-such-peer*"),
        (["--fault", "no_such_fault"], "*no such fault*"),
        (["--case-timeout", "0"], "*--case-timeout must be a positive*"),
    ],
    ids=[
        "refused",
        "scheme",
        "port",
        "client-missing",
        "client-no-url",
        "peer",
        "fault",
        "timeout",
    ],
)
def test_bad_input_is_one_clear_line_and_exit_code_4(
    suite: pytest.Pytester, args: list[str], expected: str
) -> None:
    result = suite.runpytest("suites", *args)
    assert result.ret == 4
    result.stderr.fnmatch_lines([expected])
    assert "Traceback" not in result.stderr.str()
    assert len([line for line in result.stderr.lines if line.strip()]) == 1


def test_a_target_of_another_protocol_deselects_the_suite_with_a_reason(
    suite: pytest.Pytester,
) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = suite.runpytest("suites", "--target", f"rtmp://127.0.0.1:{port}/live")
    assert result.ret == 5  # no test ran: CI must not take that for green
    result.stdout.fnmatch_lines(["*deselected 4 test(s): rtsp suites do not apply*rtmp*"])


EXPECT = """
[[deviation]]
target = "reference"
requirement = "RTSP-CSEQ-ECHO"
test = "test_must_violated"
comment = "known: echoes CSeq plus one"

[[deviation]]
target = "reference"
requirement = "RTSP-CSEQ-ECHO"
test = "test_must_ok"
comment = "we thought this was broken"
"""


def test_expect_file_passes_known_deviations_and_fails_fixed_ones(suite: pytest.Pytester) -> None:
    suite.path.joinpath("expect.toml").write_text(EXPECT)
    result = suite.runpytest("suites", "--expect", "expect.toml")
    result.assert_outcomes(passed=3, failed=1)
    verdicts = {r["name"]: (r["verdict"], r["message"]) for r in _records(suite)}
    assert verdicts["test_must_violated"][0] == "expected"
    assert "known: echoes CSeq plus one" in verdicts["test_must_violated"][1]
    assert verdicts["test_must_ok"][0] == "unexpected-pass"
    assert "remove it from --expect" in verdicts["test_must_ok"][1]


def test_expect_file_with_unknown_requirement_is_refused(suite: pytest.Pytester) -> None:
    suite.path.joinpath("expect.toml").write_text(
        '[[deviation]]\nrequirement = "RTSP-NOPE"\ncomment = "x"\n'
    )
    result = suite.runpytest("suites", "--expect", "expect.toml")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*unknown requirement 'RTSP-NOPE'*"])


def test_records_are_complete_under_xdist(suite: pytest.Pytester) -> None:
    result = suite.runpytest("suites", "-n", "2")
    result.assert_outcomes(passed=3, failed=1)
    records = _records(suite)
    assert sorted(r["name"] for r in records) == sorted(
        [
            "test_must_ok",
            "test_must_violated",
            "test_should_violated",
            "test_reported_by_core_and_unrelated",
        ]
    )
    assert {r["worker"] for r in records} <= {"gw0", "gw1"}


def test_async_tests_are_bounded_by_case_timeout(pytester: pytest.Pytester) -> None:
    pytester.mkdir("suites")
    pytester.mkdir("suites/rtsp")
    pytester.path.joinpath("suites/rtsp/test_slow.py").write_text(
        "import asyncio, pytest\n"
        "@pytest.mark.server\n"
        "@pytest.mark.requirement('RTSP-CSEQ-ECHO')\n"
        "async def test_hangs():\n"
        "    await asyncio.Event().wait()\n"
    )
    result = pytester.runpytest("suites", "--case-timeout", "0.2")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*did not finish within --case-timeout 0.2 s*"])
