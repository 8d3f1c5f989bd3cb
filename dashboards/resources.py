"""The Glue costs beside job runs (crawlers, interactive sessions, development endpoints) as
the overview lists them: what `advisor resources` shows (resources_cli.resources_report), one
row per resource with its findings."""

from __future__ import annotations

from typing import Any

from advisor.identity import place_key
from advisor.report.resources_cli import KIND_LABEL, resources_report
from advisor.store import Store
from dashboards.data import SEVERITY_RANK

NONE_COLLECTED = (
    "No crawlers, interactive sessions or development endpoints in the store: "
    "`advisor collect` reads them (unless --no-other-costs)."
)


def resource_rows(
    store: Store, places: frozenset[str] | None = None
) -> tuple[str | None, list[dict[str, Any]]]:
    """(as of when, one row per resource of `places`): its kind, name, place, state, cost over
    the last 30 days (None: unpriced), its findings most severe first ("severity: title", as
    the jobs grid's worst finding), the largest saving a month among them (fixes of one
    resource overlap: never their sum) and the worst one's fix."""
    report = resources_report(store)
    findings: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        where = (finding["kind"], finding["account"], finding["region"], finding["name"])
        findings.setdefault(where, []).append(finding)
    rows = []
    for resource in report["resources"]:
        if places is not None and place_key(resource["account"], resource["region"]) not in places:
            continue
        where = (resource["kind"], resource["account"], resource["region"], resource["name"])
        own = sorted(findings.get(where, []), key=lambda f: -SEVERITY_RANK.get(f["severity"], -1))
        savings = [f["savings_usd_month"] for f in own if f["savings_usd_month"]]
        rows.append(
            {
                "id": "/".join(where),
                "kind": KIND_LABEL.get(resource["kind"], resource["kind"]),
                "name": resource["name"],
                "account": resource["account"],
                "region": resource["region"],
                "state": resource["state"] or "—",
                "cost_30d": None
                if resource["cost_usd_30d"] is None
                else round(resource["cost_usd_30d"], 2),
                "findings": "; ".join(f"{f['severity']}: {f['title']}" for f in own),
                "saving_month": round(max(savings), 2) if savings else None,
                "fix": _fix(own[0]) if own else "",
            }
        )
    return (report["as_of"] if report["resources"] else None), rows


def _fix(finding: dict[str, Any]) -> str:
    """The command that fixes it, else its first advice."""
    command = (finding.get("remediation") or {}).get("cli")
    return command or next(iter(finding.get("advice") or []), "")
