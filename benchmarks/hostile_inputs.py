"""Hostile event logs: peak memory and time of `advisor eventlog summarize` on each.

    python benchmarks/hostile_inputs.py [--scale 1.0] [--cores N] [--root DIR] [--only NAME ...]

Builds the worst cases in a temporary folder (decompression bombs, block headers that lie, lines
that never end, a line just under reader.MAX_LINE_BYTES), then runs the CLI on each in a fresh
process and prints: case, input size, expanded size, peak RSS, seconds, exit code. Peak RSS is
the largest process's high-water mark (RUSAGE_CHILDREN of a wrapper that runs only that
command, so workers count too). Then a linearity check: the no-newline gzip at 256 MiB, 1 GiB
and 4 GiB, start-up taken off (a linear reader takes about 4x as long for 4x the bytes, a
quadratic one 16x). Target: every case under 300 MB and linear.

--cores N runs the CLI pinned to N cores (1 forces the single-process reader, more lets big logs
go to the parallel reducer); --root runs the advisor package found in DIR (to compare with an
older checkout); --scale shrinks every size (0.25 for a quick run). An `advisor import` of a
fleet folder whose one event log is a zstd bomb, and of a jobs.json of 1 GB, come last.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cramjam
import lz4.block
import zstandard

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20
LINE_SOURCE = ROOT / "tests/fixtures/spark-events/sparklens/local-1532512550423"
TARGET_MB = 300

# Runs one command and reports its own exit code, time and the peak RSS of its largest process.
WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
try:
    code = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=float(sys.argv[1])).returncode
except subprocess.TimeoutExpired:
    code = "timeout"
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"code": code, "seconds": seconds, "rss_mb": peak}))
"""


@dataclass
class Case:
    name: str
    build: Callable[[Path], int]  # writes the input, returns its expanded size
    file: str
    verb: str = "summarize"


