"""Streaming decoders for every codec Spark writes event logs with, plus gzip.

Spark frames its codecs its own way: lz4 is lz4-java's LZ4BlockOutputStream (not the LZ4 frame
format), snappy is snappy-java's SnappyOutputStream, lzf is compress-lzf's LZFOutputStream, and
zstd logs are several frames. Each decoder reads a binary stream in chunks and yields
decompressed bytes; a stream cut short raises TruncatedStream after yielding what it could.

Memory is bounded whatever the input claims: zstd and gzip yield pieces of at most CHUNK bytes
however far a frame or member expands (a 32 KB zstd frame can hold 1 GB of zeros), and a lz4 or
snappy block that says it decompresses to more than MAX_BLOCK_BYTES (32 MiB) is refused as
corrupt before anything is allocated for it. lzf chunks hold at most 64 KiB by format.
"""

from __future__ import annotations

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


# ---- zstd ------------------------------------------------------------------------------------

_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_SKIPPABLE = 0x184D2A50  # the 16 magics 0x184D2A50..5F
_ZSTD_BLOCK_MAX = 1 << 17  # a zstd block decodes to at most 128 KiB, whatever its size
_ZSTD_BLOCKS_PER_CALL = CHUNK // _ZSTD_BLOCK_MAX
_ZSTD_BLIND_STEP = 4 * _ZSTD_BLOCKS_PER_CALL  # a block takes 4 bytes at least (an RLE block)
_MAGIC, _SKIPPABLE_SIZE, _FRAME_HEADER, _BLOCK_HEADER, _BLIND = range(5)


class _ZstdBlocks:
    """Finds where each zstd block ends in the compressed bytes, reading only frame and block
    headers (never their content), so decoding can be fed a few blocks at a time.

    It only paces the decoder: libzstd alone judges what is valid. From bytes it does not
    understand (a legacy frame, garbage) on, it turns blind and every _ZSTD_BLIND_STEP bytes
    counts as a block end, which still bounds what one step can decode to.
    """

    def __init__(self) -> None:
        self.state, self.want, self.header = _MAGIC, 4, b""
        self.skip = 0  # bytes of block content (or of a skippable frame) still to pass
        self.block = False  # whether a block ends where the skip ends
        self.checksum = 0  # bytes of checksum after the frame's last block

    def ends(self, data: bytes) -> tuple[list[int], int | None]:
        """(offsets just after each block that ends in `data`, offset where it turned blind)."""
        ends: list[int] = []
        pos, size = 0, len(data)
        if self.state == _BLIND:
            return ends, 0
        while pos < size:
            if self.skip:
                step = min(self.skip, size - pos)
                pos += step
                self.skip -= step
                if not self.skip and self.block:
                    ends.append(pos)
                    self.block = False
                continue
            take = self.want - len(self.header)
            self.header += data[pos : pos + take]
            pos += min(take, size - pos)
            if len(self.header) < self.want:
                break
            header, self.header = self.header, b""
            self._parse(header)
            if self.state == _BLIND:
                return ends, pos
            if self.block and not self.skip:  # an empty raw block
                ends.append(pos)
                self.block = False
        return ends, None

    def _parse(self, header: bytes) -> None:
        value = int.from_bytes(header, "little")
        if self.state == _MAGIC:
            if value == _ZSTD_MAGIC:
                self.state, self.want = _FRAME_HEADER, 1
            elif value & 0xFFFFFFF0 == _ZSTD_SKIPPABLE:
                self.state, self.want = _SKIPPABLE_SIZE, 4
            else:
                self.state = _BLIND
        elif self.state == _SKIPPABLE_SIZE:
            self.skip, self.state, self.want = value, _MAGIC, 4
        elif self.state == _FRAME_HEADER:  # the descriptor says how long the rest of the header is
            single_segment, dictionary = (value >> 5) & 1, value & 3
            content_size = (single_segment, 2, 4, 8)[value >> 6]
            self.skip = (1 - single_segment) + (0, 1, 2, 4)[dictionary] + content_size
            self.checksum = 4 if value & 4 else 0
            self.state, self.want = _BLOCK_HEADER, 3
        else:  # a block: [last:1][type:2][size:21], then size bytes (1 byte for an RLE block)
            last, kind, size = value & 1, (value >> 1) & 3, value >> 3
            if kind == 3:  # reserved: libzstd will refuse it
                self.state = _BLIND
                return
            self.skip = (1 if kind == 1 else size) + (self.checksum if last else 0)
            self.block = True
            if last:
                self.state, self.want = _MAGIC, 4


