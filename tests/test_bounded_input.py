"""Hostile event logs: decompression bombs, lying block headers and endless lines are read in
bounded memory and linear work, and what was skipped is reported like any other damage."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import struct
import tracemalloc
import zlib

import cramjam
import lz4.block
import pytest
import zstandard
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.cli import main
from advisor.sparklog import codecs, reader
from advisor.sparklog.codecs import CHUNK, MAX_BLOCK_BYTES, CorruptStream, TruncatedStream
from advisor.sparklog.reader import LineSplitter, Problems, find_logs, iter_lines
from advisor.sparklog.reduce import reduce_log
from advisor.sparklog.summary import summarize
from advisor.store import Store
from tests.conftest import ROOT, SAMPLE

MiB = 1 << 20
PLAIN = ROOT / "tests" / "fixtures" / "spark-events" / "sparklens" / "local-1532512550423"


def zstd_frame(size: int, **params) -> bytes:
    """One frame holding `size` zero bytes, built a MiB at a time."""
    compressor = zstandard.ZstdCompressor(**params).compressobj()
    parts = [compressor.compress(bytes(MiB)) for _ in range(size // MiB)]
    return b"".join([*parts, compressor.flush()])


def drain(decoder, data: bytes) -> tuple[int, int]:
    """(total bytes, largest piece) a decoder yields for `data`."""
    total = largest = 0
    for piece in decoder(io.BytesIO(data)):
        total += len(piece)
        largest = max(largest, len(piece))
    return total, largest


def traced_peak(decoder, data: bytes) -> tuple[int, int]:
    """(total bytes yielded, peak bytes Python allocated while decoding)."""
    tracemalloc.start()
    try:
        total, _ = drain(decoder, data)
        return total, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class Trickle(io.BytesIO):
    """A stream that hands out a few bytes per read, so headers straddle reads."""

    def read(self, size: int = -1) -> bytes:
        return super().read(min(size, 7) if size > 0 else 7)


# ---- zstd ------------------------------------------------------------------------------------


def test_a_zstd_bomb_decodes_in_pieces_no_larger_than_chunk():
    bomb = zstd_frame(256 * MiB)
    assert len(bomb) < 64 * 1024  # a few KB that expand to 256 MiB
    total, largest = drain(codecs.zstd, bomb)
    assert total == 256 * MiB and largest <= CHUNK
    total, peak = traced_peak(codecs.zstd, bomb)  # and never more than a few pieces at once
    assert total == 256 * MiB and peak < 4 * CHUNK


def test_a_zstd_bomb_with_the_largest_window_is_still_bounded():
    params = zstandard.ZstdCompressionParameters.from_level(1, window_log=27)
    bomb = zstd_frame(64 * MiB, compression_params=params)
    assert zstandard.get_frame_parameters(bomb).window_size == 1 << 27
    total, largest = drain(codecs.zstd, bomb)
    assert total == 64 * MiB and largest <= CHUNK


def test_a_frame_asking_for_more_than_the_window_limit_is_corrupt():
    params = zstandard.ZstdCompressionParameters.from_level(1, window_log=30)
    compressor = zstandard.ZstdCompressor(compression_params=params).compressobj()
    frame = compressor.compress(b"x" * 1000) + compressor.flush()
    with pytest.raises(CorruptStream):
        drain(codecs.zstd, frame)


def frames() -> tuple[list[bytes], bytes]:
    """Frames of every shape (checksums, content sizes, skippable frames between) and their text."""
    parts, text = [], []
    for index in range(12):
        data = b"".join(b'{"Event":"E%d","n":%d}\n' % (index, n) for n in range(index * 500))
        compressor = zstandard.ZstdCompressor(
            level=1 + index % 5, write_checksum=index % 2 == 0, write_content_size=index % 3 == 0
        )
        parts.append(compressor.compress(data))
        text.append(data)
        if index % 4 == 1:
            parts.append(struct.pack("<II", 0x184D2A50 + index, 5) + b"skip!")
    return parts, b"".join(text)


@pytest.mark.parametrize("stream", [io.BytesIO, Trickle])
def test_many_zstd_frames_read_whole_whatever_the_reads(stream):
    parts, text = frames()
    assert b"".join(codecs.zstd(stream(b"".join(parts)))) == text


def test_a_spark_like_stream_of_flushed_blocks_reads_whole():
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    out, text = [], []
    for n in range(3000):
        line = b'{"Event":"SparkListenerTaskEnd","Task ID":%d}\n' % n
        text.append(line)
        out.append(compressor.compress(line))
        if n % 97 == 0:
            out.append(compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))
    out.append(compressor.flush())
    assert b"".join(codecs.zstd(Trickle(b"".join(out)))) == b"".join(text)


def test_a_cut_multi_frame_zstd_log_yields_what_it_can_then_truncated():
    parts, _ = frames()
    whole = b"".join(parts)
    cut = whole[: len(whole) - len(parts[-1]) // 2]
    got = []
    with pytest.raises(TruncatedStream):
        for piece in codecs.zstd(io.BytesIO(cut)):
            got.append(piece)
    reference = zstandard.ZstdDecompressor().stream_reader(
        io.BytesIO(b"".join(parts[:-1])), read_across_frames=True
    )
    expected = reference.read()
    assert b"".join(got).startswith(expected)


def test_a_zstd_log_cut_between_frames_is_whole():
    parts, _ = frames()
    for end in range(len(parts)):
        data = b"".join(parts[:end])
        reference = zstandard.ZstdDecompressor().stream_reader(
            io.BytesIO(data), read_across_frames=True
        )
        assert b"".join(codecs.zstd(io.BytesIO(data))) == reference.read()


@pytest.mark.parametrize("garbage", [b"not zstd at all, just text\n", bytes(range(256)) * 4])
def test_garbage_in_or_after_zstd_frames_is_corrupt(garbage):
    parts, _ = frames()
    for data in (garbage, b"".join(parts[:2]) + garbage):
        with pytest.raises(CorruptStream):
            drain(codecs.zstd, data)


# ---- gzip ------------------------------------------------------------------------------------


def test_a_gzip_bomb_decodes_in_pieces_no_larger_than_chunk():
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = bytes(MiB)
    bomb = b"".join([*(compressor.compress(zeros) for _ in range(64)), compressor.flush()])
    total, largest = drain(codecs.gz, bomb)
    assert total == 64 * MiB and largest <= CHUNK
    assert traced_peak(codecs.gz, bomb)[1] < 4 * CHUNK


def test_gzip_members_padding_truncation_and_garbage():
    first, second = b"line one\n" * 1000, b"line two\n" * 1000
    members = gzip.compress(first) + b"\0" * 100 + gzip.compress(second)
    assert b"".join(codecs.gz(Trickle(members))) == first + second
    with pytest.raises(TruncatedStream):
        drain(codecs.gz, members[:-10])
    with pytest.raises(CorruptStream):
        drain(codecs.gz, members + b"garbage that is not gzip")
    bad_crc = bytearray(gzip.compress(first))
    bad_crc[-8] ^= 0xFF
    with pytest.raises(CorruptStream):
        drain(codecs.gz, bytes(bad_crc))


def test_a_gzip_header_with_a_huge_file_name_is_parsed_in_c():
    """gzip.GzipFile reads a header's name one byte per Python call (minutes for a GB)."""
    text = b'{"Event":"SparkListenerLogStart"}\n'
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = deflate.compress(text) + deflate.flush()
    header = b"\x1f\x8b\x08\x08" + b"\0" * 6 + b"n" * (8 * MiB) + b"\0"
    trailer = struct.pack("<II", zlib.crc32(text), len(text))
    assert b"".join(codecs.gz(io.BytesIO(header + body + trailer))) == text


