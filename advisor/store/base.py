"""What every part of the store shares: canonical JSON, stable digests, and the rule that a
write runs in a transaction."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import orjson

T = TypeVar("T")


def to_json(value: Any) -> str:
    """Canonical JSON (sorted keys) so equal values always store as equal text."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def stable_hash(value: Any) -> str:
    return hashlib.sha256(to_json(value).encode()).hexdigest()[:16]


def writes(method: Callable[..., T]) -> Callable[..., T]:
    """A store method that writes: it runs in a transaction of its own, or in the caller's."""

    @functools.wraps(method)
    def in_transaction(self: Any, *args: Any, **kwargs: Any) -> T:
        with self.transaction():
            return method(self, *args, **kwargs)

    return in_transaction


def by_job(rows: Iterable[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(job, its rows) of rows ordered by job_name: one job's rows at a time."""
    runs: list[dict[str, Any]] = []
    for row in rows:
        if runs and runs[-1]["job_name"] != row["job_name"]:
            yield runs[-1]["job_name"], runs
            runs = []
        runs.append(row)
    if runs:
        yield runs[-1]["job_name"], runs
