"""Just enough of the protobuf wire format to edit and to write ONNX models (no ``onnx`` package).

CenterFace's shipped model is edited with :func:`fields`; the dlib face encoder's ONNX graph is
written with :func:`message`, :func:`varint_field`, :func:`bytes_field` and friends.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

from photoguard.errors import DetectorError


def read_varint(buf: bytes, i: int) -> tuple[int, int]:
    """The varint at ``buf[i]`` and the index after it."""
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def varint(n: int) -> bytes:
    """``n`` (an int64; negative ones as ten-byte two's complement) as a varint."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | 0x80 if n else low)
        if not n:
            return bytes(out)


def fields(buf: bytes) -> Iterator[tuple[int, bytes, bytes | None]]:
    """Yield ``(field_number, raw_field_bytes, payload_if_length_delimited)``.

    Raises:
        DetectorError: a wire type this reader does not know (groups).
    """
    i = 0
    while i < len(buf):
        start = i
        key, i = read_varint(buf, i)
        wire = key & 7
        payload = None
        if wire == 0:
            _, i = read_varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = read_varint(buf, i)
            payload = buf[i : i + n]
            i += n
        else:
            raise DetectorError(f"model file: unsupported protobuf wire type {wire}")
        yield key >> 3, buf[start:i], payload


def bytes_field(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field (bytes, a string or an embedded message)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def varint_field(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def float_field(number: int, value: float) -> bytes:
    return varint(number << 3 | 5) + struct.pack("<f", value)


def message(*parts: bytes | Iterable[bytes]) -> bytes:
    """Concatenate encoded fields (or iterables of them) into one message body."""
    return b"".join(p if isinstance(p, bytes) else b"".join(p) for p in parts)


def string_field_value(msg: bytes, number: int) -> str | None:
    """The first length-delimited field ``number`` of ``msg``, decoded, or None."""
    for num, _, payload in fields(msg):
        if num == number and payload is not None:
            return payload.decode()
    return None
