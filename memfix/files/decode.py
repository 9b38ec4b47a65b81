"""Bytes to text and back, the way Python itself reads a source file."""

from __future__ import annotations

import codecs
import io
import tokenize
from dataclasses import dataclass


class DecodeError(ValueError):
    """The bytes are not text in the encoding the file declares (UTF-8 by default)."""


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    bom: bool


def decode_source(data: bytes) -> Decoded:
    """Decode a Python file's bytes: BOM, then a `coding:` cookie, else UTF-8.

    Line endings are kept as they are. Raises DecodeError with a one-line reason.
    """
    if b"\x00" in data:
        raise DecodeError("binary file (contains a NUL byte)")
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        # Raised for undecodable bytes in the first two lines, and for a bad cookie.
        encoding, problem = "utf-8", str(error)
    else:
        problem = ""
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        raise DecodeError(
            f"not valid {encoding}: byte {error.object[error.start]:#04x} at offset {error.start}"
        ) from None
    except LookupError:
        raise DecodeError(f"unknown encoding {encoding!r}") from None
    if problem:
        raise DecodeError(problem)
    return Decoded(text=text, encoding=encoding, bom=bom)


def encode_source(text: str, encoding: str, bom: bool) -> bytes:
    """The inverse of `decode_source`; raises UnicodeEncodeError for unencodable text."""
    data = text.encode(encoding)
    return codecs.BOM_UTF8 + data if bom else data
