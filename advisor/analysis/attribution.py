"""Why a job's (or the fleet's) cost moved from one week to the next, in causes that add up to
the change exactly.

Method. A week's cost is C = S + F: S what its succeeded runs cost, F what its failed, timed-out
and stopped runs cost; F's move is the `failures` cause as it stands. S factors exactly as

    S = n x g x e x r

n the succeeded runs (`schedule`), g the GB a run reads (`input_volume`: the mean of the runs
whose bytes read are known), e the DPU-hours per GB (DPU-hours per run / g) and r the dollars
per DPU-hour (S / DPU-hours: the region's price, Flex or standard, the worker type's price
line: `rate`). When either week's volume is unknown, g is left out and e is DPU-hours per run.

e is split once more. A configuration change E that took effect during the two weeks moves e
by its own measured ratio q_E (DPU-hours per GB after / before, from the windows of comparable
runs that changes.py judges it on), for the share a_w of each week made after it (of its GB
read when e is per GB, else of its runs): k_E = (1 + (q_E - 1) a_this) / (1 + (q_E - 1)
a_previous), the move of a week's mix when that share of it runs q_E times as long
(`configuration`, naming its fields). What remains of e's move, e_this / (e_previous x prod
k_E), is the runtime at the same volume and configuration (`runtime`: a regression, or an
improvement). A change too recent to be measured takes all of e's move.

The move of S is shared among the factors by their Shapley values: each factor's part is its
marginal effect averaged over every order in which the factors could go from last week's value
to this week's, so the parts add up to the move whatever the order, and a factor that did not
move gets nothing. A factor a week cannot define (no succeeded run) takes the other week's
value, so a job that starts or stops running is all `schedule`. Parts are rounded to cents by
the largest remainder, so they add up to the rounded change to the cent. The fleet's parts are
the sums of its jobs' parts.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import fmean
from typing import Any

from advisor.analysis import changes_data
from advisor.analysis.changes import GB, Change, find_changes, shown
from advisor.identity import label, split_key
from advisor.store import Store
from advisor.timeutil import iso

CAUSES = ("schedule", "input_volume", "configuration", "runtime", "rate", "failures")
MAX_CHANGE_FACTORS = 4  # more changes in two weeks share the last factor


@dataclass
class Part:
    cause: str
    usd: float
    detail: str
    fields: dict[str, list[Any]] | None = None


@dataclass
class WeekRuns:
    """One week of a job's runs, reduced to the factors of its cost."""

    runs: list[dict[str, Any]]

    def __post_init__(self) -> None:
        priced = [r for r in self.runs if r["cost_usd"] is not None]
        self.ok = [r for r in priced if r["state"] == "SUCCEEDED"]
        self.other = [r for r in priced if r["state"] != "SUCCEEDED"]
        self.unpriced = len(self.runs) - len(priced)
        self.succeeded_usd = sum(r["cost_usd"] for r in self.ok)
        self.failed_usd = sum(r["cost_usd"] for r in self.other)
        self.dpu_hours = sum(r["dpu_hours"] or 0.0 for r in self.ok)
        read = [r["bytes_read"] / GB for r in self.ok if r.get("bytes_read")]
        self.gb = fmean(read) if read and 2 * len(read) >= len(self.ok) else None

    @property
    def n(self) -> int:
        return len(self.ok)

    @property
    def usd(self) -> float:
        return self.succeeded_usd + self.failed_usd

    def efficiency(self, per_gb: bool) -> float:
        per_run = self.dpu_hours / self.n if self.n else 0.0
        return per_run / self.gb if per_gb and self.gb else per_run

    def rate(self) -> float | None:
        return self.succeeded_usd / self.dpu_hours if self.dpu_hours else None


def week_bounds(monday: date) -> tuple[str, str, str]:
    """(previous week's start, this week's start, its end) as store text (UTC)."""
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return iso(start - timedelta(days=7)), iso(start), iso(start + timedelta(days=7))


