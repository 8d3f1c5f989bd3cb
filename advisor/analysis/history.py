"""What a job's whole history gives its features whatever the window: its runtime anomalies,
and what an analysis keeps so the next one can take in new runs alone.

A job whose only change is runs newer than all it had is extended: its new runs are judged
against the reference it kept, which gives what judging its whole history again would
(advisor/analysis/anomaly.py says why). Anything else
(an older run changed or arrived late, its definition changed, the reference is due to be
fitted again) reads the job's whole history again.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from joblib.externals.loky import get_reusable_executor

from advisor.analysis.anomaly import (
    PARALLEL_MIN_JOBS,
    Forests,
    Reference,
    RunAnomaly,
    anomaly_row,
    config_of,
    judged_runs,
    prepare,
    takes,
    training_size,
)
from advisor.analysis.anomaly import from_row as anomaly_from_row
from advisor.store import Store, to_json

SHARES_PER_WORKER = 4  # jobs are split in this many shares per worker: the last one waits less


@dataclass
class JobHistory:
    """A job's runtime anomalies (in the order of its runs), and what the next analysis needs
    to extend it by new runs (`kept`, saved in analysis_jobs.history)."""

    runs: int
    anomalies: list[RunAnomaly]
    kept: dict[str, Any]


def _kept(
    judged: int, latest: str, reference: Reference | None, config: list[Any] | None
) -> dict[str, Any]:
    return {
        # runs of the newest configuration the anomaly model judges (succeeded, with a runtime)
        "judged": judged,
        "latest": latest,  # the newest start of any of its runs
        "reference": reference.as_dict() if reference else None,
        "config": config,  # that configuration (anomaly.config_of)
    }


def _latest(runs: list[dict[str, Any]], since: str = "") -> str:
    return max((r["started_on"] or "" for r in runs), default=since) or since


def whole_history(forests: Forests, job: str, runs: list[dict[str, Any]]) -> JobHistory:
    """A job's history from all its runs (oldest first); its anomalies come from `forests`."""
    judged, reference, config = forests.add_history(job, runs)
    return JobHistory(len(runs), [], _kept(judged, _latest(runs), reference, config))


def job_histories(
    store: Store,
    runs_by_job: Iterable[tuple[str, list[dict[str, Any]]]],
    jobs: Collection[str] | None = None,
    each: Callable[[str, list[dict[str, Any]]], None] | None = None,
) -> dict[str, JobHistory]:
    """The JobHistory of each (job, its whole history, oldest first) of `runs_by_job`, which
    may be read while the forests of the jobs before are being fitted (their anomalies are
    kept in run_anomalies); `each(job, runs)` sees every job's runs on the way. `jobs`: only
    these jobs' histories were read (the other jobs' anomalies stand)."""
    forests = Forests()
    histories = {}
    for job, runs in runs_by_job:
        histories[job] = whole_history(forests, job, runs)
        if each is not None:
            each(job, runs)
    found = forests.anomalies()
    store.replace_anomalies([anomaly_row(a) for a in found], jobs=jobs)
    for anomaly in found:
        histories[anomaly.job_name].anomalies.append(anomaly)
    return histories


def by_share(
    store: Store, jobs: Collection[str], work: Callable[..., dict[str, Any]], *args: Any
) -> Callable[[], dict[str, Any]]:
    """Start `work(store, jobs share, *args)` (a module-level function returning a dict by
    job) on `jobs`: in worker processes, each on its share of the jobs through its own
    connection, when the store is a file and the jobs are many (reading a million runs is
    most of the work), else here. Returns what waits for the results, merged: the caller
    reads what else it needs meanwhile."""
    names = sorted(jobs)
    workers = min(os.cpu_count() or 1, 4)
    if not names:
        return dict
    if store.path is None or workers < 2 or len(names) < PARALLEL_MIN_JOBS:
        done = work(store, names, *args)
        return lambda: done
    executor = get_reusable_executor(max_workers=workers)
    size = math.ceil(len(names) / (workers * SHARES_PER_WORKER))
    pending = [
        executor.submit(_in_worker, str(store.path), work, names[first : first + size], *args)
        for first in range(0, len(names), size)
    ]

    def finish() -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for future in pending:
            merged.update(future.result())
        return merged

    return finish


def _in_worker(path: str, work: Callable[..., dict[str, Any]], jobs: list[str], *args: Any):
    """In a worker process: `work` on the store at `path`."""
    store = Store(path)
    try:
        return work(store, jobs, *args)
    finally:
        store.close()


