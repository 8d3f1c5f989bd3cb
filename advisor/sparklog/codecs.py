"""Streaming decoders for every codec Spark writes event logs with, plus gzip.

Spark frames its codecs its own way: lz4 is lz4-java's LZ4BlockOutputStream (not the LZ4 frame
format), snappy is snappy-java's SnappyOutputStream, lzf is compress-lzf's LZFOutputStream, and
zstd logs are several frames. Each decoder reads a binary stream in chunks and yields
decompressed bytes; a stream cut short raises TruncatedStream after yielding what it could.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

import cramjam
import lz4.block
import lzf
import zstandard

CHUNK = 1 << 20
CODECS = ("zstd", "lz4", "snappy", "lzf", "gz")


class TruncatedStream(Exception):
    """The compressed stream ended in the middle of a block."""


class CorruptStream(Exception):
    """The bytes do not follow the codec's format."""


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    parts, remaining = [], size
    while remaining:
        data = stream.read(remaining)
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def _take(stream: BinaryIO, size: int, what: str) -> bytes:
    """Exactly `size` bytes of a block, or TruncatedStream naming what was cut short."""
    data = _read_exact(stream, size)
    if len(data) < size:
        raise TruncatedStream(f"{what} cut short")
    return data


def plain(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def zstd(stream: BinaryIO) -> Iterator[bytes]:
    """Spark's zstd logs are many frames; a frame left open at the end means the file was cut."""
    context = zstandard.ZstdDecompressor()
    frame, in_frame = context.decompressobj(), False
    try:
        while chunk := stream.read(CHUNK):
            data = chunk
            while data:
                out = frame.decompress(data)
                in_frame = True
                if out:
                    yield out
                if frame.eof:
                    data, frame, in_frame = frame.unused_data, context.decompressobj(), False
                else:
                    data = b""
    except zstandard.ZstdError as exc:
        raise CorruptStream(str(exc)) from exc
    if in_frame:
        raise TruncatedStream("zstd frame cut short")


def gz(stream: BinaryIO) -> Iterator[bytes]:
    reader = gzip.GzipFile(fileobj=stream)
    try:
        while chunk := reader.read(CHUNK):
            yield chunk
    except EOFError as exc:
        raise TruncatedStream(str(exc)) from exc
    except (OSError, zlib.error) as exc:
        raise CorruptStream(str(exc)) from exc


_LZ4_MAGIC = b"LZ4Block"
_LZ4_RAW, _LZ4_COMPRESSED = 0x10, 0x20


def lz4_block_stream(stream: BinaryIO) -> Iterator[bytes]:
    """lz4-java LZ4BlockOutputStream: [magic][token][clen LE][dlen LE][checksum][data]..."""
    while True:
        header = _read_exact(stream, 21)
        if not header:
            return
        if len(header) < 21:
            raise TruncatedStream("lz4 block header cut short")
        if header[:8] != _LZ4_MAGIC:
            raise CorruptStream("lz4 block without the LZ4Block magic")
        method = header[8] & 0xF0
        compressed_len, original_len, _checksum = struct.unpack("<iii", header[9:21])
        if original_len == 0:  # the end-of-stream block; concatenated streams may follow
            continue
        if compressed_len < 0 or original_len < 0 or compressed_len > 1 << 26:
            raise CorruptStream("lz4 block with an impossible length")
        data = _take(stream, compressed_len, "lz4 block")
        if method == _LZ4_RAW:
            yield data
        elif method == _LZ4_COMPRESSED:
            try:
                yield lz4.block.decompress(data, uncompressed_size=original_len)
            except lz4.block.LZ4BlockError as exc:
                raise CorruptStream(f"lz4 block: {exc}") from exc
        else:
            raise CorruptStream(f"lz4 block with unknown method {method:#x}")


_SNAPPY_MAGIC = b"\x82SNAPPY\x00"


def snappy_java_stream(stream: BinaryIO) -> Iterator[bytes]:
    """snappy-java SnappyOutputStream: 16-byte header, then [length BE][raw snappy block]..."""
    header = _read_exact(stream, 16)
    if len(header) < 16 or header[:8] != _SNAPPY_MAGIC:
        raise CorruptStream("not a snappy-java stream (no SNAPPY magic header)")
    while True:
        size_bytes = _read_exact(stream, 4)
        if not size_bytes:
            return
        if len(size_bytes) < 4:
            raise TruncatedStream("snappy block length cut short")
        (size,) = struct.unpack(">i", size_bytes)
        if size == struct.unpack(">i", _SNAPPY_MAGIC[:4])[0]:  # concatenated stream header
            _read_exact(stream, 12)
            continue
        if size < 0 or size > 1 << 26:
            raise CorruptStream("snappy block with an impossible length")
        data = _take(stream, size, "snappy block")
        try:
            yield bytes(cramjam.snappy.decompress_raw(data))
        except cramjam.DecompressionError as exc:
            raise CorruptStream(f"snappy block: {exc}") from exc


def lzf_stream(stream: BinaryIO) -> Iterator[bytes]:
    """compress-lzf LZFOutputStream: chunks 'ZV' + type + lengths + data."""
    while True:
        header = _read_exact(stream, 5)
        if not header:
            return
        if len(header) < 5:
            raise TruncatedStream("lzf chunk header cut short")
        if header[:2] != b"ZV":
            raise CorruptStream("lzf chunk without the ZV signature")
        kind = header[2]
        (length,) = struct.unpack(">H", header[3:5])
        if kind == 0:
            data = _take(stream, length, "lzf chunk")
            yield data
        elif kind == 1:
            original = _take(stream, 2, "lzf chunk header")
            (original_len,) = struct.unpack(">H", original)
            data = _take(stream, length, "lzf chunk")
            try:
                out = lzf.decompress(data, original_len + 1)
            except ValueError as exc:
                raise CorruptStream(f"lzf chunk: {exc}") from exc
            if out is None or len(out) != original_len:
                raise CorruptStream("lzf chunk does not decompress to its stated size")
            yield out
        else:
            raise CorruptStream(f"lzf chunk of unknown type {kind}")


DECODERS: dict[str | None, Callable[[BinaryIO], Iterator[bytes]]] = {
    None: plain,
    "zstd": zstd,
    "zst": zstd,
    "lz4": lz4_block_stream,
    "snappy": snappy_java_stream,
    "lzf": lzf_stream,
    "gz": gz,
}


def codec_of(name: str) -> str | None:
    """The codec a log file name declares (Spark appends it as the extension)."""
    stem = name[: -len(".inprogress")] if name.endswith(".inprogress") else name
    extension = stem.rsplit(".", 1)[-1].lower() if "." in stem else ""
    return extension if extension in DECODERS else None
