"""The newest billed month beside what the advisor computed, for the overview and the job
pages: the reconciliation `advisor reconcile` prints by default, made by the same calls
(advisor/report/reconcile_cli.py), one per place the page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from advisor.analysis.bill import priced_up_to
from advisor.analysis.other_costs import costs_by_resource
from advisor.analysis.reconcile import ROUNDING_USD, reconcile
from advisor.identity import label, place_key, split_key
from advisor.report.labels import category_label, money
from advisor.report.reconcile_cli import _resource_label, _signed, period
from advisor.store import Store

WHERE_FROM = (
    "No AWS bill in the store: put billing exports (CUR 2.0 CSV, CSV.gz or Parquet) in "
    "DIR/billing/ and run `advisor import DIR` to see the bill beside the computed costs."
)
JOB_RUNS, UNKNOWN_JOBS = "job runs", "jobs not in the store"
ADJUSTMENT = "adjustment (not usage)"


@dataclass
class Bill:
    """The newest billed month, [since, until) in UTC days: one reconcile() result per place
    shown (one for all of them when the page is not filtered), and the places it bills."""

    since: str
    until: str
    results: list[dict[str, Any]]
    billed_places: set[str] = field(default_factory=set)

    @property
    def month(self) -> str:
        return self.since[:7]

    @property
    def last_day(self) -> str:
        return (date.fromisoformat(self.until) - timedelta(days=1)).isoformat()


def newest_month(store: Store, places: frozenset[str] | None = None) -> Bill | None:
    """The bill of the newest billed month of `places` (None: every place); None when the
    store holds no billing line."""
    _first, last = store.billing_days()
    if last is None:
        return None
    since, until = period(None, None, None, last)
    runs, lines = store.priced_runs_between(since, until), store.billing_lines_between(since, until)
    known = {job["name"] for job in store.jobs()}
    other = costs_by_resource(store.resource_usage(), since, until, priced_up_to(until, last))
    scopes = [(None, None)] if places is None else [tuple(p.split("/", 1)) for p in sorted(places)]
    results = [reconcile(runs, lines, known, since, until, scope, other) for scope in scopes]
    billed = {place_key(line["account"], line["region"]) for line in lines}
    return Bill(since, until, results, billed)


def categories(bill: Bill) -> list[dict[str, Any]]:
    """The bill split by category, computed beside billed: job runs, jobs the store does not
    know, each other Glue cost (crawler, interactive_session, ...), then each adjustment
    (credits, refunds, tax). `difference_usd` is billed minus computed; None where nothing
    was computed."""
    jobs = [j for r in bill.results for j in r["jobs"]]
    unknown = [u for r in bill.results for u in r["unknown_jobs"]]
    rows = []
    if jobs:
        differing = [j for j in jobs if _unexplained(j)]
        rows.append(
            _row(
                JOB_RUNS,
                sum(j["computed_usd"] for j in jobs),
                sum(j["billed_usd"] for j in jobs),
                _differing_jobs(differing, len(jobs)),
            )
        )
    if unknown:
        names = ", ".join(_resource_label(u["resource_id"]).split("/")[-1] for u in unknown)
        detail = f"deleted, or runs older than Glue keeps: {names}"
        rows.append(_row(UNKNOWN_JOBS, None, sum(u["billed_usd"] for u in unknown), detail))
    rows += _other_rows([o for r in bill.results for o in r["other"]])
    adjustments: dict[str, float] = {}
    for result in bill.results:
        for adjustment in result["adjustments"]:
            kind = adjustment["line_type"]
            adjustments[kind] = adjustments.get(kind, 0.0) + adjustment["usd"]
    rows += [_row(kind, None, usd, ADJUSTMENT) for kind, usd in adjustments.items()]
    return rows


def _row(category: str, computed: float | None, billed: float, detail: str) -> dict[str, Any]:
    return {
        "category": category,
        "label": category_label(category),
        "computed_usd": None if computed is None else round(computed, 2),
        "billed_usd": round(billed, 2),
        "difference_usd": None if computed is None else round(billed - computed, 2),
        "detail": detail,
    }


def _differing_jobs(differing: list[dict[str, Any]], total: int) -> str:
    if not differing:
        return f"all {total:,} jobs agree to the cent per day"
    shown = sorted(differing, key=lambda j: -abs(_unexplained(j) or 0))
    names = ", ".join(f"{label(j['job'])} {_signed(_unexplained(j) or 0)}" for j in shown[:3])
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return f"{len(shown):,} of {total:,} jobs differ on some day: {names}{more}"


def _other_rows(other: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per other category (reconcile sorts them by category)."""
    by_category: dict[str, list[dict[str, Any]]] = {}
    for line in other:
        by_category.setdefault(line["category"], []).append(line)
    rows = []
    for category, lines in by_category.items():
        computed = [line["computed_usd"] for line in lines if line.get("computed_usd") is not None]
        differing = [
            f"{_resource_label(line['resource_id']).split('/')[-1]} "
            f"{_signed(line['difference_usd'])}"
            for line in lines
            if line.get("difference_usd") is not None and abs(line["difference_usd"]) > ROUNDING_USD
        ]
        if not computed:
            detail = "not collected: the advisor computes no cost for it"
        elif differing:
            detail = "differs: " + ", ".join(differing)
        else:
            detail = f"{len(lines):,} resource(s), agree to the cent"
        rows.append(
            _row(
                category,
                sum(computed) if computed else None,
                sum(line["billed_usd"] for line in lines),
                detail,
            )
        )
    return rows


