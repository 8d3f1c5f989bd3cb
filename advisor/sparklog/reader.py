"""Find Spark event logs (file, folder or s3:// prefix) and stream their lines.

Layouts: a single file `<appId>[.<codec>][.inprogress]`; a rolling log folder
`eventlog_v2_<appId>/` with `events_<n>_<appId>[.<codec>]` parts read in order and an
`appstatus_<appId>[.inprogress]` marker. S3 objects are streamed, never downloaded whole.

Lines are cut from the decoded chunks by LineSplitter, which scans each byte once and never
holds more than MAX_LINE_BYTES (64 MiB) of one line: a longer line is skipped up to its newline
and reported as one `line_too_long` problem, and reading goes on with the next line (numbers stay
right). Real lines are far below the cap (the largest in the test fixtures, a SQL plan, is 130 KB;
plans of very wide queries reach tens of MB). A line at the cap costs twice the cap while its
pieces are joined, so the reader's memory stays under about 2 x 64 MiB plus a decoder's CHUNK
(or one 32 MiB lz4/snappy block), whatever the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from advisor.sparklog.codecs import DECODERS, CorruptStream, TruncatedStream, codec_of

_ROLLING_DIR = "eventlog_v2_"
_ROLLING_PART = re.compile(r"^events_(\d+)_")
MAX_LINE_BYTES = 64 << 20
_IGNORED = re.compile(r"^(\.|_)|\.crc$|^appstatus_|\.(md|txt|json|yaml)$", re.IGNORECASE)


@dataclass(frozen=True)
class LogPart:
    location: str  # a local path or s3://bucket/key
    size: int

    @property
    def name(self) -> str:
        return self.location.rstrip("/").rsplit("/", 1)[-1]

    @property
    def codec(self) -> str | None:
        return codec_of(self.name)


@dataclass
class EventLog:
    """One application's log: a single file, or the ordered parts of a rolling log."""

    location: str
    parts: list[LogPart]
    in_progress: bool

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)


