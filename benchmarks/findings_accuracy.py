"""Precision and recall of the advisor's findings, by problem, against a labelled fleet.

    python benchmarks/findings_accuracy.py [--fleet DIR | --seed N --jobs N --days N]
                                           [--sample] [--format text|json] [--keep DIR]

Without --fleet, generates the evaluation fleet (benchmarks/eval_fleet.py) into a temp folder.
Each fleet is imported and analysed into its own store (`advisor import`, `advisor analyze`), and
the open findings are compared with the labels (LABELS.yaml, or MANIFEST.yaml for --sample): a
finding counts for its `problem` column, once per (job, problem) however many rules fired. The
table gives, per problem, planted, found, true positives, precision and recall, then the micro
totals, then every false positive and false negative with the rule, its severity, and for a
miss what each rule of that problem said about the job (not evaluated: no cloudwatch, ...).
Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from advisor.analysis.runstats import SEVERITIES
from advisor.identity import split_key

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import eval_fleet  # noqa: E402

Pair = tuple[str, str]  # (job, problem)


def advisor(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "advisor", "-q", *args],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def code_version() -> str:
    """The commit the advisor ran from, and how many files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "advisor", "rules"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'} + {len(dirty)} changed file(s) under advisor/ and rules/"


def rule_problems() -> dict[str, str]:
    return {
        path.stem: yaml.safe_load(path.read_text())["problem"]
        for path in sorted((ROOT / "rules").glob("*.yaml"))
    }


def load_labels(fleet: Path) -> tuple[set[Pair], dict[str, dict[str, Any]], set[str]]:
    """(planted pairs, per-job info, every job name) from LABELS.yaml or MANIFEST.yaml."""
    path = fleet / "LABELS.yaml"
    if not path.exists():
        path = fleet / "MANIFEST.yaml"
    doc = yaml.safe_load(path.read_text())
    planted = {(p["job"], p["problem"]) for p in doc["problems"]}
    return planted, doc["jobs"], set(doc["jobs"])


