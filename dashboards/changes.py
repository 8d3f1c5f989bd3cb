"""Configuration changes as the pages show them: a job's marks and list, and the savings
ledger (every change in the store). Each page asks changes_in_store once, for the jobs it
shows; the words are those of `advisor changes` (advisor/report/changes_cli.py)."""

from __future__ import annotations

from typing import Any

from advisor.analysis.changes import changes_in_store
from advisor.identity import place_key
from advisor.report.changes_cli import _fields, _signed
from advisor.store import Store

BASIS = {"gb": "per GB read", "run": "per run"}
# what a mark on a job's charts says when the change is not judged yet
UNJUDGED = {"too_early": "too early", "no_baseline": "no baseline"}


def store_changes(store: Store, jobs: list[str] | None = None) -> list[dict[str, Any]]:
    """Every change of `jobs` (all when None) in the whole history, oldest first, as
    `advisor changes --format json` gives them."""
    return [change.as_dict() for change in changes_in_store(store, jobs)]


def status_text(change: dict[str, Any]) -> str:
    return change["status"].replace("_", " ")


def effect(change: dict[str, Any]) -> str:
    """A change's realised effect a month, short: "-$92.38/mo, costing", or "too early"."""
    if change["status"] in UNJUDGED or change["realised_usd_month"] is None:
        return UNJUDGED.get(change["status"], status_text(change))
    return f"{_signed(change['realised_usd_month'])}/mo, {status_text(change)}"


def when(change: dict[str, Any]) -> str:
    """When it was made, to the minute (UTC), as the CLI prints it."""
    return change["changed_at"][:16].replace("T", " ")


def interval(change: dict[str, Any]) -> str:
    low_high = change["interval_usd_month"]
    return "" if not low_high else f"{_signed(low_high[0])} to {_signed(low_high[1])}"


def predicted(change: dict[str, Any]) -> tuple[float | None, str]:
    """What was predicted a month for it, and by what: the finding it carried out, else the
    stored what-if's candidate; (None, "") when nothing predicted it."""
    finding = change.get("finding")
    if finding is not None:
        verdict = {True: ", borne out", False: ", not borne out"}.get(finding["as_predicted"], "")
        by = f"{finding['rule_id'] or 'a finding'}: {finding['title'] or ''} ({finding['status']}"
        return finding["predicted_usd_month"], f"{by}{verdict})"
    whatif = change.get("whatif") or {}
    if whatif.get("predicted_usd_month") is not None:
        return whatif["predicted_usd_month"], f"the what-if ({whatif['config']})"
    return None, ""


def job_line(change: dict[str, Any]) -> str:
    """One change on its job's page: when, what, and what it did against the prediction."""
    text = f"{when(change)} UTC: {_fields(change['fields'])}. {status_text(change).capitalize()}"
    if change["realised_usd_month"] is not None:
        text += (
            f", {_signed(change['realised_usd_month'])} a month (90%: {interval(change)}; "
            f"compared {BASIS[change['normalised_by']]})"
        )
    usd, by = predicted(change)
    return text + (f"; predicted {_signed(usd)} a month by {by}." if by else ".")


def ledger_rows(
    changes: list[dict[str, Any]], places: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """The savings ledger: one row per change of the jobs in `places`, newest first."""
    rows = []
    for change in reversed(changes):
        if places is not None and place_key(change["account"], change["region"]) not in places:
            continue
        usd, by = predicted(change)
        low_high = change["interval_usd_month"] or [None, None]
        rows.append(
            {
                "id": f"{change['job_key']}@{change['changed_at']}",
                "job": change["job"],
                "job_key": change["job_key"],
                "account": change["account"],
                "region": change["region"],
                "changed_at": when(change),
                "fields": _fields(change["fields"]),
                "status": status_text(change),
                "realised_usd_month": change["realised_usd_month"],
                "interval": interval(change),
                "realised_low_usd_month": low_high[0],
                "realised_high_usd_month": low_high[1],
                "predicted_usd_month": usd,
                "predicted_by": by,
                "basis": ""
                if change["realised_usd_month"] is None
                else BASIS[change["normalised_by"]],
            }
        )
    return rows


def ledger_headline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The realised savings a month (the `saving` rows) and what changes cost (`costing`),
    with how many changes each, and how many are not judged yet."""

    def of(status: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["status"] == status]

    saving, costing = of("saving"), of("costing")
    return {
        "saving_usd_month": sum(r["realised_usd_month"] for r in saving),
        "saving_changes": len(saving),
        "costing_usd_month": sum(r["realised_usd_month"] for r in costing),
        "costing_changes": len(costing),
        "unjudged": sum(r["status"] in ("too early", "no baseline") for r in rows),
        "changes": len(rows),
    }
