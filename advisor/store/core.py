"""The Store: one SQLite file in WAL mode, shared safely by several writers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from advisor.identity import learn_shared_names
from advisor.store.queries import Queries
from advisor.store.schema import IDENTITY_DEFAULTS, migrations
from advisor.store.writes import Writes

DEFAULT_DB_PATH = "advisor.db"
# how long a writer waits for another one to finish its transaction; the longest one, costing
# a million runs, takes well under a minute
BUSY_TIMEOUT_MS = 120_000


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--db` wins, then `ADVISOR_DB`, then ./advisor.db."""
    return Path(explicit or os.environ.get("ADVISOR_DB") or DEFAULT_DB_PATH)


class Store(Writes, Queries):
    """A thin, typed layer over a sqlite-utils Database: writers in writes.py, the read queries
    in queries.py, the schema in schema.py."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        memory: bool = False,
        account: str | None = None,
        region: str | None = None,
    ):
        """`account` and `region`: what an older store's jobs that do not say get when it is
        migrated to (account, region, name) keys (schema.m014_job_identity)."""
        if memory:
            self.db = Database(memory=True)
            self.path: Path | None = None
        else:
            self.path = resolve_db_path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = Database(self.path)
        # Several writers share one store (two imports, an import and an analyze, cron and a
        # user): no statement opens a transaction behind our back, every write transaction
        # takes the write lock first (BEGIN IMMEDIATE) and waits for it up to BUSY_TIMEOUT_MS
        self.db.conn.isolation_level = None
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not memory:
            self.db.enable_wal()
            # WAL + NORMAL: a crash of the process loses nothing committed; only a power cut can
            # drop the last transactions, which a re-run collects again
            self.db.execute("PRAGMA synchronous = NORMAL")
        self._columns: dict[str, set[str]] = {}
        if migrations.pending(self.db):
            IDENTITY_DEFAULTS.update(account=account, region=region)
            try:
                with self.transaction():  # two first users of a new store migrate it once
                    migrations.apply(self.db)
            finally:
                IDENTITY_DEFAULTS.update(account=None, region=None)
        self.learn_names()

    def learn_names(self) -> None:
        """Tell outputs which Glue names several accounts or regions share (identity.label)."""
        learn_shared_names(self.names_in_several_places())

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All writes inside commit together or not at all (a crash loses no half-pages).

        The outermost one starts with BEGIN IMMEDIATE: a transaction that reads and then
        writes would otherwise fail at once with "database is locked" when another writer
        committed in between, whatever the busy timeout; nested ones are savepoints.
        """
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # ---- writers -------------------------------------------------------------------------
