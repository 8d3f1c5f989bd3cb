"""Find Spark event logs (file, folder or s3:// prefix) and stream their lines.

Layouts: a single file `<appId>[.<codec>][.inprogress]`; a rolling log folder
`eventlog_v2_<appId>/` with `events_<n>_<appId>[.<codec>]` parts read in order and an
`appstatus_<appId>[.inprogress]` marker. S3 objects are streamed, never downloaded whole.
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


@dataclass
class Line:
    part: LogPart
    number: int
    data: bytes
    unterminated: bool  # the last bytes of the log, with no newline: possibly cut short


def iter_lines(
    log: EventLog,
    problems: Problems,
    *,
    s3: Any = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Line]:
    """Every line of every part in order; a codec failure ends that part with a problem."""
    for part in log.parts:
        decoder = DECODERS[part.codec]
        raw = open_part(part, s3)
        number, pending = 0, b""
        try:
            for chunk in decoder(_Counting(raw, on_bytes)):
                pending += chunk
                lines = pending.split(b"\n")
                pending = lines.pop()
                for data in lines:
                    number += 1
                    if data:
                        yield Line(part, number, data, False)
        except TruncatedStream as exc:
            problems.add("truncated_file", part.location, number + 1, str(exc))
        except CorruptStream as exc:
            problems.add("corrupt_file", part.location, number + 1, str(exc))
        finally:
            raw.close()
        if pending.strip():
            yield Line(part, number + 1, pending, True)
