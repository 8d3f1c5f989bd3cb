"""The what-if runtime/cost frontier as a plotly figure: a result in, a figure out.

Shared by `advisor whatif --plot` (a self-contained HTML file) and the dashboard's job page
(dashboards/figures.py), so analysis/ computes the result and never draws it.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from advisor.report.labels import plain


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
    marks = (("now", result["current"], "#d62728"), ("pick", result["best"], "#ff7f0e"))
    for label, candidate, colour in marks:
        if candidate is not None and (label == "now" or result["trusted"]):
            fig.add_trace(
                go.Scatter(
                    x=[candidate["runtime_s"] / 60],
                    y=[cost(candidate)],
                    mode="markers+text",
                    text=[f"{label}: {candidate['label']}"],
                    textposition="top center",
                    marker={"size": 14, "color": colour},
                    name=label,
                )
            )
    title = f"What-if: {plain(result['job_name'] or result['app_id'])}"
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
