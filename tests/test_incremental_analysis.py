"""Incremental `advisor analyze`: after new runs, updated runs, new metrics or a changed job
definition, the store holds exactly what a full analysis of the same data gives; with nothing
new, nothing is recomputed and nothing changes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from advisor.analysis import history
from advisor.analysis.findings import analyze
from advisor.collect.importer import import_directory
from advisor.store import Store, stable_hash
from advisor.timeutil import iso, parse_ts
from tests.conftest import SAMPLE, snapshot
from tests.keys import sample_job, sample_run

# a run still going when the first analysis ran, finished before the second
RUNNING = sample_run("jr_incremental_running")
NEW_DAY_JOBS = tuple(
    map(sample_job, ("dq_checks_hourly", "payments_cdc_merge", "orders_daily_etl"))
)
CHANGED_JOB = sample_job(
    "customer_dim_load"
)  # to Flex, fewer workers, from the middle of its history
# every job of the sample (its MANIFEST counts them), so adding jobs to it breaks nothing here
SAMPLE_JOBS = yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())["totals"]["jobs"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """The sample fleet imported, with one run still RUNNING."""
    path = tmp_path_factory.mktemp("incremental") / "base.db"
    store = Store(path)
    import_directory(store, SAMPLE)
    (row,) = store.db.query(
        "select * from job_runs where job_name = '123456789012/us-east-1/geo_enrichment' order by started_on desc limit 1"
    )
    started = "2026-11-26T22:00:00.000+00:00"
    store.upsert_runs(
        [
            {
                **row,
                "id": RUNNING,
                "state": "RUNNING",
                "started_on": started,
                "last_modified_on": started,
                "completed_on": None,
                "execution_time_s": None,
            }
        ]
    )
    store.close()
    return path


@pytest.fixture(scope="module")
def analysed(base, tmp_path_factory) -> Path:
    """`base` after its first analysis (a full one: the store had none)."""
    store = copy_of(base, tmp_path_factory.mktemp("analysed") / "analysed.db")
    first = analyze(store)
    assert (first.mode, first.why) == ("full", "no earlier analysis recorded in this store")
    assert first.jobs_recomputed == first.jobs == SAMPLE_JOBS and first.runs_priced > 6000
    store.close()
    return Path(store.path)


def copy_of(store: Store | Path, path: Path) -> Store:
    """A consistent copy of a store (WAL included), opened."""
    source = Store(store) if isinstance(store, Path) else store
    target = sqlite3.connect(path)
    source.db.conn.backup(target)
    target.close()
    if isinstance(store, Path):
        source.close()
    return Store(path)


def shifted(value: str | None, by: timedelta) -> str | None:
    return iso(parse_ts(value) + by) if value else value


def add_new_day(store: Store, job: str) -> int:
    """The job's last day of runs again, one day later, as a collector would store them (with
    CloudWatch metrics for the newest)."""
    day = timedelta(days=1)
    newest = store.db.execute(
        "select max(started_on) from job_runs where job_name = ?", [job]
    ).fetchone()[0]
    rows = list(
        store.db.query(
            "select * from job_runs where job_name = ? and started_on > ? order by started_on",
            [job, shifted(newest, -day)],
        )
    )
    new = [
        {
            **row,
            "id": row["id"] + "_next",
            "started_on": shifted(row["started_on"], day),
            "completed_on": shifted(row["completed_on"], day),
            "last_modified_on": shifted(row["last_modified_on"], day),
        }
        for row in rows
    ]
    store.upsert_runs(new)
    metrics = list(store.db.query("select * from run_metrics where run_id = ?", [rows[-1]["id"]]))
    store.upsert_metrics(
        [{**m, "run_id": new[-1]["id"], "ts": shifted(m["ts"], day)} for m in metrics]
    )
    return len(new)


def change_definition(store: Store, job: str) -> None:
    """A new definition from the middle of the job's history: runs that do not state their
    execution class are priced at the one their job had then."""
    valid_from = "2026-11-10T00:00:00.000+00:00"
    definition = store.latest_definition(job)
    definition.update(ExecutionClass="FLEX", NumberOfWorkers=4)
    row = store.job(job)
    store.upsert_jobs(
        [
            {
                **row,
                "execution_class": "FLEX",
                "number_of_workers": 4,
                "last_modified_on": valid_from,
                "definition_hash": stable_hash(definition),
            }
        ]
    )
    store.record_job_version(job, definition, valid_from, "2026-11-27T08:00:00.000+00:00")


def finish_running_run(store: Store) -> None:
    store.db["job_runs"].update(
        RUNNING,
        {
            "state": "SUCCEEDED",
            "execution_time_s": 1500,
            "completed_on": "2026-11-26T22:25:00.000+00:00",
            "last_modified_on": "2026-11-26T22:25:00.000+00:00",
        },
    )


def new_data(store: Store) -> None:
    for job in NEW_DAY_JOBS:
        assert add_new_day(store, job) > 0
    finish_running_run(store)
    change_definition(store, CHANGED_JOB)


@pytest.fixture(scope="module")
def new_day(analysed, tmp_path_factory):
    """`analysed` after new data, analysed incrementally, and a copy of it (the same data, the
    same past analyses) analysed in full."""
    folder = tmp_path_factory.mktemp("new_day")
    store = copy_of(analysed, folder / "incremental.db")
    new_data(store)
    full = copy_of(store, folder / "full.db")
    with pytest.MonkeyPatch.context() as patch:
        # the jobs with new data are read and worked out in worker processes, as on a fleet
        # (the sample's few would be done in this one)
        patch.setattr(history, "PARALLEL_MIN_JOBS", 1)
        report = analyze(store)
    full_report = analyze(full, full=True)
    yield store, report, full, full_report
    store.close()
    full.close()


def test_incremental_equals_full_and_a_second_run_does_nothing(new_day):
    store, report, full, full_report = new_day
    assert report.mode == "incremental", report.why
    assert full_report.mode == "full"
    # the new days, the finished run and the new definition; the other jobs' windows moved
    # (a newer run), so their features were computed again from what they had
    assert report.jobs_changed == len(NEW_DAY_JOBS) + 2
    # the jobs with a new day take it in from what they kept; the finished run (older than
    # its job's newest) and the new definition make their jobs be read whole again
    assert report.histories_read == 2
    assert report.jobs_recomputed == report.jobs
    assert report.runs_priced < 2000  # the new runs, their days, the changed job's runs
    # no exclusions: both stores went through the same analyses, so even the findings'
    # history (first_seen, resolved_at) must agree
    assert snapshot(store) == snapshot(full)
    assert (report.findings, report.not_evaluated, report.rule_errors) == (
        full_report.findings,
        full_report.not_evaluated,
        full_report.rule_errors,
    )

    before = snapshot(store)
    again = analyze(store)
    assert (again.mode, again.jobs_changed, again.jobs_recomputed, again.runs_priced) == (
        "incremental",
        0,
        0,
        0,
    )
    assert again.findings == {
        "new": 0,
        "open": report.findings["new"] + report.findings["open"],
        "resolved": 0,
    }
    assert (again.not_evaluated, again.rules) == (report.not_evaluated, report.rules)
    assert snapshot(store) == before


def test_incremental_equals_a_fresh_store_analysed_once(base, new_day, tmp_path):
    """The same data, never analysed before: only the findings' own history may differ."""
    store = new_day[0]
    fresh = copy_of(base, tmp_path / "fresh.db")
    new_data(fresh)
    analyze(fresh)

    def findings(s: Store) -> list[dict]:
        # first_seen is the "as of" of the first analysis that saw the finding, and a resolved
        # finding is one an earlier analysis saw: the history of analyses, which a store
        # analysed once has not had. Every other column is the data's.
        return sorted(
            (
                {k: v for k, v in row.items() if k != "first_seen"}
                for row in s.db["findings"].rows
                if row["status"] != "resolved"
            ),
            key=lambda row: row["id"],
        )

    assert findings(store) == findings(fresh)
    assert snapshot(store, skip=("findings",)) == snapshot(fresh, skip=("findings",))


