"""AMF0 (Adobe AMF 0 specification, 2006): byte vectors from the spec, round trips, totality."""

from __future__ import annotations

import math
import struct
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impl.rtmp import amf0
from reference_impl.rtmp.amf0 import (
    MAX_DEPTH,
    MAX_ITEMS,
    UNDEFINED,
    UNSUPPORTED,
    AMF0Error,
    Amf3Switch,
    Date,
    EcmaArray,
    Reference,
    TypedObject,
    XmlDocument,
    decode,
    decode_all,
    encode,
    encode_all,
)

OBJECT_END = b"\x00\x00\x09"


def double(x: float) -> bytes:
    return struct.pack(">d", x)


def shape(value: Any) -> Any:
    """The value with every container tagged by its type, so EcmaArray != dict and 1 != True."""
    if isinstance(value, dict):
        return (type(value).__name__, [(k, shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [shape(v) for v in value])
    if isinstance(value, TypedObject):
        return ("typed", value.class_name, shape(value.properties))
    return (type(value).__name__, value)


# -- byte vectors (§2.2-§2.18) ----------------------------------------------------------------


def test_a_number_is_a_marker_then_a_big_endian_ieee754_double() -> None:
    assert encode(1.0) == b"\x00\x3f\xf0\x00\x00\x00\x00\x00\x00"
    assert decode(b"\x00\x3f\xf0\x00\x00\x00\x00\x00\x00") == (1.0, 9)


def test_an_int_is_sent_as_a_number_but_a_bool_is_not() -> None:
    assert encode(1) == encode(1.0)
    assert encode(-3) == b"\x00" + double(-3.0)
    assert encode(True) != encode(1)
    assert isinstance(decode(encode(7))[0], float)


@pytest.mark.parametrize("x", [0.0, -0.0, math.inf, -math.inf, 1e-310, 2.0**53 + 2])
def test_every_double_including_signed_zero_and_infinity_survives(x: float) -> None:
    y, _ = decode(encode(x))
    assert y == x and math.copysign(1, y) == math.copysign(1, x)


def test_a_nan_number_decodes_as_nan() -> None:
    assert math.isnan(decode(encode(math.nan))[0])


def test_a_boolean_is_one_byte_and_any_nonzero_byte_is_true() -> None:
    assert encode(True) == b"\x01\x01"
    assert encode(False) == b"\x01\x00"
    assert decode(b"\x01\x02") == (True, 2)
    assert decode(b"\x01\x00") == (False, 2)


def test_a_string_is_a_u16_length_then_utf8_bytes() -> None:
    assert encode("connect") == b"\x02\x00\x07connect"
    assert encode("") == b"\x02\x00\x00"
    assert encode("é") == b"\x02\x00\x02\xc3\xa9"
    assert decode(b"\x02\x00\x07connect") == ("connect", 10)


def test_a_string_over_65535_utf8_bytes_is_a_long_string_with_a_u32_length() -> None:
    text = "a" * 70000
    assert encode(text) == b"\x0c\x00\x01\x11\x70" + text.encode()
    assert decode(encode(text)) == (text, 5 + 70000)


def test_the_long_string_threshold_counts_utf8_bytes_not_characters() -> None:
    assert encode("a" * 0xFFFF)[:3] == b"\x02\xff\xff"
    assert encode("é" * 32768)[:5] == b"\x0c\x00\x01\x00\x00"  # 32768 chars, 65536 bytes


def test_an_object_is_properties_then_an_empty_key_and_the_object_end_marker() -> None:
    wire = b"\x03\x00\x03app\x02\x00\x04live\x00\x04flag\x01\x01" + OBJECT_END
    assert encode({"app": "live", "flag": True}) == wire
    assert decode(wire) == ({"app": "live", "flag": True}, len(wire))
    assert encode({}) == b"\x03" + OBJECT_END


def test_object_properties_keep_their_order() -> None:
    value, _ = decode(encode({"z": 1.0, "a": 2.0, "m": 3.0}))
    assert list(value) == ["z", "a", "m"] and type(value) is dict


def test_an_empty_key_with_a_value_is_a_property_not_the_object_end() -> None:
    wire = b"\x03\x00\x00\x05" + OBJECT_END
    assert decode(wire) == ({"": None}, len(wire))
    assert encode({"": None}) == wire


def test_an_ecma_array_is_a_u32_count_then_properties_and_the_object_end() -> None:
    wire = b"\x08\x00\x00\x00\x01\x00\x08duration" + b"\x00" + double(0.0) + OBJECT_END
    assert encode(EcmaArray(duration=0.0)) == wire
    value, end = decode(wire)
    assert type(value) is EcmaArray and value == {"duration": 0.0} and end == len(wire)


def test_an_ecma_array_count_is_only_a_hint() -> None:
    body = b"\x00\x01a\x05\x00\x01b\x06" + OBJECT_END
    for hint in (b"\x00\x00\x00\x00", b"\xff\xff\xff\xff"):
        assert decode(b"\x08" + hint + body)[0] == EcmaArray(a=None, b=UNDEFINED)


def test_a_strict_array_is_a_u32_count_then_that_many_values() -> None:
    wire = b"\x0a\x00\x00\x00\x02" + b"\x00" + double(1.0) + b"\x02\x00\x01a"
    assert encode([1.0, "a"]) == wire
    assert decode(wire) == ([1.0, "a"], len(wire))
    assert encode(()) == b"\x0a\x00\x00\x00\x00"


def test_null_and_undefined_are_bare_markers() -> None:
    assert encode(None) == b"\x05" and decode(b"\x05") == (None, 1)
    assert encode(UNDEFINED) == b"\x06" and decode(b"\x06") == (UNDEFINED, 1)
    assert repr(UNDEFINED) == "UNDEFINED" and isinstance(UNDEFINED, amf0.Undefined)


def test_unsupported_is_a_bare_marker_that_encodes_back() -> None:
    assert decode(b"\x0d") == (UNSUPPORTED, 1)
    assert encode(UNSUPPORTED) == b"\x0d"
    assert isinstance(UNSUPPORTED, amf0.Unsupported)


def test_a_reference_is_a_u16_index() -> None:
    assert encode(Reference(258)) == b"\x07\x01\x02"
    assert decode(b"\x07\x01\x02") == (Reference(258), 3)


def test_a_date_is_a_double_of_milliseconds_then_a_s16_timezone() -> None:
    assert encode(Date(1.5e12)) == b"\x0b" + double(1.5e12) + b"\x00\x00"
    assert decode(b"\x0b" + double(1.5e12) + b"\xff\xc4") == (Date(1.5e12, -60), 11)


def test_a_date_timezone_must_be_zero_when_sent() -> None:
    with pytest.raises(AMF0Error, match="timezone"):
        encode(Date(0.0, 60))


def test_an_xml_document_is_u32_length_utf8_text() -> None:
    assert encode(XmlDocument("<a/>")) == b"\x0f\x00\x00\x00\x04<a/>"
    assert decode(b"\x0f\x00\x00\x00\x04<a/>") == (XmlDocument("<a/>"), 9)


def test_a_typed_object_is_a_class_name_then_properties() -> None:
    wire = b"\x10\x00\x03Foo\x00\x01x\x00" + double(2.0) + OBJECT_END
    assert encode(TypedObject("Foo", {"x": 2.0})) == wire
    assert decode(wire) == (TypedObject("Foo", {"x": 2.0}), len(wire))


@pytest.mark.parametrize("marker", [0x04, 0x0E])
def test_the_reserved_movieclip_and_recordset_markers_are_rejected(marker: int) -> None:
    with pytest.raises(AMF0Error, match="reserved"):
        decode(bytes([marker]))


@pytest.mark.parametrize("marker", [0x12, 0x7F, 0xFF])
def test_an_unknown_marker_is_rejected(marker: int) -> None:
    with pytest.raises(AMF0Error, match="unknown type marker"):
        decode(b"\x05" + bytes([marker]), 1)


@pytest.mark.parametrize("wire", [b"\x09", b"\x0a\x00\x00\x00\x01\x09", b"\x03\x00\x01a\x09"])
def test_an_object_end_marker_met_as_a_value_is_rejected(wire: bytes) -> None:
    with pytest.raises(AMF0Error, match="object-end"):
        decode(wire)


def test_the_avmplus_marker_raises_amf3_switch() -> None:
    with pytest.raises(Amf3Switch, match="offset 4"):
        decode_all(b"\x05\x06\x05\x05\x11\x02\x03abc")
    assert issubclass(Amf3Switch, AMF0Error) and issubclass(AMF0Error, ValueError)


# -- the API around values ------------------------------------------------------------------


def test_decode_starts_at_offset_and_returns_the_offset_after_the_value() -> None:
    data = b"xx" + encode("a") + b"yy"
    assert decode(data, 2) == ("a", 6)


def test_an_rtmp_connect_command_is_values_back_to_back() -> None:
    props = {"app": "live", "tcUrl": "rtmp://h/live", "objectEncoding": 0.0}
    body = encode_all("connect", 1, props)
    assert body == encode("connect") + encode(1.0) + encode(props)
    assert decode_all(body) == ["connect", 1.0, props]
    assert decode_all(b"") == []


@pytest.mark.parametrize("value", [b"bytes", object(), {1, 2}, 1j, {1: "a"}, [b"x"]])
def test_a_python_type_without_an_amf0_form_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError):
        encode(value)


@pytest.mark.parametrize("offset", [-1, 1, 5])
def test_decoding_outside_the_data_is_an_amf0_error(offset: int) -> None:
    with pytest.raises(AMF0Error, match="no value"):
        decode(b"\x05", offset)


def test_every_truncation_of_a_value_is_an_amf0_error_naming_an_offset() -> None:
    value = TypedObject("T", {"a": [1.0, EcmaArray(b=Date(0.0))], "s": "x" * 5, "x": True})
    wire = encode(value)
    for cut in range(len(wire)):
        with pytest.raises(AMF0Error, match="offset"):
            decode(wire[:cut])


@pytest.mark.parametrize(
    "wire",
    [b"\x02\x00\x01\xff", b"\x0c\x00\x00\x00\x02\xc3\x28", b"\x03\x00\x01\x80\x05" + OBJECT_END],
)
def test_invalid_utf8_is_an_amf0_error(wire: bytes) -> None:
    with pytest.raises(AMF0Error, match="UTF-8"):
        decode(wire)


def test_a_lone_surrogate_cannot_be_encoded() -> None:
    with pytest.raises(AMF0Error, match="UTF-8"):
        encode("\ud800")


# -- bounds ---------------------------------------------------------------------------------


def nested(depth: int) -> Any:
    value: Any = 1.0
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def test_nesting_up_to_max_depth_decodes() -> None:
    value = nested(MAX_DEPTH)
    assert decode(encode(value)) == (value, len(encode(value)))


@pytest.mark.parametrize(
    "bomb",
    [
        b"\x03" * 100_000,  # each level's key is 0x0303 bytes of 0x03, then another object
        b"\x03\x00\x00" * 10_000,  # empty keys whose values are objects, not the object end
        b"\x0a\x00\x00\x00\x01" * 10_000,
        b"\x08\x00\x00\x00\x01\x00\x01k" * 10_000,
    ],
)
def test_a_depth_bomb_is_rejected_quickly(bomb: bytes) -> None:
    start = time.perf_counter()
    with pytest.raises(AMF0Error, match="MAX_DEPTH"):
        decode(bomb)
    assert time.perf_counter() - start < 0.5


def test_encoding_past_max_depth_or_a_cycle_is_refused() -> None:
    with pytest.raises(AMF0Error, match="MAX_DEPTH"):
        encode(nested(MAX_DEPTH + 1))
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(AMF0Error, match="MAX_DEPTH"):
        encode(cycle)


@pytest.mark.parametrize("count", [MAX_ITEMS + 1, 0xFFFFFFFF])
def test_a_huge_strict_array_count_is_rejected_before_allocating(count: int) -> None:
    with pytest.raises(AMF0Error, match="MAX_ITEMS"):
        decode(b"\x0a" + struct.pack(">I", count) + b"\x05" * 16)


def test_a_strict_array_count_beyond_the_data_is_truncated() -> None:
    with pytest.raises(AMF0Error, match="truncated"):
        decode(b"\x0a" + struct.pack(">I", MAX_ITEMS) + b"\x05" * 16)


def test_an_object_with_more_than_max_items_properties_is_rejected() -> None:
    pair = b"\x00\x01k\x05"  # repeated keys still count: each pair is work
    assert decode(b"\x03" + pair * MAX_ITEMS + OBJECT_END)[0] == {"k": None}
    with pytest.raises(AMF0Error, match="MAX_ITEMS"):
        decode(b"\x03" + pair * (MAX_ITEMS + 1) + OBJECT_END)


def test_encoding_more_than_max_items_is_refused() -> None:
    with pytest.raises(AMF0Error, match="MAX_ITEMS"):
        encode([None] * (MAX_ITEMS + 1))


def test_values_the_wire_cannot_hold_are_refused() -> None:
    with pytest.raises(AMF0Error, match="u16"):
        encode(Reference(0x10000))
    with pytest.raises(AMF0Error, match="u16"):
        encode({"k" * 0x10000: None})
    with pytest.raises(AMF0Error, match="too large"):
        encode(10**400)


# -- properties -----------------------------------------------------------------------------

keys = st.text(max_size=8)
leaves = st.one_of(
    st.floats(allow_nan=False),
    st.booleans(),
    st.text(max_size=20),
    st.none(),
    st.just(UNDEFINED),
    st.just(UNSUPPORTED),
    st.builds(Date, st.floats(allow_nan=False)),
    st.builds(Reference, st.integers(0, 0xFFFF)),
    st.builds(XmlDocument, st.text(max_size=20)),
)


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    props = st.dictionaries(keys, children, max_size=4)
    return st.one_of(
        props,
        st.lists(children, max_size=4),
        props.map(EcmaArray),
        st.builds(TypedObject, keys, props),
    )


values = st.recursive(leaves, containers, max_leaves=12)


@given(values)
def test_every_value_survives_an_encode_decode_round_trip(value: Any) -> None:
    wire = encode(value)
    decoded, end = decode(wire)
    assert end == len(wire)
    assert decoded == value and shape(decoded) == shape(value)


@settings(max_examples=50)
@given(st.lists(values, max_size=3))
def test_a_sequence_of_values_survives_encode_all_then_decode_all(items: list[Any]) -> None:
    assert decode_all(encode_all(*items)) == items


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_only_amf0_error(data: bytes) -> None:
    try:
        decode_all(data)
    except AMF0Error:
        pass


@settings(max_examples=150)
@given(values, st.data())
def test_corrupted_encodings_decode_or_raise_only_amf0_error(
    value: Any, data: st.DataObject
) -> None:
    wire = bytearray(encode(value))
    for _ in range(data.draw(st.integers(1, 3))):
        wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
    try:
        decode_all(bytes(wire[: data.draw(st.integers(0, len(wire)))]))
    except AMF0Error:
        pass
