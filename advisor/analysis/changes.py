"""Configuration changes of a job, and what each one did.

A change is any difference in the configuration a job ran with. It is read from the stored
definitions (job_versions) and from the run history itself (every run carries its worker type,
count, capacity, execution class, Glue version, timeout and arguments), so a change made and
undone between two collections, or one in an offline import, is seen too. Each change is judged
on a window of comparable runs on each side, per GB read when the volume is known (growth in the
data is then neither credited nor blamed), with failed runs accounted apart; its realised saving
a month at the job's current run rate comes with a t-interval.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from statistics import fmean, variance
from typing import Any

import orjson

from advisor.analysis import changes_data
from advisor.identity import label, split_key
from advisor.jobargs import flag
from advisor.redaction_marker import REDACTED
from advisor.store import TERMINAL_STATES, Store
from advisor.timeutil import iso, parse_ts

# change keys are the findings' own (rules/*.yaml `change:`, advisor/fix/jobupdate.py)
RUN_FIELDS = {
    "WorkerType": "worker_type",
    "NumberOfWorkers": "number_of_workers",
    "MaxCapacity": "max_capacity",
    "ExecutionClass": "execution_class",
    "GlueVersion": "glue_version",
    "Timeout": "timeout_min",
}
DEFINITION_ONLY = ("MaxRetries",)
CAPACITY_FIELDS = ("WorkerType", "NumberOfWorkers", "MaxCapacity")
ARGUMENT_PREFIX = "DefaultArguments."
SPARK_CONF_PREFIX = "SparkConf."
# arguments that configure the job (with every --enable-*); others are the job's own parameters,
# which may differ on every run (--run_date)
CONFIG_ARGUMENTS = ("--conf", "--write-shuffle-files-to-s3", "--job-bookmark-option")
_CONF_SPLIT = re.compile(r"\s+--conf\s+")

WINDOW_RUNS = 20  # runs compared on each side of a change
MIN_RUNS_AFTER = 5  # succeeded runs after a change before it is judged
MIN_RUNS_BEFORE = 3  # succeeded runs before it, for a baseline
CONFIDENCE = 0.90
MONTH_DAYS = 30
# a change within this much a month (or this share of the job's month) is neutral
NEUTRAL_USD_MONTH = 1.0
NEUTRAL_SHARE = 0.02
GB = 1e9


# ---- configurations ------------------------------------------------------------------------


def is_config_argument(key: str) -> bool:
    return key.startswith("--enable-") or key in CONFIG_ARGUMENTS


def argument_fields(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Configuration arguments as change keys; `--conf` opened into one SparkConf.<key> each
    (a wholly redacted --conf stays one field, shown as stored)."""
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if not is_config_argument(key):
            continue
        if key == "--conf" and isinstance(value, str) and value.strip() != REDACTED:
            text = value.strip().removeprefix("--conf ").strip()
            for setting in filter(None, _CONF_SPLIT.split(text)):
                name, _, setting_value = setting.partition("=")
                out[SPARK_CONF_PREFIX + name.strip()] = setting_value.strip()
        else:
            out[ARGUMENT_PREFIX + key] = value
    return out


def normal(value: Any) -> str | None:
    """One text per value, so 6, 6.0 and "6" (a finding's change) compare equal, as do FLEX
    and flex."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text.lower()
    if not math.isfinite(number):
        return text.lower()
    return str(int(number)) if number.is_integer() else repr(number)


def same(a: Any, b: Any) -> bool:
    return normal(a) == normal(b)


def _is_argument(key: str) -> bool:
    return key.startswith((ARGUMENT_PREFIX, SPARK_CONF_PREFIX))


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Fields that differ, name -> [old, new]. An argument added or removed counts; a Glue
    field first known (None before) does not, unless the job moved between MaxCapacity and
    worker types."""
    if old == new:  # the common case, run after run
        return {}
    capacity_model_moved = ("WorkerType" in old) != ("WorkerType" in new)
    out: dict[str, list[Any]] = {}
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if same(a, b):
            continue
        first_known = (a is None or b is None) and not _is_argument(key)
        if first_known and not (capacity_model_moved and key in CAPACITY_FIELDS):
            continue
        out[key] = [a, b]
    return out


@dataclass(frozen=True)
class Definition:
    since: str
    fields: dict[str, Any]
    defaults: dict[str, Any]
    fixed: dict[str, Any]  # NonOverridableArguments: they win over a run's own