def shapley(old: Sequence[float], new: Sequence[float]) -> list[float]:
    """Each factor's Shapley share of prod(new) - prod(old); the shares add up to it."""
    k = len(old)
    value = [
        math.prod(new[i] if mask >> i & 1 else old[i] for i in range(k)) for mask in range(1 << k)
    ]
    weight = [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
    parts = [0.0] * k
    for i in range(k):
        for mask in range(1 << k):
            if not mask >> i & 1:
                parts[i] += weight[mask.bit_count()] * (value[mask | 1 << i] - value[mask])
    return parts


def _share_after(week: WeekRuns, at: str, per_gb: bool) -> float:
    """The share of a week's runs made after `at`: of its GB read when e is per GB (a week's
    DPU-hours per GB is a mix weighted by GB), else of its runs."""
    if per_gb:
        read = [(r["started_on"] >= at, r["bytes_read"]) for r in week.ok if r.get("bytes_read")]
        total = sum(b for _after, b in read)
        return sum(b for after, b in read if after) / total if total else 0.0
    return sum(r["started_on"] >= at for r in week.ok) / week.n if week.n else 0.0


def _config_factors(
    changes: Sequence[Change], prev: WeekRuns, this: WeekRuns, per_gb: bool
) -> list[tuple[Change, float]]:
    """(change, k_E) of the changes between the weeks that moved e; k_E None: not measured."""
    out: list[tuple[Change, float | None]] = []
    for change in changes:
        share_prev, share_this = (_share_after(w, change.changed_at, per_gb) for w in (prev, this))
        if share_this != share_prev:
            q = change.efficiency_ratio(per_gb)
            k = None if not q else (1 + (q - 1) * share_this) / (1 + (q - 1) * share_prev)
            out.append((change, k))
    if len(out) > MAX_CHANGE_FACTORS:
        kept, rest = out[: MAX_CHANGE_FACTORS - 1], out[MAX_CHANGE_FACTORS - 1 :]
        merged = math.prod(k for _c, k in rest) if all(k for _c, k in rest) else None
        out = [*kept, (rest[-1][0], merged)]
    moved = this.efficiency(per_gb) / prev.efficiency(per_gb)
    known = math.prod(k for _c, k in out if k is not None)
    unmeasured = [i for i, (_c, k) in enumerate(out) if k is None]
    for i in unmeasured:  # too recent to measure: the first takes what the others leave
        out[i] = (out[i][0], moved / known if i == unmeasured[0] else 1.0)
    return [(c, k) for c, k in out if k is not None]


def explain_job(
    job: str, runs: Sequence[dict[str, Any]], changes: Sequence[Change], monday: date
) -> dict[str, Any]:
    """A job's cost in the week starting `monday` against the week before, with its causes
    (unrounded `Part`s; rounded() makes them cents)."""
    start, middle, end = week_bounds(monday)
    prev = WeekRuns([r for r in runs if start <= r["started_on"] < middle])
    this = WeekRuns([r for r in runs if middle <= r["started_on"] < end])
    per_gb = bool(prev.n and this.n and prev.gb and this.gb)
    factors = _factors(job, changes, prev, this, per_gb)
    shares = shapley([f[1] for f in factors], [f[2] for f in factors])
    parts = [
        Part(cause, share, detail, fields)
        for (cause, _o, _n, detail, fields), share in zip(factors, shares, strict=True)
    ]
    parts.append(Part("failures", this.failed_usd - prev.failed_usd, _failures_text(prev, this)))
    return {
        "job": job,
        "previous_usd": prev.usd,
        "this_usd": this.usd,
        "unpriced_runs": prev.unpriced + this.unpriced,
        "parts": parts,
    }


def _factors(
    job: str, changes: Sequence[Change], prev: WeekRuns, this: WeekRuns, per_gb: bool
) -> list[tuple[str, float, float, str, dict | None]]:
    """(cause, last week's value, this week's, detail, fields): their products are the two
    weeks' succeeded cost."""
    rates = [prev.rate(), this.rate()]
    r0, r1 = (rates[0] or rates[1] or 0.0), (rates[1] or rates[0] or 0.0)
    e0, e1 = prev.efficiency(per_gb), this.efficiency(per_gb)
    g0, g1 = (prev.gb or 0.0), (this.gb or 0.0)
    if not prev.n:  # nothing to compare with: only the number of runs moved
        e0, g0, r0 = e1, g1, r1
    if not this.n:
        e1, g1, r1 = e0, g0, r0
    unit = "GB" if per_gb else "run"
    out: list[tuple[str, float, float, str, dict | None]] = [
        ("schedule", prev.n, this.n, f"{this.n:,} succeeded runs, {prev.n:,} the week before", None)
    ]
    if per_gb:
        text = f"{g1:,.2f} GB read per run, {g0:,.2f} GB the week before"
        out.append(("input_volume", g0, g1, text, None))
    configured = 1.0
    if prev.n and this.n and e0 and e1:
        for change, k in _config_factors(changes, prev, this, per_gb):
            configured *= k
            text = _config_text(change, change.efficiency_ratio(per_gb), k, unit)
            out.append(("configuration", 1.0, k, text, change.fields))
    rest = e1 / configured
    text = (
        f"DPU-hours per {unit} at the same configuration x{rest / e0:.2f}"
        if e0
        else f"DPU-hours per {unit}: {e1:,.3f}, none the week before"
    )
    if not per_gb:
        text += " (input volume unknown: growth in the data counts here)"
    out.append(("runtime", e0, rest, text, None))
    rate_text = f"${r1:,.4f} a DPU-hour, ${r0:,.4f} the week before"
    out.append(("rate", r0, r1, rate_text + _classes_text(prev, this), None))
    return out


def _config_text(change: Change, q: float | None, k: float, unit: str) -> str:
    fields = ", ".join(f"{n} {shown(a)} -> {shown(b)}" for n, (a, b) in change.fields.items())
    measured = "not measured yet" if not q else f"x{q:.2f} measured on its runs"
    return (
        f"{fields} on {change.changed_at[:10]}: DPU-hours per {unit} {measured}, "
        f"x{k:.2f} between the weeks"
    )


def _classes_text(prev: WeekRuns, this: WeekRuns) -> str:
    def mix(week: WeekRuns) -> str:
        kinds = sorted(
            {f"{r['worker_type'] or '-'} {r['execution_class'] or 'STANDARD'}" for r in week.ok}
        )
        return ", ".join(kinds) or "none"

    before, now = mix(prev), mix(this)
    return "" if before == now else f" ({before} -> {now})"


def _failures_text(prev: WeekRuns, this: WeekRuns) -> str:
    return (
        f"{len(this.other):,} failed, timed-out or stopped runs (${this.failed_usd:,.2f}), "
        f"{len(prev.other):,} the week before (${prev.failed_usd:,.2f})"
    )


# ---- cents -----------------------------------------------------------------------------------


def to_cents(values: Sequence[float], total: float) -> list[int]:
    """`values` in whole cents that add up to round(total) cents: each rounded down, then the
    cents missing given to the largest remainders (taken from the smallest when over)."""
    scaled = [v * 100 for v in values]
    cents = [math.floor(v) for v in scaled]
    missing = round(total * 100) - sum(cents)
    order = sorted(range(len(values)), key=lambda i: scaled[i] - cents[i], reverse=True)
    step = 1 if missing > 0 else -1
    for turn in range(abs(missing)):
        cents[order[turn % len(order)] if step > 0 else order[-1 - turn % len(order)]] += step
    return cents


def rounded(parts: Sequence[Part], total: float) -> list[dict[str, Any]]:
    """Parts as output rows, in cents that add up to the rounded total, largest move first."""
    cents = to_cents([p.usd for p in parts], total)
    rows = []
    for part, cent in zip(parts, cents, strict=True):
        row: dict[str, Any] = {"cause": part.cause, "usd": cent / 100, "detail": part.detail}
        if part.fields is not None:
            row["fields"] = {k: [shown(v) for v in pair] for k, pair in part.fields.items()}
        rows.append(row)
    return sorted(rows, key=lambda r: (-abs(r["usd"]), CAUSES.index(r["cause"])))


# ---- jobs and fleet from the store -----------------------------------------------------------


def explain_in_store(
    store: Store, monday: date, jobs: Collection[str] | None = None, fleet: bool = False
) -> dict[str, Any]:
    """The week's cost move of one job (`jobs` holding it), or of the fleet (`fleet`: every job
    of `jobs`, all when None), with its causes in cents."""
    start, _middle, end = week_bounds(monday)
    results = []
    for job, runs in changes_data.job_histories(store, jobs):
        if any(start <= r["started_on"] < end for r in runs):
            changes = find_changes(job, runs, changes_data.definitions(store, job))
            results.append(explain_job(job, runs, changes, monday))
    week = _week_label(monday)
    if not fleet:
        job = next(iter(jobs or []), None)
        found = results[0] if results else _empty(job or "", monday)
        return _output(found["job"], week, found, found["parts"])
    parts = _fleet_parts(results)
    totals = {
        "previous_usd": sum(r["previous_usd"] for r in results),
        "this_usd": sum(r["this_usd"] for r in results),
        "unpriced_runs": sum(r["unpriced_runs"] for r in results),
    }
    out = _output(None, week, totals, parts)
    moves = sorted(results, key=lambda r: -abs(r["this_usd"] - r["previous_usd"]))
    out["jobs"] = [
        {
            "job": label(r["job"]),
            "job_key": r["job"],
            "change_usd": round(r["this_usd"] - r["previous_usd"], 2),
        }
        for r in moves[:10]
    ]
    return out


def _empty(job: str, monday: date) -> dict[str, Any]:
    return explain_job(job, [], [], monday)


def _week_label(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _output(
    job: str | None, week: str, totals: dict[str, Any], parts: Sequence[Part]
) -> dict[str, Any]:
    change = totals["this_usd"] - totals["previous_usd"]
    account, region, _name = split_key(job) if job else (None, None, None)
    return {
        "job": label(job) if job else "fleet",
        "job_key": job,
        "account": account,
        "region": region,
        "week": week,
        "previous_usd": round(totals["previous_usd"], 2),
        "this_usd": round(totals["this_usd"], 2),
        "change_usd": round(change, 2),
        "unpriced_runs": totals["unpriced_runs"],
        "causes": rounded(parts, change),
    }


def _fleet_parts(results: Sequence[dict[str, Any]]) -> list[Part]:
    """Each cause summed over the jobs, its detail naming the jobs that moved it most."""
    by_cause: dict[str, list[tuple[float, str]]] = {cause: [] for cause in CAUSES}
    for result in results:
        for part in result["parts"]:
            by_cause[part.cause].append((part.usd, result["job"]))
    parts = []
    for cause, moves in by_cause.items():
        top = sorted(moves, key=lambda m: -abs(m[0]))[:3]
        detail = ", ".join(f"{label(job)} {usd:+,.2f}" for usd, job in top if round(usd, 2))
        parts.append(Part(cause, sum(usd for usd, _job in moves), detail or "no job moved it"))
    return parts