# ---- lz4 and snappy: the stated size is checked before anything is allocated ------------------


def lz4_block(original_len: int, data: bytes, method: int = 0x20) -> bytes:
    return b"LZ4Block" + bytes([method | 0x0F]) + struct.pack("<iii", len(data), original_len, 0)


def test_an_lz4_block_claiming_a_gigabyte_is_corrupt():
    data = lz4.block.compress(b"x" * 1000, store_size=False)
    with pytest.raises(CorruptStream, match="cap"):
        drain(codecs.lz4_block_stream, lz4_block(1 << 30, data) + data)
    with pytest.raises(CorruptStream, match="impossible"):  # nor a compressed size beyond it
        drain(codecs.lz4_block_stream, b"LZ4Block\x2f" + struct.pack("<iii", 1 << 30, 1000, 0))


def test_an_lz4_block_of_the_largest_size_is_read():
    data = lz4.block.compress(bytes(MAX_BLOCK_BYTES), store_size=False)
    total, _ = drain(codecs.lz4_block_stream, lz4_block(MAX_BLOCK_BYTES, data) + data)
    assert total == MAX_BLOCK_BYTES


SNAPPY_HEADER = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def snappy_block(raw: bytes) -> bytes:
    return struct.pack(">i", len(raw)) + raw


def test_a_snappy_block_claiming_more_than_the_cap_is_corrupt():
    real = bytes(cramjam.snappy.compress_raw(b"y" * 5000))
    assert b"".join(codecs.snappy_java_stream(io.BytesIO(SNAPPY_HEADER + snappy_block(real)))) == (
        b"y" * 5000
    )
    lying = varint(MAX_BLOCK_BYTES + 1) + real[len(varint(5000)) :]
    with pytest.raises(CorruptStream, match="cap"):
        drain(codecs.snappy_java_stream, SNAPPY_HEADER + snappy_block(lying))
    with pytest.raises(CorruptStream, match="preamble"):
        drain(codecs.snappy_java_stream, SNAPPY_HEADER + snappy_block(b"\xff" * 8))