def parse_definitions(rows: Sequence[Mapping[str, Any]]) -> list[Definition]:
    """changes_data.definitions() rows as Definitions, oldest first."""
    out = []
    for row in rows:
        body = row.get("definition") or {}
        fields = {k: body[k] for k in (*RUN_FIELDS, *DEFINITION_ONLY) if body.get(k) is not None}
        out.append(
            Definition(
                row.get("since") or "",
                fields,
                _mapping(body.get("DefaultArguments")),
                _mapping(body.get("NonOverridableArguments")),
            )
        )
    return sorted(out, key=lambda d: d.since)


def _mapping(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


def definition_at(definitions: Sequence[Definition], started_on: str) -> Definition | None:
    """The newest definition that took effect before a run started, else the oldest known
    (a run older than every stored definition ran with the first one the store saw)."""
    if not definitions:
        return None
    index = bisect.bisect_right([d.since for d in definitions], started_on) - 1
    return definitions[max(index, 0)]


def run_config(
    run: Mapping[str, Any], definition: Definition | None, previous: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The configuration a run ran with: its own fields, else its definition's, else the
    previous run's; arguments are the definition's defaults under the run's own, under the
    non-overridable ones (Glue's order)."""
    base = definition.fields if definition else {}
    config: dict[str, Any] = {}
    for name, column in RUN_FIELDS.items():
        value = run.get(column)
        for fallback in (base, previous or {}):
            if value is None:
                value = fallback.get(name)
        if value is not None:
            config[name] = value
    for name in DEFINITION_ONLY:
        if name in base:
            config[name] = base[name]
    if config.get("WorkerType"):
        config.pop("MaxCapacity", None)  # derived from the workers, it moves with them
    arguments = {
        **(definition.defaults if definition else {}),
        **_mapping(run.get("arguments")),
        **(definition.fixed if definition else {}),
    }
    config.update(argument_fields(arguments))
    return config


# ---- sides of a change ---------------------------------------------------------------------


def _gb(run: Mapping[str, Any]) -> float | None:
    value = run.get("bytes_read")
    return value / GB if value else None


@dataclass
class Side:
    """Runs of one configuration on one side of a change (terminal, priced or not)."""

    runs: list[dict[str, Any]]

    def __post_init__(self) -> None:
        priced = [r for r in self.runs if r["cost_usd"] is not None]
        self.ok = [r for r in priced if r["state"] == "SUCCEEDED"]
        self.failed = [r for r in priced if r["state"] != "SUCCEEDED"]
        self.with_gb = [r for r in self.ok if _gb(r)]

    def usd(self) -> list[float]:
        return [r["cost_usd"] for r in self.ok]

    def usd_per_gb(self) -> list[float]:
        return [r["cost_usd"] / _gb(r) for r in self.with_gb]

    def volume_known(self) -> bool:
        """Bytes read by enough of the succeeded runs to compare per GB."""
        return len(self.with_gb) >= MIN_RUNS_BEFORE and 2 * len(self.with_gb) >= len(self.ok)

    def gb_per_run(self) -> float | None:
        return fmean(_gb(r) for r in self.with_gb) if self.with_gb else None

    def dpu_hours_per_run(self) -> float | None:
        return fmean(r["dpu_hours"] or 0.0 for r in self.ok) if self.ok else None

    def dpu_hours_per_gb(self) -> float | None:
        rows = [(r["dpu_hours"] or 0.0) / _gb(r) for r in self.with_gb]
        return fmean(rows) if rows else None

    def failed_usd_per_run(self) -> float:
        priced = len(self.ok) + len(self.failed)
        return sum(r["cost_usd"] for r in self.failed) / priced if priced else 0.0

    def summary(self) -> dict[str, Any]:
        runtimes = [r["execution_time_s"] for r in self.ok if r["execution_time_s"] is not None]
        priced = len(self.ok) + len(self.failed)
        return {
            "runs": len(self.runs),
            "succeeded": len(self.ok),
            "failed": len(self.failed),
            "usd_per_run": _round(fmean(self.usd()) if self.ok else None, 4),
            "runtime_s": _round(fmean(runtimes) if runtimes else None, 1),
            "dpu_hours_per_run": _round(self.dpu_hours_per_run(), 4),
            "gb_per_run": _round(self.gb_per_run(), 3),
            "usd_per_gb": _round(fmean(self.usd_per_gb()) if self.with_gb else None, 6),
            "failure_rate": _round(len(self.failed) / priced if priced else None, 4),
            "failed_usd_per_run": _round(self.failed_usd_per_run(), 4),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def welch(before: Sequence[float], after: Sequence[float]) -> tuple[float, float, float]:
    """mean(before) - mean(after) with its CONFIDENCE t-interval (Welch: the two sides may
    vary differently); both sides need two values."""
    from scipy.special import stdtrit  # the t quantile; imported only when a change is judged

    delta = fmean(before) - fmean(after)
    vb, va = variance(before) / len(before), variance(after) / len(after)
    se = math.sqrt(vb + va)
    if se == 0:
        return delta, delta, delta
    dof = (vb + va) ** 2 / (vb**2 / (len(before) - 1) + va**2 / (len(after) - 1))
    half = float(stdtrit(dof, (1 + CONFIDENCE) / 2)) * se
    return delta, delta - half, delta + half


# ---- the change ----------------------------------------------------------------------------


@dataclass
class Change:
    job: str
    changed_at: str
    source: str  # "definition" (a stored definition dates it) or "runs"
    fields: dict[str, list[Any]]
    config_before: dict[str, Any]
    config_after: dict[str, Any]
    before: Side
    after: Side
    basis: str = "run"  # "gb": compared per GB read
    runs_month: float | None = None
    realised_usd_month: float | None = None
    interval_usd_month: list[float] | None = None
    failures_usd_month: float | None = None
    status: str = "too_early"
    finding: dict[str, Any] | None = None
    predicted_usd_month: float | None = None
    whatif: dict[str, Any] | None = None

    def efficiency_ratio(self, per_gb: bool) -> float | None:
        """DPU-hours (per GB read, or per run) after the change over before it."""
        if per_gb:
            old, new = self.before.dpu_hours_per_gb(), self.after.dpu_hours_per_gb()
        else:
            old, new = self.before.dpu_hours_per_run(), self.after.dpu_hours_per_run()
        if not old or new is None or len(self.after.ok) < MIN_RUNS_AFTER:
            return None
        return new / old

    def as_dict(self) -> dict[str, Any]:
        account, region, _name = split_key(self.job)
        return {
            "job": label(self.job),
            "job_key": self.job,
            "account": account,
            "region": region,
            "changed_at": self.changed_at,
            "source": self.source,
            "fields": {k: [shown(v) for v in pair] for k, pair in self.fields.items()},
            "before": self.before.summary(),
            "after": self.after.summary(),
            "normalised_by": self.basis,
            "runs_month": _round(self.runs_month, 2),
            "realised_usd_month": self.realised_usd_month,
            "interval_usd_month": self.interval_usd_month,
            "failures_usd_month": self.failures_usd_month,
            "predicted_usd_month": self.predicted_usd_month,
            "finding": self.finding,
            "whatif": self.whatif,
            "status": self.status,
        }


def shown(value: Any) -> Any:
    """A value as outputs may print it: one that holds the redaction marker is the marker."""
    return REDACTED if isinstance(value, str) and REDACTED in value else value


@dataclass
class _Segment:
    config: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)


def _segments(runs: Sequence[dict[str, Any]], defs: list[Definition]) -> list[_Segment]:
    """Consecutive terminal runs of one configuration. A configuration used by fewer than
    MIN_RUNS_AFTER runs between two runs of the same one is a one-off override (a backfill
    with more workers): its runs are left out and it is no change."""
    out: list[_Segment] = []
    cache: dict[tuple, dict[str, Any]] = {}
    previous: dict[str, Any] | None = None
    for run in runs:
        if run["state"] not in TERMINAL_STATES:
            continue
        definition = definition_at(defs, run["started_on"])
        carried = tuple((previous or {}).get(name) for name in RUN_FIELDS)
        key = (id(definition), run["arguments"], carried, *(run[c] for c in RUN_FIELDS.values()))
        config = cache.get(key)
        if config is None:  # most runs repeat the one before: configured once
            config = cache[key] = run_config(run, definition, previous)
        if out and not diff(out[-1].config, config):
            out[-1].runs.append(run)
            out[-1].config = config
        else:
            out.append(_Segment(config, [run]))
        previous = config
        while (
            len(out) >= 3
            and len(out[-2].runs) < MIN_RUNS_AFTER
            and not diff(out[-3].config, out[-1].config)
        ):
            out[-3].runs.extend(out[-1].runs)
            out[-3].config = out[-1].config
            del out[-2:]
    return out


def find_changes(
    job: str, runs: Sequence[dict[str, Any]], definition_rows: Sequence[Mapping[str, Any]]
) -> list[Change]:
    """Every configuration change of a job (its runs oldest first; changes_data rows)."""
    defs = parse_definitions(definition_rows)
    segments = _segments(runs, defs)
    changes = []
    for old, new in itertools.pairwise(segments):
        last, first = old.runs[-1]["started_on"], new.runs[0]["started_on"]
        dated = [d.since for d in defs if last < d.since <= first]
        changes.append(
            Change(
                job,
                dated[-1] if dated else first,
                "definition" if dated else "runs",
                diff(old.config, new.config),
                old.config,
                new.config,
                Side(old.runs[-WINDOW_RUNS:]),
                Side(new.runs[:WINDOW_RUNS]),
            )
        )
    if segments and defs and defs[-1].since > segments[-1].runs[-1]["started_on"]:
        # a definition no run has used yet: what the next run would run with
        last_run = segments[-1].runs[-1]
        pending = {"arguments": last_run["arguments"], **dict.fromkeys(RUN_FIELDS.values())}
        config = run_config(pending, defs[-1], segments[-1].config)
        fields = diff(segments[-1].config, config)
        if fields:
            old = segments[-1]
            changes.append(
                Change(
                    job,
                    defs[-1].since,
                    "definition",
                    fields,
                    old.config,
                    config,
                    Side(old.runs[-WINDOW_RUNS:]),
                    Side([]),
                )
            )
    return changes


def runs_per_month(runs: Sequence[Mapping[str, Any]], as_of: str) -> float:
    """Runs in the MONTH_DAYS before `as_of`, scaled up when the job is younger than that."""
    end = parse_ts(as_of)
    start = iso(end - timedelta(days=MONTH_DAYS))
    recent = [r for r in runs if start <= r["started_on"] < as_of]
    if not runs:
        return 0.0
    age_days = (end - parse_ts(runs[0]["started_on"])).total_seconds() / 86400
    return len(recent) * MONTH_DAYS / min(MONTH_DAYS, max(age_days, 1.0))


def judge(change: Change, runs_month: float) -> Change:
    """Realised saving a month (positive saves) at `runs_month`, its interval and status.

    Per run: mean cost of succeeded runs before minus after, times the succeeded runs a month.
    Per GB (both sides' volume known): mean cost per GB read before minus after, times the GB a
    run reads now and the succeeded runs a month, so more data is not blamed on the change.
    Failed runs' cost per run (before minus after) times the runs a month is added on top
    (`failures_usd_month`), and shifts the interval with it."""
    b, a = change.before, change.after
    change.runs_month = runs_month
    if len(a.ok) < MIN_RUNS_AFTER:
        change.status = "too_early"
        return change
    if len(b.ok) < MIN_RUNS_BEFORE:
        change.status = "no_baseline"
        return change
    ok_month = runs_month * len(a.ok) / (len(a.ok) + len(a.failed))
    if b.volume_known() and a.volume_known():
        change.basis = "gb"
        delta, low, high = welch(b.usd_per_gb(), a.usd_per_gb())
        scale = ok_month * (a.gb_per_run() or 0.0)
    else:
        change.basis = "run"
        delta, low, high = welch(b.usd(), a.usd())
        scale = ok_month
    failures = (b.failed_usd_per_run() - a.failed_usd_per_run()) * runs_month
    change.failures_usd_month = round(failures, 2)
    change.realised_usd_month = round(delta * scale + failures, 2)
    change.interval_usd_month = [round(x * scale + failures, 2) for x in (low, high)]
    threshold = max(NEUTRAL_USD_MONTH, NEUTRAL_SHARE * fmean(b.usd()) * ok_month)
    realised, (low_usd, high_usd) = change.realised_usd_month, change.interval_usd_month
    if low_usd > 0 and realised >= threshold:
        change.status = "saving"
    elif high_usd < 0 and -realised >= threshold:
        change.status = "costing"
    else:
        change.status = "neutral"
    return change


def job_changes(
    job: str,
    runs: Sequence[dict[str, Any]],
    definition_rows: Sequence[Mapping[str, Any]],
    as_of: str,
) -> list[Change]:
    """Every change of one job, judged at its run rate in the month before `as_of`."""
    rate = runs_per_month(runs, as_of)
    return [judge(change, rate) for change in find_changes(job, runs, definition_rows)]


# ---- predictions: findings and the what-if -------------------------------------------------


def match_findings(
    changes: Sequence[Change], findings: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any] | None]:
    """For each change, the finding it carried out (every field of the finding's change equal
    to the value after it, one of them among the fields that changed), with the realised
    saving beside the predicted one; None where no finding asked for it. A field the finding
    removes (null) is not compared. Of several, the one naming most fields, then the newest."""
    out: list[dict[str, Any] | None] = []
    for change in changes:
        best: tuple[tuple, Mapping[str, Any]] | None = None
        for finding in findings:
            wanted = {k: v for k, v in (finding.get("change") or {}).items() if v is not None}
            if finding["job_name"] != change.job or not wanted.keys() & change.fields.keys():
                continue
            if all(same(change.config_after.get(k), v) for k, v in wanted.items()):
                rank = (len(wanted), finding.get("last_seen") or "", finding["id"])
                if best is None or rank > best[0]:
                    best = (rank, finding)
        out.append(None if best is None else _matched(change, best[1]))
    return out


def _matched(change: Change, finding: Mapping[str, Any]) -> dict[str, Any]:
    predicted = finding.get("savings_usd_month")
    interval = change.interval_usd_month
    return {
        "id": finding["id"],
        "rule_id": finding.get("rule_id"),
        "title": finding.get("title"),
        "status": finding.get("status"),
        "predicted_usd_month": predicted,
        "realised_usd_month": change.realised_usd_month,
        # whether what happened bears the prediction out (None: not yet judged, or no figure)
        "as_predicted": None
        if predicted is None or interval is None
        else interval[0] <= predicted <= interval[1],
    }


def _autoscaling(config: Mapping[str, Any]) -> bool:
    name = "--enable-auto-scaling"
    value = config.get(ARGUMENT_PREFIX + name)
    return value is not None and flag({name: str(value)}, name)


def _candidate(whatif: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any] | None:
    for candidate in whatif.get("candidates") or []:
        if (
            same(candidate.get("worker_type"), config.get("WorkerType"))
            and same(candidate.get("workers"), config.get("NumberOfWorkers"))
            and bool(candidate.get("autoscaling")) == _autoscaling(config)
        ):
            return candidate
    return None


def compare_whatif(change: Change, whatif: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the stored what-if (Store.stored_whatif) predicted for the configuration after the
    change against what its runs did; None when the what-if has no such candidate. It replays
    one event log, so its volume is that run's: compare per GB where the runs say."""
    new = _candidate(whatif or {}, change.config_after)
    if new is None:
        return None
    old = _candidate(whatif or {}, change.config_before)
    after = change.after.summary()
    out: dict[str, Any] = {
        "config": new.get("label"),
        "trusted": (whatif or {}).get("trusted"),
        "predicted_usd_per_run": new.get("usd"),
        "realised_usd_per_run": after["usd_per_run"],
        "predicted_runtime_s": new.get("runtime_s"),
        "realised_runtime_s": after["runtime_s"],
        "usd_error": _relative(after["usd_per_run"], new.get("usd")),
        "runtime_error": _relative(after["runtime_s"], new.get("runtime_s")),
        "predicted_usd_month": None,
        "realised_usd_month": change.realised_usd_month,
    }
    if old is not None and old.get("usd") is not None and new.get("usd") is not None:
        ok_month = (change.runs_month or 0.0) * (1 - (after["failure_rate"] or 0.0))
        out["predicted_usd_month"] = round((old["usd"] - new["usd"]) * ok_month, 2)
    return out


def _relative(real: float | None, predicted: float | None) -> float | None:
    return None if real is None or not predicted else round(real / predicted - 1, 4)


# ---- from the store ------------------------------------------------------------------------


def store_as_of(store: Store) -> str | None:
    """Just after the newest run in the store: every output's window ends there."""
    newest = store.latest_run_start()
    return iso(parse_ts(newest) + timedelta(seconds=1)) if newest else None


def changes_in_store(
    store: Store, jobs: Collection[str] | None = None, since: str | None = None
) -> list[Change]:
    """Every change of `jobs` (all when None) since `since`, judged, each with the finding
    that predicted it and the stored what-if's view, newest last."""
    as_of = store_as_of(store)
    if as_of is None:
        return []
    findings = changes_data.findings_with_change(store, jobs)
    out: list[Change] = []
    for job, runs in changes_data.job_histories(store, jobs):
        found = job_changes(job, runs, changes_data.definitions(store, job), as_of)
        found = [c for c in found if since is None or c.changed_at >= since]
        if not found:
            continue
        whatif = store.stored_whatif(job)
        for change, match in zip(found, match_findings(found, findings), strict=True):
            change.finding = match
            change.predicted_usd_month = match["predicted_usd_month"] if match else None
            change.whatif = compare_whatif(change, whatif)
        out.extend(found)
    return sorted(out, key=lambda c: (c.changed_at, c.job))