def stored_histories(store: Store, jobs: Collection[str]) -> Callable[[], dict[str, JobHistory]]:
    """Start working out the JobHistory of `jobs` from their whole histories in the store
    (by_share); what waits for them keeps their anomalies in run_anomalies."""
    pending = by_share(store, jobs, _histories)

    def finish() -> dict[str, JobHistory]:
        histories = pending()
        found = [anomaly for h in histories.values() for anomaly in h.anomalies]
        if jobs:
            store.replace_anomalies([anomaly_row(a) for a in found], jobs=jobs)
        return histories

    return finish


def _histories(store: Store, jobs: list[str]) -> dict[str, JobHistory]:
    """The JobHistory of each of `jobs` that has runs."""
    forests = Forests(workers=1)
    out = {job: whole_history(forests, job, runs) for job, runs in store.run_histories(jobs)}
    for anomaly in forests.anomalies():
        out[anomaly.job_name].anomalies.append(anomaly)
    return out


def extended_histories(
    store: Store, kept: dict[str, dict[str, Any]], new_runs: dict[str, Collection[str]]
) -> dict[str, JobHistory]:
    """The JobHistory of each job of `new_runs` (job: its new runs' ids) that its kept one
    (`kept`: analysis_jobs rows) can be extended to; the others must be read in full. Their
    new runs' anomalies are kept in run_anomalies."""
    ids = sorted(run for runs in new_runs.values() for run in runs)
    rows: dict[str, list[dict[str, Any]]] = {job: [] for job in new_runs}
    for row in store.runs_of(ids):
        rows[row["job_name"]].append(row)
    forests = Forests(workers=1)
    histories: dict[str, JobHistory] = {}
    need_training = {}
    for job, runs in rows.items():
        row = kept.get(job)
        if not row or not row.get("history") or len(runs) != len(new_runs[job]):
            continue
        extended = _extend(job, row["runs"], orjson.loads(row["history"]), runs)
        if extended is not None:
            histories[job], prepared = extended
            if prepared is not None and prepared.needs_forest:
                need_training[job] = prepared
            else:
                forests.add(prepared)
    # the reference's own runs, for the jobs whose new runs a forest must judge (few)
    for job, runs in store.run_histories(need_training) if need_training else ():
        prepared = need_training[job]
        config = config_of(prepared.runs[0])  # the kept configuration, every new run's
        same = [r for r in judged_runs(runs) if config_of(r) == config]
        prepared.training = same[: prepared.reference.trained]
        forests.add(prepared)
    found = forests.anomalies()
    if histories:
        old = store.anomalies_of(histories)
        for anomaly in map(anomaly_from_row, old):
            if anomaly.run_id not in new_runs[anomaly.job_name]:
                histories[anomaly.job_name].anomalies.append(anomaly)
        store.replace_run_anomalies(
            [anomaly_row(a) for a in found],
            [run for job in histories for run in new_runs[job]],
        )
    for anomaly in found:
        histories[anomaly.job_name].anomalies.append(anomaly)
    return histories


def _extend(
    job: str, runs_before: int, kept: dict[str, Any], new: list[dict[str, Any]]
) -> tuple[JobHistory, Any] | None:
    """The job's kept history extended by its new runs (oldest first), and its new judged runs
    prepared for judging; None when they cannot extend it."""
    if any((r["started_on"] or "") < kept["latest"] for r in new):
        return None  # a run older than one it had: its place in the history is not the end
    new_judged = judged_runs(new)
    if any(config_of(r) != kept.get("config") for r in new_judged):
        return None  # another configuration: its runs are judged against a reference of their own
    judged = kept["judged"] + len(new_judged)
    reference = Reference.from_dict(kept["reference"]) if kept["reference"] else None
    if training_size(judged) != (reference.trained if reference else 0):
        return None  # the reference is due to be fitted again, on more runs
    if reference is not None and not all(takes(reference, r) for r in new_judged):
        return None
    history = JobHistory(
        runs_before + len(new),
        [],
        _kept(judged, _latest(new, kept["latest"]), reference, kept.get("config")),
    )
    return history, prepare(job, reference, new_judged)


def kept_history(row: dict[str, Any], anomalies: list[RunAnomaly]) -> JobHistory:
    """The JobHistory a job without new data keeps (its analysis_jobs row)."""
    return JobHistory(row["runs"], anomalies, orjson.loads(row["history"] or "null"))


def history_row(history: JobHistory | None) -> dict[str, Any]:
    """The analysis_jobs columns of a job's history."""
    return {
        "runs": history.runs if history else 0,
        "history": to_json(history.kept) if history else None,
    }