@dataclass
class Problems:
    """What was skipped and why, with the file and line; details capped, counts exact."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    cap: int = 50

    def merge(self, other: Problems) -> None:
        for kind, count in other.counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + count
        self.rows.extend(other.rows[: max(0, self.cap - len(self.rows))])
        self.rows.sort(key=lambda r: (r["file"], r["line"] or 0))

    def add(self, kind: str, location: str, line: int | None, detail: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if len(self.rows) < self.cap:
            self.rows.append({"kind": kind, "file": location, "line": line, "detail": detail[:300]})


# ---- discovery ---------------------------------------------------------------------------


def _rolling(location: str, names: dict[str, int], join: Callable[[str], str]) -> EventLog:
    parts = sorted(
        ((int(m.group(1)), n) for n in names if (m := _ROLLING_PART.match(n))), key=lambda p: p[0]
    )
    in_progress = any(n.startswith("appstatus_") and n.endswith(".inprogress") for n in names)
    in_progress = in_progress or any(n.endswith(".inprogress") for _, n in parts)
    return EventLog(location, [LogPart(join(n), names[n]) for _, n in parts], in_progress)


def _single(part: LogPart) -> EventLog:
    return EventLog(part.location, [part], part.name.endswith(".inprogress"))


def find_local(path: Path) -> list[EventLog]:
    path = Path(path)
    if path.is_file():
        return [_single(LogPart(str(path), path.stat().st_size))]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.name.startswith(_ROLLING_DIR):
        names = {p.name: p.stat().st_size for p in path.iterdir() if p.is_file()}
        return [_rolling(str(path), names, lambda n: str(path / n))]
    logs: list[EventLog] = []
    for child in sorted(path.iterdir()):
        if child.is_dir():
            logs.extend(find_local(child))
        elif child.is_file() and not _IGNORED.search(child.name) and child.stat().st_size:
            logs.append(_single(LogPart(str(child), child.stat().st_size)))
    return logs


def find_s3(uri: str, s3: Any) -> list[EventLog]:
    """Logs under an s3:// prefix, grouped into apps (rolling folders become one log)."""
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    singles: list[EventLog] = []
    rolling: dict[str, dict[str, int]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key, size = obj["Key"], obj["Size"]
            folder, _, name = key.rpartition("/")
            if folder.rsplit("/", 1)[-1].startswith(_ROLLING_DIR):
                rolling.setdefault(folder, {})[name] = size
            elif size and not _IGNORED.search(name):
                singles.append(_single(LogPart(f"s3://{bucket}/{key}", size)))
    for folder, names in sorted(rolling.items()):
        singles.append(
            _rolling(f"s3://{bucket}/{folder}", names, lambda n, f=folder: f"s3://{bucket}/{f}/{n}")
        )
    return sorted(singles, key=lambda log: log.location)


def find_logs(target: str | Path, s3: Any = None) -> list[EventLog]:
    text = str(target)
    if text.startswith("s3://"):
        if s3 is None:
            raise ValueError("an s3:// location needs an S3 client")
        return find_s3(text, s3)
    return find_local(Path(text))


# ---- reading -----------------------------------------------------------------------------


class _Counting:
    """Counts compressed bytes as they are read, for a progress bar over bytes."""

    def __init__(self, raw: BinaryIO, on_bytes: Callable[[int], None] | None):
        self.raw, self.on_bytes = raw, on_bytes

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        if self.on_bytes and data:
            self.on_bytes(len(data))
        return data


def open_part(part: LogPart, s3: Any = None) -> BinaryIO:
    if part.location.startswith("s3://"):
        bucket, _, key = part.location[len("s3://") :].partition("/")
        return s3.get_object(Bucket=bucket, Key=key)["Body"]
    return open(part.location, "rb")


class LineSplitter:
    """Cuts decoded chunks into lines, scanning each byte once (no quadratic re-scan of a line
    that spans many chunks, whatever their size).

    A line longer than `max_line` (MAX_LINE_BYTES) is never held: its bytes are dropped up to its
    newline, it becomes one `line_too_long` problem and an empty line, so the lines after it keep
    their numbers. `number` is how many lines were completed so far.
    """

    __slots__ = ("_pieces", "_size", "_skipping", "location", "max_line", "number", "problems")

    def __init__(self, location: str, problems: Problems, *, max_line: int | None = None):
        self.location, self.problems = location, problems
        self.max_line = MAX_LINE_BYTES if max_line is None else max_line
        self.number = 0
        self._pieces: list[bytes] = []  # the start of the line in progress
        self._size = 0  # its length so far (still counted while skipping it)
        self._skipping = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines `chunk` completes, in order; the first is line `number + 1` (as it was)."""
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if not lines:  # no newline: the line in progress goes on
            if tail:
                self._extend(tail)
            return lines
        if self._size:
            lines[0] = self._complete(lines[0])
        if len(chunk) > self.max_line:  # only then can a line inside the chunk be too long
            for index, line in enumerate(lines):
                if len(line) > self.max_line:
                    self._too_long(self.number + 1 + index, len(line))
                    lines[index] = b""
        self.number += len(lines)
        if tail:
            self._extend(tail)
        return lines

    def end(self) -> bytes | None:
        """The last line when the input ends without a newline (None if none, or too long);
        it is counted in `number`."""
        if not self._size:
            return None
        self.number += 1
        if self._skipping:
            self._too_long(self.number, self._size)
            line = None
        else:
            line = b"".join(self._pieces)
        self._pieces, self._size, self._skipping = [], 0, False
        return line

    def _extend(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._skipping:
            return
        if self._size > self.max_line:
            self._pieces, self._skipping = [], True
        else:
            self._pieces.append(piece)

    def _complete(self, head: bytes) -> bytes:
        """The line in progress, ended by `head` (empty if it is too long)."""
        size = self._size + len(head)
        if self._skipping or size > self.max_line:
            self._too_long(self.number + 1, size)
            line = b""
        else:
            self._pieces.append(head)
            line = b"".join(self._pieces)
        self._pieces, self._size, self._skipping = [], 0, False
        return line

    def _too_long(self, number: int, size: int) -> None:
        self.problems.add(
            "line_too_long",
            self.location,
            number,
            f"a line of {size:,} bytes, over the {self.max_line:,}-byte cap, was skipped",
        )


@dataclass
class Line:
    part: LogPart
    number: int
    data: bytes
    unterminated: bool  # the last bytes of the log, with no newline: possibly cut short


@dataclass
class LineBlock:
    """Consecutive lines of one part: `lines[i]` is line `first + i` (empty lines included, to
    be skipped); `unterminated`: the last one ends the log with no newline (possibly cut)."""

    part: LogPart
    first: int
    lines: list[bytes]
    unterminated: bool


def iter_line_blocks(
    log: EventLog,
    problems: Problems,
    *,
    s3: Any = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[LineBlock]:
    """Every line of every part in order, a decoded chunk's lines at a time; a codec failure
    ends that part with a problem."""
    for part in log.parts:
        decoder = DECODERS[part.codec]
        raw = open_part(part, s3)
        lines = LineSplitter(part.location, problems)
        try:
            for chunk in decoder(_Counting(raw, on_bytes)):
                first = lines.number + 1
                done = lines.feed(chunk)
                if done:
                    yield LineBlock(part, first, done, False)
        except TruncatedStream as exc:
            problems.add("truncated_file", part.location, lines.number + 1, str(exc))
        except CorruptStream as exc:
            problems.add("corrupt_file", part.location, lines.number + 1, str(exc))
        finally:
            raw.close()
        last = lines.end()
        if last and not last.isspace():
            yield LineBlock(part, lines.number, [last], True)


def iter_lines(
    log: EventLog,
    problems: Problems,
    *,
    s3: Any = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Line]:
    """Every non-empty line of every part in order; a codec failure ends that part with a
    problem."""
    for block in iter_line_blocks(log, problems, s3=s3, on_bytes=on_bytes):
        for number, data in enumerate(block.lines, block.first):
            if data:
                yield Line(block.part, number, data, block.unterminated)