def _write_zstd(path: Path, size: int, **params) -> int:
    compressor = zstandard.ZstdCompressor(**params).compressobj()
    zeros = bytes(MiB)
    with path.open("wb") as out:
        for _ in range(size // MiB):
            out.write(compressor.compress(zeros))
        out.write(compressor.flush())
    return size


def _write_gzip(path: Path, size: int, piece: bytes = bytes(MiB)) -> int:
    import zlib

    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        for _ in range(size // len(piece)):
            out.write(compressor.compress(piece))
        out.write(compressor.flush())
    return size


def _write_sparse(path: Path, size: int) -> int:
    with path.open("wb") as out:
        out.truncate(size)
    return size


def _write_lz4_claim(path: Path, claimed: int) -> int:
    data = lz4.block.compress(b"x" * 4096, store_size=False)
    header = b"LZ4Block" + bytes([0x2F]) + struct.pack("<iii", len(data), claimed, 0)
    path.write_bytes(header + data)
    return claimed


def _write_lz4_blocks(path: Path, size: int) -> int:
    block = 1 << 25
    data = lz4.block.compress(bytes(block), store_size=False)
    header = b"LZ4Block" + bytes([0x2F]) + struct.pack("<iii", len(data), block, 0)
    with path.open("wb") as out:
        for _ in range(max(1, size // block)):
            out.write(header + data)
    return max(1, size // block) * block


_SNAPPY_HEADER = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def _write_snappy_claim(path: Path, claimed: int) -> int:
    real = bytes(cramjam.snappy.compress_raw(b"x" * 4096))
    lying = _varint(claimed) + real[len(_varint(4096)) :]
    path.write_bytes(_SNAPPY_HEADER + struct.pack(">i", len(lying)) + lying)
    return claimed


def _write_snappy_blocks(path: Path, size: int) -> int:
    block = 1 << 25
    data = bytes(cramjam.snappy.compress_raw(bytes(block)))
    with path.open("wb") as out:
        out.write(_SNAPPY_HEADER)
        for _ in range(max(1, size // block)):
            out.write(struct.pack(">i", len(data)) + data)
    return max(1, size // block) * block


def _max_line() -> int:
    sys.path.insert(0, str(ROOT))
    from advisor.sparklog.reader import MAX_LINE_BYTES

    return MAX_LINE_BYTES


def _write_huge_line(path: Path, dense: bool) -> int:
    """A real log with one line of MAX_LINE_BYTES - 1 bytes after its tenth: a SQL plan
    description (one long string, what real big lines hold), or JSON dense with empty lists."""
    if dense:
        head, fill, tail = b'{"Event":"SparkListenerEnvironmentUpdate","Pad":[', b"[],", b"[]]}"
    else:
        head = (
            b'{"Event":"org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart",'
            b'"executionId":0,"description":"q","details":"","physicalPlanDescription":"'
        )
        fill = b"Project [a#1, b#2]\\n"
        tail = (
            b'","sparkPlanInfo":{"nodeName":"X","simpleString":"X","children":[],"metadata":{},'
            b'"metrics":[]},"time":1532512558000}'
        )
    room = _max_line() - 1 - len(head) - len(tail)
    body = fill * (room // len(fill))
    huge = head + body + b" " * (room - len(body)) + tail
    lines = LINE_SOURCE.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([*lines[:10], huge, *lines[10:]]))
    return path.stat().st_size


def _label(size: int) -> str:
    return f"{size / 2**30:g} GiB" if size >= 2**30 else f"{size // MiB} MiB"


def cases(scale: float) -> list[Case]:
    gb = int(1024 * MiB * scale) // MiB * MiB
    window = zstandard.ZstdCompressionParameters.from_level(1, window_log=27)
    return [
        Case(f"zstd frame -> {_label(gb)}", lambda p: _write_zstd(p, gb), "app-1.zstd"),
        Case(
            f"zstd frame -> {_label(gb)}, 128 MiB window",
            lambda p: _write_zstd(p, gb, compression_params=window),
            "app-2.zstd",
        ),
        Case(f"zstd frame -> {_label(4 * gb)}", lambda p: _write_zstd(p, 4 * gb), "app-3.zstd"),
        Case(f"gzip {_label(gb)} no newline", lambda p: _write_gzip(p, gb), "app-4.gz"),
        Case(
            f"gzip {_label(gb)} of newlines",
            lambda p: _write_gzip(p, gb, b"\n" * MiB),
            "app-5.gz",
        ),
        Case(f"plain {_label(2 * gb)} sparse zeros", lambda p: _write_sparse(p, 2 * gb), "app-6"),
        Case("lz4 block claiming 2 GiB", lambda p: _write_lz4_claim(p, 2**31 - 1), "app-7.lz4"),
        Case(f"lz4 {_label(gb)} in 32 MiB blocks", lambda p: _write_lz4_blocks(p, gb), "app-8.lz4"),
        Case(
            "snappy block claiming 4 GiB",
            lambda p: _write_snappy_claim(p, 2**32 - 1),
            "app-9.snappy",
        ),
        Case(
            f"snappy {_label(gb)} in 32 MiB blocks",
            lambda p: _write_snappy_blocks(p, gb),
            "app-10.snappy",
        ),
        Case("line of cap-1 bytes (plan text)", lambda p: _write_huge_line(p, False), "app-11"),
        Case("line of cap-1 bytes (dense JSON)", lambda p: _write_huge_line(p, True), "app-12"),
    ]


def run(cmd: list[str], root: Path, cores: int | None, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root)}
    if cores and shutil.which("taskset"):
        allowed = sorted(os.sched_getaffinity(0))[:cores]
        cmd = ["taskset", "-c", ",".join(map(str, allowed)), *cmd]
    out = subprocess.run(  # from `root`: `python -m` looks in the working folder first
        [sys.executable, "-c", WRAPPER, str(timeout), *cmd],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def summarize_cmd(path: Path) -> list[str]:
    return [sys.executable, "-m", "advisor", "eventlog", "summarize", str(path), "--format", "json"]


def row(name: str, size: int, expanded: int, result: dict) -> str:
    flag = "" if result["rss_mb"] < TARGET_MB else "  <-- over target"
    return (
        f"{name:36} {size / 1e6:10,.1f} {expanded / 1e6:10,.0f} {result['rss_mb']:9,.0f} "
        f"{result['seconds']:8.1f} {result['code']!s:>5}{flag}"
    )


def import_cases(work: Path, root: Path, cores: int | None, timeout: float, scale: float) -> None:
    """`advisor import` of a fleet folder whose only event log is a zstd bomb, and of a 1 GB
    jobs.json (the importer's own JSON-size limit decides that one)."""
    sample = ROOT / "sample_metrics"
    fleet = work / "fleet"
    shutil.copytree(sample, fleet, ignore=shutil.ignore_patterns("eventlogs", "metrics"))
    doc = json.loads((fleet / "job-runs" / "orders_daily_etl.json").read_text())
    run_id = (doc[0] if isinstance(doc, list) else doc)["JobRuns"][0]["Id"]
    (fleet / "eventlogs" / run_id).mkdir(parents=True)
    bomb = fleet / "eventlogs" / run_id / "app-1.zstd"
    expanded = _write_zstd(bomb, int(1024 * MiB * scale) // MiB * MiB)
    result = run(
        [sys.executable, "-m", "advisor", "import", str(fleet), "--db", str(work / "a.db")],
        root,
        cores,
        timeout,
    )
    print(
        row(f"import: fleet + {_label(expanded)} zstd bomb", bomb.stat().st_size, expanded, result)
    )
    shutil.rmtree(fleet / "eventlogs")
    big = fleet / "jobs.json"
    size = int(1024 * MiB * scale)
    with big.open("wb") as out:  # one valid JSON document: {"Jobs": [{...}, {...}, ...]}
        out.write(b'{"Jobs": [')
        job = b'{"Name": "j%09d", "Role": "r", "Command": {"Name": "glueetl"}},'
        written, n = 0, 0
        while written < size - 100:
            out.write(job % n)
            written += len(job % n)
            n += 1
        out.write(b'{"Name": "last"}]}')
    result = run(
        [sys.executable, "-m", "advisor", "import", str(fleet), "--db", str(work / "b.db")],
        root,
        cores,
        timeout,
    )
    note = "  (refused quickly)" if result["code"] in (2, 4) and result["seconds"] < 5 else ""
    print(
        row(f"import: {_label(size)} jobs.json", big.stat().st_size, big.stat().st_size, result)
        + note
    )


def linearity(work: Path, args: argparse.Namespace) -> None:
    """The no-newline gzip at 256 MiB, 1 GiB and 4 GiB (times --scale); a 1 MiB run measures
    the start-up, taken off before comparing (a linear reader: ~4x the time for 4x the bytes)."""
    seconds, timed_out = [], False
    for fraction in (0.0, 0.25, 1.0, 4.0):
        path = work / "linear.gz"
        size = max(MiB, int(1024 * MiB * args.scale * fraction) // MiB * MiB)
        _write_gzip(path, size)
        result = run(summarize_cmd(path), args.root, args.cores, args.timeout)
        seconds.append(result["seconds"])
        timed_out = timed_out or result["code"] == "timeout"
        print(row(f"gzip no newline, {_label(size)}", path.stat().st_size, size, result))
        path.unlink()
        if timed_out:
            break
    start, *runs = seconds
    for small, large in itertools.pairwise(runs):
        net = f"{(large - start) / (small - start):.1f}x" if small - start > 0.2 else "n/a"
        print(
            f"linearity: 4x the bytes took {'at least ' if timed_out else ''}"
            f"{large / small:.1f}x the time, {net} without the {start:.1f} s start-up "
            "(linear ~4x, quadratic ~16x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="shrink every size (0.25)")
    parser.add_argument("--cores", type=int, default=None, help="pin the CLI to N cores")
    parser.add_argument("--root", type=Path, default=ROOT, help="where the advisor package is")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per case")
    parser.add_argument("--only", nargs="*", help="cases whose name contains any of these")
    parser.add_argument("--no-import", action="store_true", help="skip the import cases")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hostile-inputs-"))
    cores = args.cores or len(os.sched_getaffinity(0))
    print(
        f"advisor from {args.root}, {cores} core(s), line cap {_max_line() / MiB:.0f} MiB, "
        f"target < {TARGET_MB} MB"
    )
    print(
        f"{'case':36} {'input MB':>10} {'expand MB':>10} {'peak RSS':>9} {'seconds':>8} {'exit':>5}"
    )
    try:
        for case in cases(args.scale):
            if args.only and not any(word in case.name for word in args.only):
                continue
            path = work / case.file
            expanded = case.build(path)
            result = run(summarize_cmd(path), args.root, args.cores, args.timeout)
            print(row(case.name, path.stat().st_size, expanded, result), flush=True)
            path.unlink()
        if not args.only or any("linear" in word for word in args.only):
            linearity(work, args)
        if not args.no_import:
            import_cases(work, args.root, args.cores, args.timeout, args.scale)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