def test_a_snappy_block_of_the_largest_size_is_read():
    real = bytes(cramjam.snappy.compress_raw(bytes(MAX_BLOCK_BYTES)))
    total, _ = drain(codecs.snappy_java_stream, SNAPPY_HEADER + snappy_block(real))
    assert total == MAX_BLOCK_BYTES


# ---- lines -----------------------------------------------------------------------------------


def split_all(data: bytes, sizes: list[int], max_line: int) -> tuple[list, Problems]:
    """(numbered non-empty lines, problems) when `data` comes in chunks of the given sizes."""
    problems = Problems(cap=10_000)
    splitter = LineSplitter("f", problems, max_line=max_line)
    out, start, index = [], 0, 0
    while start < len(data):
        size = sizes[index % len(sizes)]
        number = splitter.number
        for line in splitter.feed(data[start : start + size]):
            number += 1
            if line:
                out.append((number, line, False))
        start, index = start + size, index + 1
    last = splitter.end()
    if last:
        out.append((splitter.number, last, True))
    return out, problems


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    newline_at_end=st.booleans(),
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=5),
    max_line=st.integers(0, 10),
)
def test_lines_and_their_numbers_do_not_depend_on_chunking(lines, newline_at_end, sizes, max_line):
    data = b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")
    got, problems = split_all(data, sizes, max_line)
    pieces = data.split(b"\n")
    tail = pieces.pop()
    expected = [(n, line, False) for n, line in enumerate(pieces, 1) if 0 < len(line) <= max_line]
    if 0 < len(tail) <= max_line:
        expected.append((len(pieces) + 1, tail, True))
    assert got == expected
    too_long = [n for n, line in enumerate([*pieces, tail], 1) if len(line) > max_line]
    assert [r["line"] for r in problems.rows] == too_long
    assert problems.counts.get("line_too_long", 0) == len(too_long)


def test_a_line_exactly_at_the_cap_is_kept_one_byte_more_is_skipped():
    at_cap, over = b"a" * MiB, b"b" * (MiB + 1)
    data = b"first\n" + at_cap + b"\n" + over + b"\nlast\n"
    for sizes in ([1000], [MiB], [3 * MiB], [MiB - 1, 2]):
        got, problems = split_all(data, sizes, MiB)
        assert got == [(1, b"first", False), (2, at_cap, False), (4, b"last", False)]
        assert problems.counts == {"line_too_long": 1} and problems.rows[0]["line"] == 3
        assert "1,048,577 bytes" in problems.rows[0]["detail"]


class Counted(bytes):
    """A chunk that counts the bytes its split() scans."""

    scanned = 0

    def split(self, *args):
        Counted.scanned += len(self)
        return super().split(*args)


