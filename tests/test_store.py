"""The store: migrations, WAL, idempotent writes, job versions and the --db / ADVISOR_DB rule."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from advisor.config import load_config
from advisor.store import Store, migrations, stable_hash
from tests.conftest import snapshot


def test_schema_is_migrated_once_and_in_wal_mode(tmp_path):
    path = tmp_path / "a.db"
    Store(path).close()
    store = Store(path)  # re-opening applies nothing twice
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    expected = {
        "jobs",
        "job_versions",
        "job_runs",
        "run_metrics",
        "collect_state",
        "ingest_errors",
        "eventlog_locations",
        "run_costs",
    }
    assert expected <= set(store.db.table_names())
    applied = store.db.execute("select count(*) from _sqlite_migrations").fetchone()[0]
    assert applied == len(migrations.applied(store.db)) >= 2 and not migrations.pending(store.db)


def test_job_versions_keep_first_and_last_seen(tmp_path):
    store = Store(tmp_path / "a.db")
    v1, v2 = (
        {"WorkerType": "G.1X", "NumberOfWorkers": 5},
        {"WorkerType": "G.2X", "NumberOfWorkers": 20},
    )
    store.record_job_version("j", v1, "2026-10-01", "2026-10-05T00:00:00.000+00:00")
    store.record_job_version("j", v1, "2026-10-01", "2026-10-09T00:00:00.000+00:00")
    store.record_job_version("j", v2, "2026-11-02", "2026-11-03T00:00:00.000+00:00")
    store.record_job_version("j", v1, "2026-10-01", "2026-10-01T00:00:00.000+00:00")
    rows = {r["hash"]: r for r in store.db["job_versions"].rows}
    assert len(rows) == 2
    first = rows[stable_hash(v1)]
    assert (first["first_seen"], first["last_seen"]) == (
        "2026-10-01T00:00:00.000+00:00",
        "2026-10-09T00:00:00.000+00:00",
    )


def test_errors_are_one_row_per_problem(tmp_path):
    store = Store(tmp_path / "a.db")
    for _ in range(3):
        store.record_error(
            "import", "jobs.json", "invalid JSON", at="2026-11-01T00:00:00.000+00:00"
        )
    store.record_error("import", "other.json", "invalid JSON", at="2026-11-01T00:00:00.000+00:00")
    assert len(store.errors()) == 2


def test_db_path_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert str(load_config().db_path) == "advisor.db"
    (tmp_path / "advisor.toml").write_text('[store]\ndb = "from-toml.db"\n')
    assert str(load_config().db_path) == "from-toml.db"
    monkeypatch.setenv("ADVISOR_DB", "from-env.db")
    assert str(load_config().db_path) == "from-env.db"
    assert str(load_config("from-flag.db").db_path) == "from-flag.db"


def _advisor(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "advisor", *args, "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_writers_at_once_all_succeed_and_the_store_equals_a_serial_run(tmp_path):
    """Two imports and an analyze started together into a new store (so they also race to
    create it): none fails with "database is locked", and the store they leave, once analysed,
    is the store of one import and one analyze."""
    sample = str(Path(__file__).parents[1] / "sample_metrics")
    together, serial = str(tmp_path / "together.db"), str(tmp_path / "serial.db")
    writers = [_advisor("import", sample, "--db", together) for _ in range(2)]
    # analyze refuses a store nobody made yet (a mistyped --db): it starts once an import has
    # made the file, and then races both imports' writes
    deadline = time.monotonic() + 120
    while not Path(together).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    writers.append(_advisor("analyze", "--db", together))
    outputs = [(w.wait(timeout=300), w.stdout.read()) for w in writers]
    for code, output in outputs:
        assert code == 0, output
        assert "locked" not in output and "Traceback" not in output
    for args in (("import", sample, "--db", serial), ("analyze", "--db", serial)):
        assert _advisor(*args).wait(timeout=300) == 0
    assert _advisor("analyze", "--db", together).wait(timeout=300) == 0
    # the racing analyze may have judged a half-imported fleet: findings it saw then and the
    # last analysis no longer does are resolved history, legitimately there; what is open now,
    # and every other table, must be the serial run's
    skip = ("collector_calls", "findings")
    assert snapshot(Store(together), skip) == snapshot(Store(serial), skip)
    assert _open_findings(Store(together)) == _open_findings(Store(serial))


def _open_findings(store: Store) -> list[tuple]:
    """Open findings without the dates of their lifecycle (first seen, last seen)."""
    rows = store.db.query("select * from findings where status != 'resolved' order by id")
    return [
        tuple(v for k, v in row.items() if k not in ("first_seen", "last_seen", "resolved_at"))
        for row in rows
    ]
