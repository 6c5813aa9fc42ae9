"""AMF0 (Action Message Format 0) encoder and decoder: pure functions over bytes, no I/O.

Implements Adobe's "Action Message Format -- AMF 0" specification (2006): the type markers of
§2.1 and the encodings of §2.2-§2.18, plus recognition of the AVM+ marker of §3.1 (switch to
AMF3), which is reported as `Amf3Switch` and not decoded. All integers are big-endian and a
number is a big-endian IEEE-754 double (§1.3).

Python mapping: number <-> float (an int encodes as a number, a bool does not), boolean <-> bool,
string and long string -> str, object <-> dict, null <-> None, undefined <-> `UNDEFINED`, ECMA
array <-> `EcmaArray`, strict array <-> list, plus small records for date, typed object,
reference, XML document and the unsupported marker.

The decoder is total over arbitrary bytes: it raises only `AMF0Error` (or `Amf3Switch`), and
`MAX_DEPTH` / `MAX_ITEMS` bound nesting and element counts so that hostile input is rejected
before it costs recursion or memory. The encoder enforces the same bounds, so anything it
produces the decoder accepts.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 32  # nesting of objects and arrays; real RTMP commands nest two or three deep
MAX_ITEMS = 65536  # elements in one strict array, or properties in one object / ECMA array

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_S16 = struct.Struct(">h")
_DOUBLE = struct.Struct(">d")


class Marker(enum.IntEnum):
    """The one-byte type markers (§2.1)."""

    NUMBER = 0x00
    BOOLEAN = 0x01
    STRING = 0x02
    OBJECT = 0x03
    MOVIECLIP = 0x04  # reserved, not supported
    NULL = 0x05
    UNDEFINED = 0x06
    REFERENCE = 0x07
    ECMA_ARRAY = 0x08
    OBJECT_END = 0x09
    STRICT_ARRAY = 0x0A
    DATE = 0x0B
    LONG_STRING = 0x0C
    UNSUPPORTED = 0x0D
    RECORDSET = 0x0E  # reserved, not supported
    XML_DOCUMENT = 0x0F
    TYPED_OBJECT = 0x10
    AVMPLUS_OBJECT = 0x11  # §3.1: the rest of the value is AMF3


_OBJECT_END = b"\x00\x00\x09"  # §2.11: the empty UTF-8 key, then the object-end marker


class AMF0Error(ValueError):
    """Malformed, truncated or over-bound AMF0 data; the message names what and where."""


class Amf3Switch(AMF0Error):
    """The avmplus-object marker (0x11): the value continues in AMF3, which is not decoded here."""


class Undefined(enum.Enum):
    """The type of `UNDEFINED`, the undefined value (§2.8); an enum member is a safe singleton."""

    UNDEFINED = "UNDEFINED"

    def __repr__(self) -> str:
        return "UNDEFINED"


class Unsupported(enum.Enum):
    """The type of `UNSUPPORTED`, the unsupported-type marker (§2.15)."""

    UNSUPPORTED = "UNSUPPORTED"

    def __repr__(self) -> str:
        return "UNSUPPORTED"


UNDEFINED = Undefined.UNDEFINED
UNSUPPORTED = Unsupported.UNSUPPORTED


class EcmaArray(dict[str, Any]):
    """An ECMA (associative) array (§2.10): string keys like an object, a distinct marker."""


@dataclass(frozen=True)
class Date:
    """A date (§2.13): milliseconds since the Unix epoch (UTC) and a signed 16-bit timezone.

    The spec says the timezone is reserved and must be 0 when sent; it is decoded as found.
    """

    milliseconds: float
    timezone: int = 0


@dataclass(frozen=True)
class TypedObject:
    """A typed object (§2.18): an object with a registered class name."""

    class_name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Reference:
    """A reference (§2.9): the u16 index of an earlier complex value in the same message."""

    index: int


@dataclass(frozen=True)
class XmlDocument:
    """An XML document (§2.17): UTF-8 text with a u32 length."""

    text: str


# -- decoding ---------------------------------------------------------------------------------

_Reader = Callable[[bytes, int, int], tuple[Any, int]]


def decode(data: bytes, offset: int = 0, *, depth: int = 0) -> tuple[Any, int]:
    """Decode one value at `offset`; return it and the offset just past it.

    `depth` is the nesting level of the value (0 at top level); containers at `MAX_DEPTH` or
    deeper are rejected. Raises only `AMF0Error` (or its subclass `Amf3Switch`).
    """
    if not 0 <= offset < len(data):
        raise AMF0Error(f"no value at offset {offset}: data is {len(data)} bytes")
    marker = data[offset]
    reader = _READERS.get(marker)
    if reader is None:
        raise _bad_marker(marker, offset)
    return reader(data, offset + 1, depth)


def decode_all(data: bytes) -> list[Any]:
    """Decode consecutive values until the end of `data` (an RTMP command or data body)."""
    values: list[Any] = []
    offset = 0
    while offset < len(data):
        value, offset = decode(data, offset)
        values.append(value)
    return values


def _bad_marker(marker: int, offset: int) -> AMF0Error:
    if marker == Marker.AVMPLUS_OBJECT:
        return Amf3Switch(f"avmplus-object marker (switch to AMF3) at offset {offset}")
    if marker in (Marker.MOVIECLIP, Marker.RECORDSET):
        return AMF0Error(f"reserved marker {Marker(marker).name} (0x{marker:02x}) at {offset}")
    if marker == Marker.OBJECT_END:
        return AMF0Error(f"object-end marker outside an object at offset {offset}")
    return AMF0Error(f"unknown type marker 0x{marker:02x} at offset {offset}")


def _need(data: bytes, offset: int, size: int, what: str) -> int:
    """The offset after `size` bytes at `offset`; checked first so no read ever runs short."""
    end = offset + size
    if end > len(data):
        have = max(len(data) - offset, 0)
        raise AMF0Error(f"truncated {what} at offset {offset}: need {size} bytes, have {have}")
    return end


def _unpack(fmt: struct.Struct, data: bytes, offset: int, what: str) -> tuple[Any, int]:
    end = _need(data, offset, fmt.size, what)
    return fmt.unpack_from(data, offset)[0], end


def _utf8(data: bytes, offset: int, size: int, what: str) -> tuple[str, int]:
    end = _need(data, offset, size, what)
    try:
        return data[offset:end].decode("utf-8"), end
    except UnicodeDecodeError as exc:
        raise AMF0Error(f"invalid UTF-8 in {what} at offset {offset + exc.start}") from None


def _short_utf8(data: bytes, offset: int, what: str) -> tuple[str, int]:
    """UTF-8 with a u16 length (§1.3 UTF-8): strings, property names, class names."""
    size, offset = _unpack(_U16, data, offset, f"{what} length")
    return _utf8(data, offset, size, what)


def _long_utf8(data: bytes, offset: int, what: str) -> tuple[str, int]:
    """UTF-8 with a u32 length (§1.3 UTF-8-long): long strings and XML documents."""
    size, offset = _unpack(_U32, data, offset, f"{what} length")
    return _utf8(data, offset, size, what)


def _enter(depth: int, offset: int) -> int:
    """The depth of a container's children; refuses nesting past `MAX_DEPTH`."""
    if depth >= MAX_DEPTH:
        raise AMF0Error(f"nesting deeper than MAX_DEPTH={MAX_DEPTH} at offset {offset}")
    return depth + 1