def test_new_data_inside_the_window_recomputes_only_its_jobs(analysed, tmp_path):
    store = copy_of(analysed, tmp_path / "incremental.db")
    # importing the same folder again writes the same rows: nothing to do
    before = snapshot(store)
    import_directory(store, SAMPLE)
    assert analyze(store).jobs_recomputed == 0
    assert snapshot(store) == before
    # the newest stored run is deleted, then an older run arrives late (and takes its rowid:
    # a new run is found by its rowid, unless a deletion says to look for unpriced runs), and
    # CloudWatch metrics for a run already stored
    newest_rowid = store.db.execute("select max(rowid) from job_runs").fetchone()[0]
    assert (
        store.db.execute("select id from job_runs where rowid = ?", [newest_rowid]).fetchone()[0]
        == RUNNING
    )
    store.db["job_runs"].delete(RUNNING)
    (late,) = store.db.query(
        "select * from job_runs where job_name = '123456789012/us-east-1/warehouse_full_reload' order by started_on limit 1"
    )
    store.upsert_runs(
        [
            {
                **late,
                "id": sample_run("jr_late"),
                "glue_run_id": "jr_late",
                "started_on": "2026-11-20T03:00:00.000+00:00",
            }
        ]
    )
    assert store.db.execute("select rowid from job_runs where glue_run_id = 'jr_late'").fetchone()[
        0
    ] == (newest_rowid)
    (old,) = store.db.query(
        "select * from job_runs where job_name = '123456789012/us-east-1/ledger_reconcile' "
        "and id not in (select run_id from run_metrics) order by started_on desc limit 1"
    )
    store.upsert_metrics(
        [
            {
                "run_id": old["id"],
                "metric": "glue.ALL.jvm.heap.usage",
                "dims": "{}",
                "stat": stat,
                "ts": old["started_on"],
                "job_name": sample_job("ledger_reconcile"),
                "value": 0.97,
                "unit": "Percent",
            }
            for stat in ("Average", "Maximum")
        ]
    )
    full = copy_of(store, tmp_path / "full.db")
    report = analyze(store)
    assert (report.jobs_changed, report.jobs_recomputed) == (3, 3)
    assert report.runs_priced < 100
    analyze(full, full=True)
    assert snapshot(store) == snapshot(full)