def evaluate(fleet: Path, db: Path, min_severity: str = "info") -> dict[str, Any]:
    """Import and analyse `fleet` into `db`, and score the open findings against its labels."""
    db.unlink(missing_ok=True)
    began = time.perf_counter()
    advisor("import", str(fleet), "--db", str(db))
    imported = time.perf_counter()
    advisor("analyze", "--db", str(db))
    analysed = time.perf_counter()
    planted, jobs, names = load_labels(fleet)
    problems_of_rule = rule_problems()
    with sqlite3.connect(db) as con:
        con.row_factory = sqlite3.Row
        # the labels name jobs by their Glue name; the store by account/region/name (a labelled
        # fleet is imported into one account and region)
        findings = [
            {**dict(r), "job_name": split_key(r["job_name"])[2]}
            for r in con.execute(
                "SELECT job_name, rule_id, problem, severity FROM findings WHERE status = 'open'"
            )
            if SEVERITIES.index(r["severity"]) >= SEVERITIES.index(min_severity)
        ]
        statuses = {
            (split_key(r["job_name"])[2], r["rule_id"]): (r["status"], r["detail"])
            for r in con.execute("SELECT job_name, rule_id, status, detail FROM rule_status")
        }
    by_pair: dict[Pair, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        by_pair[(f["job_name"], f["problem"])].append(f)
    found = set(by_pair)
    problems = sorted({p for _, p in planted | found})
    rows = []
    for problem in problems:
        p_set = {x for x in planted if x[1] == problem}
        f_set = {x for x in found if x[1] == problem}
        tp = len(p_set & f_set)
        rows.append(
            {
                "problem": problem,
                "planted": len(p_set),
                "found": len(f_set),
                "tp": tp,
                "precision": tp / len(f_set) if f_set else None,
                "recall": tp / len(p_set) if p_set else None,
            }
        )
    tp = len(planted & found)

    def rules_said(job: str, problem: str) -> str:
        said = []
        for rule, rule_problem in problems_of_rule.items():
            if rule_problem == problem:
                status, detail = statuses.get((job, rule), ("no status", ""))
                said.append(
                    f"{rule}: {'did not fire' if status == 'evaluated' else status}"
                    + (f" ({detail})" if detail else "")
                )
        return "; ".join(said)

    false_positives = [
        {
            "job": job,
            "problem": problem,
            "rule": f["rule_id"],
            "severity": f["severity"],
            "kind": (jobs.get(job) or {}).get("kind"),
            "labels": (jobs.get(job) or {}).get("problems", []),
        }
        for (job, problem) in sorted(found - planted)
        for f in by_pair[(job, problem)]
    ]
    false_negatives = [
        {
            "job": job,
            "problem": problem,
            "kind": (jobs.get(job) or {}).get("kind"),
            "notes": (jobs.get(job) or {}).get("notes") or (jobs.get(job) or {}).get("description"),
            "rules": rules_said(job, problem),
        }
        for (job, problem) in sorted(planted - found)
    ]
    return {
        "fleet": str(fleet),
        "code": code_version(),
        "jobs": len(names),
        "jobs_with_labels": len({j for j, _ in planted}),
        "open_findings": len(findings),
        "seconds": {"import": imported - began, "analyze": analysed - imported},
        "problems": rows,
        "micro": {
            "planted": len(planted),
            "found": len(found),
            "tp": tp,
            "precision": tp / len(found) if found else None,
            "recall": tp / len(planted) if planted else None,
        },
        "false_positives": false_positives,
        "false_negatives": false_negatives,
    }


def _pct(value: float | None) -> str:
    return "   -" if value is None else f"{value:4.0%}"


def render(title: str, result: dict[str, Any]) -> str:
    lines = [
        f"== {title}: {result['fleet']}",
        f"code: {result['code']}",
        f"{result['jobs']} jobs ({result['jobs_with_labels']} with planted problems), "
        f"{result['open_findings']} open findings; import {result['seconds']['import']:.1f} s, "
        f"analyze {result['seconds']['analyze']:.1f} s",
        "",
        f"{'problem':<24}{'planted':>8}{'found':>7}{'TP':>5}{'precision':>11}{'recall':>8}",
    ]
    for row in result["problems"]:
        lines.append(
            f"{row['problem']:<24}{row['planted']:>8}{row['found']:>7}{row['tp']:>5}"
            f"{_pct(row['precision']):>11}{_pct(row['recall']):>8}"
        )
    m = result["micro"]
    lines += [
        f"{'ALL (micro)':<24}{m['planted']:>8}{m['found']:>7}{m['tp']:>5}"
        f"{_pct(m['precision']):>11}{_pct(m['recall']):>8}",
        "",
        f"False positives ({len(result['false_positives'])} findings):",
    ]
    for fp in result["false_positives"]:
        labels = ",".join(fp["labels"]) or "healthy"
        lines.append(
            f"  FP {fp['problem']:<22} {fp['job']:<24} rule={fp['rule']:<22} "
            f"sev={fp['severity']:<8} [{fp['kind'] or '?'}; labels: {labels}]"
        )
    lines += ["", f"False negatives ({len(result['false_negatives'])}):"]
    for fn in result["false_negatives"]:
        lines.append(
            f"  FN {fn['problem']:<22} {fn['job']:<24} [{fn['kind'] or '?'}] {fn['notes'] or ''}"
        )
        lines.append(f"       rules: {fn['rules']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fleet", type=Path, help="an eval fleet already generated")
    parser.add_argument("--seed", type=int, default=eval_fleet.DEFAULT_SEED)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--sample", action="store_true", help="also score sample_metrics/")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--keep", type=Path, help="keep the stores (and a generated fleet) here")
    parser.add_argument(
        "--min-severity",
        choices=SEVERITIES,
        default="info",
        help="count only findings at least this severe (default: every finding)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="findings-accuracy-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        fleet = args.fleet
        if fleet is None:
            fleet = work / "eval-fleet"
            eval_fleet.generate(fleet, args.seed, args.jobs, args.days)
        results = {"eval": evaluate(fleet, work / "eval.db", args.min_severity)}
        if args.sample:
            results["sample"] = evaluate(
                ROOT / "sample_metrics", work / "sample.db", args.min_severity
            )
    if args.format == "json":
        print(json.dumps(results, indent=1))
    else:
        print("\n\n".join(render(name, result) for name, result in results.items()))


if __name__ == "__main__":
    main()