def headline(bill: Bill, rows: list[dict[str, Any]]) -> str:
    """What the month's bill says in one sentence, as the CLI's totals do."""
    usage = [r for r in rows if r["detail"] != ADJUSTMENT]
    billed = sum(r["billed_usd"] for r in usage)
    adjustments = sum(r["billed_usd"] for r in rows if r["detail"] == ADJUSTMENT)
    computed = sum(r["computed_usd"] or 0.0 for r in usage)
    unexplained = sum(r["totals"]["unexplained_usd"] for r in bill.results)
    return (
        f"From {bill.since} to {bill.last_day} (UTC days) AWS billed {money(billed)} of Glue "
        f"usage and {_signed(adjustments)} of adjustments; the advisor computed "
        f"{money(computed)} from what it collected. Unexplained by the job runs: "
        f"{_signed(unexplained)} (positive: billed more than computed)."
    )


def _unexplained(job: dict[str, Any]) -> float | None:
    """A job's billed minus computed dollars on the days they differ by more than a cent
    (the rest is rounding); None when they agree every day."""
    days = job["days_differing"]
    return round(sum(d["difference_usd"] for d in days), 2) if days else None


def job_differences(bill: Bill | None) -> dict[str, float]:
    """Each job the bill covers (it ran or was billed in the month, in a place the bill
    covers): billed minus computed on the days they differ, 0.0 when they agree."""
    if bill is None:
        return {}
    out = {}
    for result in bill.results:
        for job in result["jobs"]:
            account, region, _name = split_key(job["job"])
            if place_key(account, region) in bill.billed_places:
                out[job["job"]] = _unexplained(job) or 0.0
    return out


def job_line(bill: Bill | None, job: str) -> tuple[str, bool] | None:
    """What the job's page says of its bill, and whether the job is flagged (billed and
    computed differ by more than a cent on some day); None when no bill covers it."""
    if bill is None or job not in job_differences(bill):
        return None
    found = next(j for r in bill.results for j in r["jobs"] if j["job"] == job)
    days = found["days_differing"]
    if not days:
        return (
            f"The {bill.month} bill agrees with the computed cost to the cent every day "
            f"({money(found['billed_usd'])} billed).",
            False,
        )
    each = "; ".join(
        f"on {d['day']} AWS billed {money(d['billed_usd'])} against "
        f"{money(d['computed_usd'])} computed ({_signed(d['difference_usd'])})"
        for d in days
    )
    return (
        f"Billed vs computed, {bill.month}: {each}. Billed more: runs the store does not hold "
        "or a wrong rate; computed more: runs billed in another period, or a discount.",
        True,
    )
