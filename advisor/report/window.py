"""One rule for time windows, in every output: a window ends just after the newest run in the
store (not at the wall clock), so `costs`, `recommend` and the report agree on the same data
however long ago it was collected."""

from __future__ import annotations

from datetime import datetime, timedelta

from advisor.store import Store
from advisor.timeutil import iso, parse_ts


def window_end(store: Store) -> datetime | None:
    """Just after the newest run's start; None for a store without runs."""
    newest = store.latest_run_start()
    return parse_ts(newest) + timedelta(seconds=1) if newest else None


def window(store: Store, since: timedelta | None) -> tuple[str | None, str | None]:
    """(start, end) of the window `since` long that ends at window_end, as store text; both
    None for everything stored (since None) or a store without runs."""
    end = window_end(store)
    if since is None or end is None:
        return None, None
    return iso(end - since), iso(end)