def test_a_line_without_end_is_scanned_once_and_never_copied_while_it_grows():
    """10 MB in 1 KB chunks with no newline: `pending += chunk` re-copied and re-split the whole
    pending line per chunk (quadratic); each byte is now scanned once and held once."""
    splitter = LineSplitter("f", Problems())
    Counted.scanned = 0
    tracemalloc.start()
    for n in range(10_000):
        splitter.feed(Counted(bytes([65 + n % 26]) * 1000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert Counted.scanned == 10_000_000  # each byte scanned once
    assert peak < 12_000_000  # the line held once, never a second, concatenated copy
    line = splitter.end()
    assert line == b"".join(bytes([65 + n % 26]) * 1000 for n in range(10_000))


def test_a_line_without_end_over_the_cap_is_dropped_as_it_comes():
    splitter = LineSplitter("f", problems := Problems(), max_line=MiB)
    tracemalloc.start()
    for _ in range(10_000):
        assert splitter.feed(b"x" * 1000) == []
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 * MiB  # never more than the cap held
    assert splitter.feed(b"tail\nnext\n") == [b"", b"next"]
    assert problems.counts == {"line_too_long": 1} and problems.rows[0]["line"] == 1
    assert "10,000,004 bytes" in problems.rows[0]["detail"]


def test_a_plain_file_with_no_newline_read_in_tiny_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(codecs, "CHUNK", 1024)
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", MiB)
    path = tmp_path / "app-1"
    path.write_bytes(b"z" * (10 * 10**6))
    [log] = find_logs(path)
    problems = Problems()
    assert list(iter_lines(log, problems)) == []
    assert problems.counts == {"line_too_long": 1} and problems.rows[0]["line"] == 1


def with_a_huge_line(after: int, size: int) -> bytes:
    lines = PLAIN.read_bytes().split(b"\n")
    huge = b'{"Event":"SparkListenerLogStart","Pad":"' + b"p" * size + b'"}'
    return b"\n".join([*lines[:after], huge, *lines[after:]])


def test_a_gzip_log_with_a_huge_line_reports_it_and_reads_on(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", MiB)
    path = tmp_path / "local-1532512550423.gz"
    path.write_bytes(gzip.compress(with_a_huge_line(10, 3 * MiB), compresslevel=1))
    [log] = find_logs(path)
    problems = Problems()
    lines = list(iter_lines(log, problems))
    assert problems.counts == {"line_too_long": 1} and problems.rows[0]["line"] == 11
    original = PLAIN.read_bytes().split(b"\n")
    assert [(line.number, line.data) for line in lines][10:13] == [
        (12, original[10]),
        (13, original[11]),
        (14, original[12]),
    ]
    assert len(lines) == sum(1 for line in original if line)
    # the facts are those of the log without the line; the line is one reported problem
    summary = summarize(reduce_log(log, workers=1))
    plain = summarize(reduce_log(find_logs(PLAIN)[0], workers=1))
    assert summary.pop("problems") == {"line_too_long": 1} and plain.pop("problems") == {}
    summary.pop("problem_examples"), plain.pop("problem_examples")
    assert summary == plain


def test_summarize_cli_reports_a_too_long_line_and_exits_4(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", MiB)
    path = tmp_path / "local-1532512550423"
    path.write_bytes(with_a_huge_line(5, 2 * MiB))
    result = CliRunner().invoke(main, ["eventlog", "summarize", str(path), "--format", "json"])
    assert result.exit_code == 4, result.output
    [summary] = json.loads(result.output)
    assert summary["problems"] == {"line_too_long": 1}
    assert summary["problem_examples"][0]["line"] == 6


def test_import_reports_a_too_long_line_and_exits_4(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", MiB)
    root = tmp_path / "fleet"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("eventlogs", "metrics"))
    doc = json.loads((root / "job-runs" / "orders_daily_etl.json").read_text())
    run = (doc[0] if isinstance(doc, list) else doc)["JobRuns"][0]["Id"]
    (root / "eventlogs" / run).mkdir(parents=True)
    (root / "eventlogs" / run / "app-1").write_bytes(with_a_huge_line(20, 2 * MiB))
    result = CliRunner().invoke(main, ["import", str(root), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 4, result.output
    store = Store(tmp_path / "a.db")
    reasons = {r["item"]: r["reason"] for r in store.db["ingest_errors"].rows}
    assert reasons == {f"eventlogs/{run}/app-1": reasons[f"eventlogs/{run}/app-1"]}
    assert "line_too_long 1" in reasons[f"eventlogs/{run}/app-1"]
    assert store.db["spark_apps"].count == 1
    store.close()


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_the_parallel_reducer_skips_a_too_long_line_the_same_way(tmp_path, monkeypatch, suffix):
    from advisor.sparklog import parallel

    monkeypatch.setattr(reader, "MAX_LINE_BYTES", MiB)
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 64 * 1024)
    data = with_a_huge_line(30, 2 * MiB)
    path = tmp_path / f"local-1532512550423{suffix}"
    path.write_bytes(gzip.compress(data, compresslevel=1) if suffix else data)
    [log] = find_logs(path)
    problems = Problems()
    summary = summarize(parallel.reduce_parallel(log, problems, workers=2))
    assert problems.counts == {"line_too_long": 1} and problems.rows[0]["line"] == 31
    alone = summarize(reduce_log(log, workers=1))
    assert summary == alone


def test_a_long_line_of_nested_brackets_is_skipped_not_parsed(tmp_path):
    """A 64 MiB line of `[[],[],...]` took 2 GB to parse (objects cost ~30x their text):
    a long line that is nearly all brackets and commas is one reported problem."""
    from advisor.sparklog.parse import DENSE_CHECK_BYTES
    from advisor.sparklog.reader import find_logs
    from advisor.sparklog.reduce import reduce_log

    dense = b'{"Event":"SparkListenerEnvironmentUpdate","x":[' + b"[]," * (
        DENSE_CHECK_BYTES // 3 + 10
    )
    dense += b"[]]}"
    text = b'{"Event":"SparkListenerLogStart","Spark Version":"3.5.0"}\n'
    plan = (
        b'{"Event":"SparkListenerLogStart","Spark Version":"3.5.0","p":"'
        + b"a" * DENSE_CHECK_BYTES
        + b'"}'
    )
    path = tmp_path / "app-1"
    path.write_bytes(text + dense + b"\n" + plan + b"\n")
    reducer = reduce_log(find_logs(path)[0])
    assert reducer.problems.counts == {"line_too_complex": 1}
    assert reducer.problems.rows[0]["line"] == 2  # the long plain-text line 3 was parsed
