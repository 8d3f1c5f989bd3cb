"""`advisor resources`: the Glue costs beside job runs (crawlers, interactive sessions,
development endpoints), what each cost in the last 30 days, and the findings on them."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from advisor.analysis.resource_features import HOURS_A_MONTH, resource_features
from advisor.analysis.resource_findings import observed_until
from advisor.cli_options import db_option, format_option, place_options
from advisor.report.labels import money

KIND_LABEL = {
    "crawler": "crawler",
    "interactive_session": "interactive session",
    "dev_endpoint": "development endpoint",
}


def resources_report(
    store: Any, account: str | None = None, region: str | None = None
) -> dict[str, Any]:
    """What `--format json` prints: `as_of`, `resources` (each kind, name, account, region,
    state, cost_usd_30d) and `findings`."""
    resources, usage = store.glue_resources(), store.resource_usage()
    now = observed_until(resources, usage, store.latest_run_start())
    features = resource_features(resources, usage, now)

    def here(row: dict[str, Any]) -> bool:
        return account in (None, row["account"]) and region in (None, row["region"])

    listed = []
    for (kind, acct, place, name), values in sorted(features.items()):
        if not here({"account": acct, "region": place}):
            continue
        cost = values.get("cost_usd_month")
        if kind == "dev_endpoint" and values.get("running") and values["running_usd_month"]:
            # the days of the last 30 it was provisioned (all 30 when its creation is unknown)
            days = values.get("provisioned_days")
            days = 30.0 if days is None else min(days, 30.0)
            cost = values["running_usd_month"] * days * 24 / HOURS_A_MONTH
        listed.append(
            {
                "kind": kind,
                "name": name,
                "account": acct,
                "region": place,
                "state": values.get("state"),
                "cost_usd_30d": cost,
            }
        )
    findings = [
        {k: f[k] for k in ("kind", "name", "account", "region", "rule_id", "severity", "title",
                           "message", "advice", "remediation", "savings_usd_month")}
        for f in store.resource_findings()
        if here(f)
    ]  # fmt: skip
    return {"as_of": now.isoformat(), "resources": listed, "findings": findings}


@click.command("resources")
@db_option
@place_options
@format_option("text", "json")
def resources_cmd(db, account, region, fmt):
    """Crawlers, interactive sessions and development endpoints: what each cost in the last
    30 days (to the newest observation of them) and what to change.

    Collected by `advisor collect` (or imported from crawlers.json, crawls/, sessions.json and
    dev-endpoints.json), priced with each one's billing rules, judged by the rules in
    rules/resources/ at `advisor analyze`.
    """
    from advisor import cli as base

    store = base.open_store(db)
    report = resources_report(store, account, region)
    if fmt == "json":
        base.emit_json(report)
        return
    out = base.out
    if not report["resources"]:
        out.print(
            "No crawlers, interactive sessions or development endpoints in the store: "
            "`advisor collect` reads them (unless --no-other-costs)."
        )
        return
    table = Table("kind", "name", "state", "last 30 days", title=f"As of {report['as_of'][:16]}")
    for row in report["resources"]:
        table.add_row(
            KIND_LABEL.get(row["kind"], row["kind"]),
            escape(row["name"]),
            escape(row["state"] or "—"),
            "unpriced" if row["cost_usd_30d"] is None else money(row["cost_usd_30d"]),
        )
    out.print(table)
    for index, finding in enumerate(report["findings"], start=1):
        saving = finding["savings_usd_month"]
        out.print(
            f"\n{index}. [{finding['severity']}] {finding['title']}"
            + (f" (saves about {money(saving)} a month)" if saving else ""),
            soft_wrap=True,
            markup=False,
        )
        out.print(escape(finding["message"]), soft_wrap=True)
        for advice in finding["advice"]:
            out.print(f" • {escape(advice)}", soft_wrap=True)
        if finding["remediation"].get("cli"):
            # printed as is (markup off): a command must be copied exactly, never \-escaped
            out.print(finding["remediation"]["cli"], soft_wrap=True, markup=False)
