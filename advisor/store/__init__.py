"""The SQLite store: schema migrations, WAL, idempotent upserts and the shared read queries.

This package is the only code that writes SQL: schema.py (tables and migrations), writes.py
(every write, each in a transaction), queries.py (the reads each output needs), core.py (the
Store that joins them, its connection and transactions).
"""

from advisor.store.base import stable_hash, to_json
from advisor.store.core import BUSY_TIMEOUT_MS, DEFAULT_DB_PATH, Store, resolve_db_path
from advisor.store.schema import SPARK_TABLES, TERMINAL_STATES, migrations

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DEFAULT_DB_PATH",
    "SPARK_TABLES",
    "TERMINAL_STATES",
    "Store",
    "migrations",
    "resolve_db_path",
    "stable_hash",
    "to_json",
]
