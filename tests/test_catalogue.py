"""The requirement catalogue: loaded, validated, and consistent with the code that cites it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalogue import CatalogueError, load_catalogue
from reference_impl.rtsp import connection as rtsp_connection
from reference_impl.rtsp.faults import FAULTS as RTSP_FAULTS

GOOD = """protocol = "rtsp"
[[requirement]]
id = "RTSP-A-B"
source = "RFC 2326 §1"
level = "MUST"
role = "server"
summary = "x"
"""


def write(tmp_path: Path, text: str, name: str = "rtsp.toml") -> Path:
    tmp_path.joinpath(name).write_text(text)
    return tmp_path


def test_the_shipped_catalogue_loads_with_every_protocol() -> None:
    catalogue = load_catalogue()
    assert {r.protocol for r in catalogue.requirements.values()} == {
        "rtsp",
        "rtmp",
        "mms",
        "pna",
        "http",
    }


def test_a_valid_file_loads(tmp_path: Path) -> None:
    catalogue = load_catalogue(write(tmp_path, GOOD))
    assert catalogue["RTSP-A-B"].level == "MUST"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD + GOOD.split("\n", 1)[1], "already defined"),
        (GOOD.replace('"MUST"', '"MUSTNT"'), "level must be one of"),
        (GOOD.replace('"server"', '"proxy"'), "role must be one of"),
        (GOOD.replace('summary = "x"\n', ""), "missing summary"),
        (GOOD.replace("RTSP-A-B", "rtsp_lower"), "must look like RTSP-WORD-WORD"),
        (GOOD.replace("RTSP-A-B", "RTMP-A-B"), "must look like RTSP-WORD-WORD"),
        (GOOD.replace('protocol = "rtsp"', 'protocol = "rtmp"'), 'protocol = "rtsp"'),
        ("not toml [", "not valid TOML"),
    ],
    ids=["duplicate", "level", "role", "missing", "id-shape", "id-prefix", "protocol", "toml"],
)
def test_a_malformed_catalogue_is_refused_naming_file_and_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(CatalogueError, match=message) as info:
        load_catalogue(write(tmp_path, text))
    assert "rtsp.toml" in str(info.value)


def test_every_requirement_the_code_cites_is_catalogued() -> None:
    catalogue = load_catalogue()
    cited = set(rtsp_connection.REQUIREMENT_IDS) | set(rtsp_connection.DEVIATION_IDS.values())
    for fault in RTSP_FAULTS.values():
        cited |= set(fault.breaks)
    assert sorted(cited - set(catalogue.requirements)) == []