def _zstd_steps(chunk: bytes, blocks: _ZstdBlocks) -> Iterator[memoryview]:
    """The chunk in consecutive slices that each complete at most _ZSTD_BLOCKS_PER_CALL blocks."""
    view = memoryview(chunk)
    ends, blind = blocks.ends(chunk)
    start = 0
    for end in ends[_ZSTD_BLOCKS_PER_CALL - 1 :: _ZSTD_BLOCKS_PER_CALL]:
        yield view[start:end]
        start = end
    if blind is not None:
        if blind > start:
            yield view[start:blind]
        for offset in range(max(start, blind), len(chunk), _ZSTD_BLIND_STEP):
            yield view[offset : offset + _ZSTD_BLIND_STEP]
    elif start < len(chunk):
        yield view[start:]


def _pieces(out: bytes) -> Iterator[bytes]:
    if len(out) <= CHUNK:
        yield out
    else:
        for start in range(0, len(out), CHUNK):
            yield out[start : start + CHUNK]


def zstd(stream: BinaryIO) -> Iterator[bytes]:
    """Spark's zstd logs may be many frames; a frame left open at the end means the file was cut.

    The decoder is fed a few blocks at a time (_ZstdBlocks finds them), so it never holds more
    than about CHUNK of output, however far a frame expands. Its window is capped at libzstd's
    default limit (128 MiB); a frame asking for more is refused as corrupt.
    """
    context = zstandard.ZstdDecompressor()
    blocks = _ZstdBlocks()
    frame, in_frame = context.decompressobj(), False
    try:
        while chunk := stream.read(CHUNK):
            for step in _zstd_steps(chunk, blocks):
                data: bytes | memoryview = step
                while data:
                    out = frame.decompress(data)
                    in_frame = True
                    if out:
                        yield from _pieces(out)
                    if frame.eof:
                        data, frame, in_frame = frame.unused_data, context.decompressobj(), False
                    else:
                        data = b""
    except zstandard.ZstdError as exc:
        raise CorruptStream(str(exc)) from exc
    if in_frame:
        raise TruncatedStream("zstd frame cut short")


# ---- gzip ------------------------------------------------------------------------------------

_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib reads the gzip header and checks the CRC and length


def gz(stream: BinaryIO) -> Iterator[bytes]:
    """gzip members one after another (zero padding between them is skipped, as gzip does).

    zlib inflates at most CHUNK per call and parses the header in C (gzip.GzipFile reads a
    header's file name and comment one byte per Python call).
    """
    inflater, in_member, members = zlib.decompressobj(_GZIP_WBITS), False, 0
    try:
        while chunk := stream.read(CHUNK):
            data = chunk
            while True:
                if not in_member:
                    data = data.lstrip(b"\0") if members else data
                    if not data:
                        break
                    in_member = True
                out = inflater.decompress(data, CHUNK)
                if out:
                    yield out
                if inflater.eof:
                    data, members = inflater.unused_data, members + 1
                    inflater, in_member = zlib.decompressobj(_GZIP_WBITS), False
                    continue
                data = inflater.unconsumed_tail
                if not data and len(out) < CHUNK:
                    break
    except zlib.error as exc:
        raise CorruptStream(f"gzip: {exc}") from exc
    if in_member:
        raise TruncatedStream("gzip member cut short")


# ---- lz4, snappy, lzf ------------------------------------------------------------------------

# lz4-java's largest block: its token holds log2(block size) - 10 in 4 bits, so 1 << 25 (32 MiB).
# Spark writes 32 KiB blocks (spark.io.compression.lz4.blockSize). snappy-java takes any block
# size (its reader refuses over 512 MiB) but Spark writes 32 KiB (spark.io.compression.snappy.
# blockSize): the same 32 MiB cap leaves a thousand times that. A block that says it is bigger is
# refused as corrupt before anything is allocated for it.
MAX_BLOCK_BYTES = 1 << 25
_LZ4_MAX_COMPRESSED = MAX_BLOCK_BYTES + MAX_BLOCK_BYTES // 255 + 16  # LZ4_compressBound
_SNAPPY_MAX_COMPRESSED = 32 + MAX_BLOCK_BYTES + MAX_BLOCK_BYTES // 6  # snappy MaxCompressedLength
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
        if compressed_len < 0 or original_len < 0 or compressed_len > _LZ4_MAX_COMPRESSED:
            raise CorruptStream("lz4 block with an impossible length")
        if original_len > MAX_BLOCK_BYTES:
            raise CorruptStream(
                f"lz4 block says it holds {original_len} bytes, over the {MAX_BLOCK_BYTES} cap"
            )
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


def _snappy_length(block: bytes) -> int:
    """The decompressed length a raw snappy block starts with (a little-endian varint)."""
    value = 0
    for index, byte in enumerate(block[:5]):
        value |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            return value
    raise CorruptStream("snappy block without a valid length preamble")


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
        if size < 0 or size > _SNAPPY_MAX_COMPRESSED:
            raise CorruptStream("snappy block with an impossible length")
        data = _take(stream, size, "snappy block")
        if (length := _snappy_length(data)) > MAX_BLOCK_BYTES:
            raise CorruptStream(
                f"snappy block says it holds {length} bytes, over the {MAX_BLOCK_BYTES} cap"
            )
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
