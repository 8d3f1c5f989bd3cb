"""Bulk work over a million rows: Python's cyclic garbage collector rescans every live object
each time enough new ones are made, which for a million row dicts costs more than the work.
Rows hold no reference cycles, so it is paused while they are built and resumed after."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