def test_a_moved_window_or_new_rates_give_the_full_result(analysed, tmp_path):
    store = copy_of(analysed, tmp_path / "incremental.db")
    full = copy_of(store, tmp_path / "full.db")
    # a window a second later: every job's features again, nothing else (the what-if of every
    # job with an event log reused); a window two and a half days earlier: runs and event logs
    # leave it
    with_logs = {
        e["job"] for e in yaml.safe_load((SAMPLE / "MANIFEST.yaml").read_text())["eventlogs"]
    }
    for as_of, reused in (
        ("2026-11-26T23:05:46.000+00:00", len(with_logs)),
        ("2026-11-24T12:00:00.000+00:00", 0),
    ):
        moved = analyze(store, as_of=as_of)
        # no job has new data: their costs, anomalies, cost steps and what-ifs are reused
        assert (moved.mode, moved.jobs_changed) == ("incremental", 0)
        assert moved.jobs_recomputed == SAMPLE_JOBS
        assert (moved.runs_priced, moved.whatifs_reused) == (0, reused)
        analyze(full, as_of=as_of, full=True)
        assert snapshot(store) == snapshot(full)

    rates = {"us-east-1": {"etl": 0.5}}
    repriced = analyze(store, rates=rates)
    assert repriced.mode == "full" and "rates" in repriced.why
    analyze(full, rates=rates, full=True)
    assert snapshot(store) == snapshot(full)


def test_the_code_digest_covers_every_module_analysis_imports():
    """A change to the analysis code makes the next analysis a full one: the digest must read
    every module `advisor analyze` runs (measured in a fresh interpreter)."""
    import advisor
    from advisor.analysis.incremental import ANALYSIS_SOURCES

    modules = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, advisor.analysis.findings; "
            "print('\\n'.join(m.__file__ for n, m in list(sys.modules.items()) "
            "if n.startswith('advisor') and getattr(m, '__file__', None)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    root = Path(advisor.__file__).resolve().parent
    files = {Path(m).resolve().relative_to(root).as_posix() for m in modules}
    covered = {f for f in files if any(f == s or f.startswith(s + "/") for s in ANALYSIS_SOURCES)}
    assert files == covered