def _properties(data: bytes, offset: int, depth: int) -> tuple[dict[str, Any], int]:
    """Name/value pairs up to the object end (§2.5), shared by object, ECMA array, typed object."""
    start, inner = offset, _enter(depth, offset)
    props: dict[str, Any] = {}
    count = 0
    while True:
        key, offset = _short_utf8(data, offset, "property name")
        # Only an empty key followed by 0x09 ends the object; an empty key with any other
        # value is an ordinary (if odd) property.
        if not key and data[offset : offset + 1] == b"\x09":
            return props, offset + 1
        if count == MAX_ITEMS:
            raise AMF0Error(f"object at offset {start} has more than MAX_ITEMS={MAX_ITEMS} items")
        count += 1  # counts pairs, not distinct keys: repeated keys cost work too
        value, offset = decode(data, offset, depth=inner)
        props[key] = value


def _read_number(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    return _unpack(_DOUBLE, data, offset, "number")


def _read_boolean(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    end = _need(data, offset, 1, "boolean")
    return data[offset] != 0, end  # §2.3: any non-zero byte is true


def _read_string(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    return _short_utf8(data, offset, "string")


def _read_long_string(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    return _long_utf8(data, offset, "long string")


def _read_object(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    return _properties(data, offset, depth)


def _read_null(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    return None, offset


def _read_undefined(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    return UNDEFINED, offset


def _read_unsupported(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    return UNSUPPORTED, offset


def _read_reference(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    index, offset = _unpack(_U16, data, offset, "reference")
    return Reference(index), offset


def _read_ecma_array(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    # §2.10: the count is only a hint (encoders get it wrong); the object end is authoritative.
    _, offset = _unpack(_U32, data, offset, "ECMA array count")
    props, offset = _properties(data, offset, depth)
    return EcmaArray(props), offset


def _read_strict_array(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    start = offset
    count, offset = _unpack(_U32, data, offset, "strict array count")
    if count > MAX_ITEMS:
        raise AMF0Error(f"strict array at offset {start} counts {count} > MAX_ITEMS={MAX_ITEMS}")
    # Every value takes at least its marker byte, so a count beyond the remaining bytes is
    # certainly truncated: fail now rather than after decoding a prefix.
    _need(data, offset, count, f"strict array of {count} values")
    inner = _enter(depth, start)
    items: list[Any] = []
    for _ in range(count):
        value, offset = decode(data, offset, depth=inner)
        items.append(value)
    return items, offset


def _read_date(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    milliseconds, offset = _unpack(_DOUBLE, data, offset, "date")
    timezone, offset = _unpack(_S16, data, offset, "date timezone")
    return Date(milliseconds, timezone), offset


def _read_xml_document(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    text, offset = _long_utf8(data, offset, "XML document")
    return XmlDocument(text), offset


def _read_typed_object(data: bytes, offset: int, depth: int) -> tuple[Any, int]:
    class_name, offset = _short_utf8(data, offset, "class name")
    props, offset = _properties(data, offset, depth)
    return TypedObject(class_name, props), offset


_READERS: dict[int, _Reader] = {
    Marker.NUMBER: _read_number,
    Marker.BOOLEAN: _read_boolean,
    Marker.STRING: _read_string,
    Marker.OBJECT: _read_object,
    Marker.NULL: _read_null,
    Marker.UNDEFINED: _read_undefined,
    Marker.REFERENCE: _read_reference,
    Marker.ECMA_ARRAY: _read_ecma_array,
    Marker.STRICT_ARRAY: _read_strict_array,
    Marker.DATE: _read_date,
    Marker.LONG_STRING: _read_long_string,
    Marker.UNSUPPORTED: _read_unsupported,
    Marker.XML_DOCUMENT: _read_xml_document,
    Marker.TYPED_OBJECT: _read_typed_object,
}


# -- encoding ---------------------------------------------------------------------------------


def encode(value: Any) -> bytes:
    """The AMF0 bytes of one value; TypeError for a Python type with no AMF0 form.

    Values AMF0 cannot carry (nesting past `MAX_DEPTH`, more than `MAX_ITEMS` elements, a
    non-zero date timezone, an out-of-range reference) raise `AMF0Error`.
    """
    out = bytearray()
    _write(out, value, 0)
    return bytes(out)


def encode_all(*values: Any) -> bytes:
    """The concatenated encodings of `values` (an RTMP command or data body)."""
    out = bytearray()
    for value in values:
        _write(out, value, 0)
    return bytes(out)


def _write(out: bytearray, value: Any, depth: int) -> None:
    if value is None:
        out.append(Marker.NULL)
    elif value is UNDEFINED:
        out.append(Marker.UNDEFINED)
    elif value is UNSUPPORTED:
        out.append(Marker.UNSUPPORTED)
    elif isinstance(value, bool):  # before int: bool is an int subclass
        out += bytes((Marker.BOOLEAN, int(value)))
    elif isinstance(value, int | float):
        _write_number(out, value)
    elif isinstance(value, str):
        _write_string(out, value)
    elif isinstance(value, Date | Reference | XmlDocument):
        _write_record(out, value)
    else:
        _write_container(out, value, depth)


def _write_number(out: bytearray, value: float) -> None:
    try:
        number = float(value)
    except OverflowError:
        raise AMF0Error(f"integer {value} is too large for an AMF0 number") from None
    out.append(Marker.NUMBER)
    out += _DOUBLE.pack(number)


def _utf8_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AMF0Error(f"string is not encodable as UTF-8: {exc.reason}") from None


def _short_utf8_bytes(text: str, what: str) -> bytes:
    raw = _utf8_bytes(text)
    if len(raw) > 0xFFFF:
        raise AMF0Error(f"{what} of {len(raw)} UTF-8 bytes exceeds the u16 length")
    return _U16.pack(len(raw)) + raw


def _long_utf8_bytes(raw: bytes, what: str) -> bytes:
    if len(raw) > 0xFFFFFFFF:
        raise AMF0Error(f"{what} of {len(raw)} UTF-8 bytes exceeds the u32 length")
    return _U32.pack(len(raw)) + raw


def _write_string(out: bytearray, text: str) -> None:
    raw = _utf8_bytes(text)
    # §2.14: the long form is only for strings the u16 length cannot hold.
    if len(raw) <= 0xFFFF:
        out.append(Marker.STRING)
        out += _U16.pack(len(raw)) + raw
    else:
        out.append(Marker.LONG_STRING)
        out += _long_utf8_bytes(raw, "long string")


def _write_record(out: bytearray, value: Date | Reference | XmlDocument) -> None:
    if isinstance(value, Date):
        if value.timezone != 0:
            raise AMF0Error(f"date timezone must be 0 when sent (§2.13), got {value.timezone}")
        out.append(Marker.DATE)
        out += _DOUBLE.pack(value.milliseconds) + _S16.pack(0)
    elif isinstance(value, Reference):
        if not 0 <= value.index <= 0xFFFF:
            raise AMF0Error(f"reference index {value.index} is not a u16")
        out.append(Marker.REFERENCE)
        out += _U16.pack(value.index)
    else:
        out.append(Marker.XML_DOCUMENT)
        out += _long_utf8_bytes(_utf8_bytes(value.text), "XML document")


def _write_container(out: bytearray, value: Any, depth: int) -> None:
    if not isinstance(value, TypedObject | Mapping | list | tuple):
        raise TypeError(f"cannot encode {type(value).__name__} as AMF0")
    # The same bounds as the decoder, which also stops self-referencing values recursing.
    inner = _enter(depth, len(out))
    size = len(value.properties) if isinstance(value, TypedObject) else len(value)
    if size > MAX_ITEMS:
        raise AMF0Error(f"{type(value).__name__} of {size} elements exceeds MAX_ITEMS")
    if isinstance(value, TypedObject):
        out.append(Marker.TYPED_OBJECT)
        out += _short_utf8_bytes(value.class_name, "class name")
        _write_properties(out, value.properties, inner)
    elif isinstance(value, EcmaArray):  # before Mapping: it is a dict too
        out.append(Marker.ECMA_ARRAY)
        out += _U32.pack(len(value))
        _write_properties(out, value, inner)
    elif isinstance(value, Mapping):
        out.append(Marker.OBJECT)
        _write_properties(out, value, inner)
    else:
        out.append(Marker.STRICT_ARRAY)
        out += _U32.pack(len(value))
        for item in value:
            _write(out, item, inner)


def _write_properties(out: bytearray, props: Mapping[Any, Any], depth: int) -> None:
    for key, item in props.items():
        if not isinstance(key, str):
            raise TypeError(f"AMF0 property names are strings, not {type(key).__name__}")
        out += _short_utf8_bytes(key, "property name")
        _write(out, item, depth)
    out += _OBJECT_END
