"""The what-if runtime/cost frontier as a plotly figure: a result in, a figure out.

Shared by `advisor whatif --plot` (a self-contained HTML file) and the dashboard's job page
(dashboards/figures.py), so analysis/ computes the result and never draws it.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from advisor.identity import label
from advisor.report.labels import plain

NOW, PICK = "#d62728", "#ff7f0e"


def whatif_figure(result: dict[str, Any]) -> go.Figure:
    """Runtime/cost frontier as a plotly figure, from WhatIf.as_dict() (or the stored copy):
    every candidate (grey when infeasible), the frontier, today's configuration and the pick."""

    def cost(c: dict[str, Any]) -> float:
        return c["usd"] if c["usd"] is not None else c["dpu_hours"]

    fig = go.Figure()
    for autoscaling, symbol in ((False, "circle"), (True, "diamond")):
        points = [c for c in result["candidates"] if c["autoscaling"] == autoscaling]
        fig.add_trace(
            go.Scatter(
                x=[c["runtime_s"] / 60 for c in points],
                y=[cost(c) for c in points],
                mode="markers",
                marker={
                    "symbol": symbol,
                    "color": ["#1f77b4" if c["feasible"] else "#bbbbbb" for c in points],
                },
                text=[c["label"] + ("" if c["feasible"] else f" - {c['note']}") for c in points],
                hoverinfo="text",
                name="Auto Scaling" if autoscaling else "fixed workers",
            )
        )
    frontier = result["frontier"]
    fig.add_trace(
        go.Scatter(
            x=[c["runtime_s"] / 60 for c in frontier],
            y=[cost(c) for c in frontier],
            mode="lines",
            name="frontier",
            line={"color": "#2ca02c"},
        )
    )
    fig.add_traces(_marks(result, cost))
    title = f"What-if: {plain(label(result['job_name']) or result['app_id'])}"
    if not result["trusted"]:  # said on the page, not only in the terminal
        doubts = "; ".join(plain(d) for d in result.get("doubts") or [])
        title += f"<br><sup>NOT TRUSTED, no pick is shown: {doubts}</sup>"
    fig.update_layout(
        title=title,
        xaxis_title="runtime per run (minutes)",
        yaxis_title="cost per run (USD)",
        template="plotly_white",
    )
    return fig


def _marks(result: dict[str, Any], cost: Any) -> list[go.Scatter]:
    """Today's configuration ("now") and the pick (only when the replay is trusted), each a
    labelled mark; one mark saying both when the pick is today's configuration, so the two
    labels are never drawn on top of each other."""
    now, pick = result["current"], result["best"] if result["trusted"] else None
    if now is not None and pick is not None and _same(now, pick):
        marks = [("now and pick", now, PICK, NOW)]
    else:
        marks = [("now", now, NOW, NOW), ("pick", pick, PICK, PICK)]
    return [
        go.Scatter(
            x=[candidate["runtime_s"] / 60],
            y=[cost(candidate)],
            mode="markers+text",
            text=[f"{name}: {plain(candidate['label'])}"],
            textposition="top center",
            marker={"size": 14, "color": fill, "line": {"color": ring, "width": 3}},
            name=name,
        )
        for name, candidate, fill, ring in marks
        if candidate is not None
    ]


def _same(now: dict[str, Any], pick: dict[str, Any]) -> bool:
    """Whether the pick is today's configuration (the result marks it, or the same workers)."""
    keys = ("label", "autoscaling")
    return bool(pick.get("current")) or all(now.get(k) == pick.get(k) for k in keys)
