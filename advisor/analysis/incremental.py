"""Incremental analysis: what `advisor analyze` takes in since the last one, and what it may reuse.

The result is the one a full analysis of the same store gives (tests/test_incremental_analysis.py
holds it to that); only the work differs.

What changed. Triggers on every table analysis reads (jobs, job_versions, job_runs, run_metrics,
spark_*; advisor/store/schema.py) append (job, run) to `analysis_changes` when a row really
changes, whoever writes it; an upsert of the same values logs nothing, so importing the same
folder again leaves nothing to do. New runs are the job_runs rows past the rowid the last
analysis saw (a deleted run, which may free its rowid, makes it look for unpriced runs
instead). Analysis takes in the log up to its newest entry, and the runs up to the newest
rowid, when it starts, and clears exactly that part of the log when it has saved everything
(in the same transaction): changes written while it runs wait for the next one.

What each job depends on besides its own rows is digested: the analysis code and the facts
registry, the rates, advisor.toml, the rules. A changed digest makes the run full (rates or
code: every run priced again; config or rules: every job analysed again); so does `--full`, or
a store no incremental analysis has run on.

Costs. A run is priced again when it, its metrics or its event logs changed; every run of a
job whose definition or versions changed (its execution class history, Auto Scaling argument,
job type). The cost of each job and UTC day such a run falls on (now, or when last priced) is
summed again from all of that day's runs in the same order as a full pricing.

The window is the fleet's, not the job's: it ends at --as-of, else at the newest run in the
store, and is the same for every job (every output shows one "as of"). So:

- a job whose only change is runs newer than all it had takes them in: they are judged
  against the reference it kept, and its cost step moves on by them
  (advisor/analysis/history.py); its window is read again;
- any other job whose own data changed (an older run changed or arrived late, its definition
  changed, its reference is due to be fitted on more runs) is analysed again from its whole
  history: its runtime anomalies, its cost step, its window;
- when the window did not move, every other job keeps what it has (features, findings, rule
  outcomes, saving, what-if): nothing it depends on changed;
- when the window moved (a newer run anywhere, or another --as-of), every job's features
  depend on it and are computed again, but a job without new data reuses what does not
  depend on the window (its anomalies, kept in run_anomalies, and cost step, kept in
  analysis_jobs) and reads only its window's runs; its what-if is simulated again only if what
  it is computed from changed (a key over the application and the features it reads).

Inherently fleet-wide, and cheap: the window's end (one max over an index), the CloudWatch
and event-log aggregates over the window (one grouped query each, kept fleet-wide so every
job's sums are added in the same order), the rule outcomes and open findings counted for the
report.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy
import sklearn

import advisor
from advisor.analysis.rules import Rule, default_rules_dir
from advisor.store import Store, stable_hash

STATE_VERSION = "4"  # the meaning of analysis_state and analysis_jobs


# the code and data analysis runs (the modules advisor.analysis.findings imports, and the
# facts registry): a new release, or an edited checkout, analyses everything again. A module
# analysis comes to import must be added here (`advisor analyze --full` meanwhile).
ANALYSIS_SOURCES = (
    "analysis",
    "store",
    "data",
    "sparklog/__init__.py",
    "sparklog/simulate.py",
    "collect/__init__.py",
    "collect/redact.py",
    "__init__.py",
    "bulk.py",
    "describe.py",
    "identity.py",
    "redaction_marker.py",
    "safe_text.py",
    "facts.py",
    "jobargs.py",
    "timeutil.py",
)


@functools.cache
def _source_digest() -> str:
    """The analysis code and data, and the numeric libraries' versions."""
    root = Path(advisor.__file__).resolve().parent
    digest = hashlib.sha256()
    for source in ANALYSIS_SOURCES:
        path = root / source
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.suffix in (".py", ".yaml", ".json") and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    digest.update(f"{numpy.__version__} {sklearn.__version__} {sqlite3.sqlite_version}".encode())
    return digest.hexdigest()[:16]


def rule_set(rules: list[Rule] | None) -> tuple[str, list[str]]:
    """A digest of the rules and their ids, without parsing the rule files (an analysis with
    nothing to do should not pay for YAML)."""
    if rules is not None:
        return stable_hash([rule.spec for rule in rules]), [rule.id for rule in rules]
    paths = sorted(default_rules_dir().glob("*.yaml"))
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    # load_rule() holds every rule's id to its file name
    return digest.hexdigest()[:16], [path.stem for path in paths]


def digests(
    config: dict[str, Any], rates: dict | None, rules: list[Rule] | None, window_days: int
) -> dict[str, str]:
    return {
        "version": STATE_VERSION,
        "code": _source_digest(),  # the facts registry is advisor/data/glue_facts.yaml
        "rates": stable_hash(rates or {}),
        "config": stable_hash(config),
        "rules": rule_set(rules)[0],
        "window_days": str(window_days),
    }


@dataclass
class Plan:
    """What this analysis must do, from the change log, the new runs and the digests."""

    mark: int  # the change log is taken in up to this entry
    runs_mark: int  # and the runs up to this rowid
    reprice_all: bool  # every run priced again
    reanalyse_all: bool  # every job analysed again
    why: str
    quiet: bool = False  # not a row changed since the last analysis
    whole_jobs: set[str] = field(default_factory=set)  # definition or versions changed
    run_ids: set[str] = field(default_factory=set)  # runs (their metrics, logs) new or changed
    days: set[tuple[str, str]] = field(default_factory=set)  # (job, UTC day) to sum again
    changed_jobs: set[str] = field(default_factory=set)  # jobs whose own data changed
    # of those, the ones whose history must be read again (older runs changed, or the
    # definition): the others have only new runs (by job), which extend what they kept
    reread_jobs: set[str] = field(default_factory=set)
    new_runs: dict[str, set[str]] = field(default_factory=dict)


def plan(store: Store, state: dict[str, str], now: dict[str, str], full: bool) -> Plan:
    mark, runs_mark = store.changes_mark(), store.runs_mark()
    differ = sorted(key for key, value in now.items() if state.get(key) != value)
    if full:
        return Plan(mark, runs_mark, True, True, "--full")
    if not state:
        return Plan(mark, runs_mark, True, True, "no earlier analysis recorded in this store")
    if {"version", "code", "rates", "window_days"} & set(differ):
        return Plan(mark, runs_mark, True, True, f"{', '.join(differ)} changed")
    seen = int(state.get("runs_rowid") or 0)
    pairs = store.changes_upto(mark) if mark else []
    whole = {job for job, run in pairs if job and not run}
    logged = {run for _job, run in pairs if run}
    jobs, days, deleted = store.runs_touched(logged) if logged else (set(), set(), False)
    added = store.runs_added(seen, runs_mark) if runs_mark > seen else []
    new_runs: dict[str, set[str]] = {}
    for job, run, _day in added:
        new_runs.setdefault(job, set()).add(run)
    older = logged - {run for _job, run, _day in added}
    reread = whole | (store.runs_touched(older)[0] if older else set())
    if deleted or runs_mark < seen:  # a run was deleted: a new one may have taken its rowid
        added += store.unpriced_runs()
        new_runs = {}  # and every changed job is read again
    for job, _run, day in added:
        if job is not None:
            jobs.add(job)
            if day is not None:
                days.add((job, day))
    return Plan(
        mark,
        runs_mark,
        False,
        bool(differ),
        f"{', '.join(differ)} changed" if differ else "incremental",
        not pairs and runs_mark == seen,
        whole,
        logged | {run for _job, run, _day in added},
        days,
        {job for job, _run in pairs if job} | jobs,
        reread,
        new_runs,
    )
