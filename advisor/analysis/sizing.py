"""Sizing features: the what-if simulation of a job's newest event log, and the one sizing
suggestion the over/under-provisioning and worker-type rules state (simulated when the
simulation can be trusted, else AWS's capacity-planning rule from CloudWatch)."""

from __future__ import annotations

from typing import Any

from advisor import facts
from advisor.analysis.whatif import DEFAULT_SLA, WhatIf, whatif_for_model
from advisor.identity import job_config
from advisor.sparklog.simulate import build_model
from advisor.store import Store

FASTER_BY = 0.3  # under-provisioned: a configuration this much faster ...
FOR_AT_MOST = 0.1  # ... for at most this much more money per run


def job_sla(config: dict[str, Any] | None, job: str) -> float:
    """Allowed slowdown for right-sizing: [jobs.<job>] sla_slowdown, else [whatif], else 10 %."""
    config = config or {}
    per_job = job_config(config, job).get("sla_slowdown")
    default = (config.get("whatif") or {}).get("sla_slowdown", DEFAULT_SLA)
    return float(per_job if per_job is not None else default)


def job_whatif(store: Store, features: dict[str, Any], app: dict[str, Any], sla: float) -> WhatIf:
    stages = store.spark_stages_of(app)
    executors = store.spark_executors_of(app)
    model = build_model(app, stages, executors)
    job = {
        "name": features["job_name"],
        "worker_type": features.get("worker_type"),
        "number_of_workers": features.get("number_of_workers"),
        "glue_version": features.get("glue_version"),
        "command_name": features.get("command_name"),
        "execution_class": features.get("execution_class"),
        "autoscaling_enabled": features.get("autoscaling_enabled"),
        "region": features.get("region"),
    }
    return whatif_for_model(
        model,
        job=job,
        median_runtime_s=features.get("runtime_p50_s"),
        runs_month=features.get("runs_month"),
        sla=sla,
        run_id=app["run_id"],
    )


def whatif_features(result: WhatIf | None) -> dict[str, Any]:
    out: dict[str, Any] = {"whatif_trusted": False}
    if result is None:
        return out
    out.update(
        whatif_run=result.run_id,
        whatif_model_error=result.model_error,
        whatif_doubt="; ".join(result.doubts) or None,
        whatif_candidates=len(result.candidates),
    )
    current, best, same = result.current, result.best, result.best_same_type
    if not result.trusted or current is None or best is None or same is None:
        return out
    same_dpu, same_usd = result.saving(same)
    out.update(
        whatif_trusted=True,
        whatif_sla=result.sla,
        whatif_current_runtime_min=current.runtime_s / 60,
        whatif_best_config=best.label,
        whatif_best_worker_type=best.worker_type,
        whatif_best_workers=best.workers,
        whatif_best_runtime_min=best.runtime_s / 60,
        whatif_best_dpu_ratio=best.dpu_hours / current.dpu_hours if current.dpu_hours else None,
        whatif_saving_usd_month=result.saving_usd_month,
        whatif_saving_dpu_hours_month=result.saving_dpu_hours_month,
        # the same worker type, fewer (or more) workers: what over_provisioned states
        whatif_same_type_config=same.label,
        whatif_same_type_workers=same.workers,
        whatif_same_type_runtime_min=same.runtime_s / 60,
        whatif_same_type_dpu_ratio=same.dpu_hours / current.dpu_hours
        if current.dpu_hours
        else None,
        # over_provisioned removes workers: a same-type pick with more workers is never it
        whatif_fewer_dpu=same.dpu_hours < current.dpu_hours * 0.9
        and same.workers < current.workers,
        whatif_same_type_saving_usd_month=same_usd,
        whatif_same_type_saving_dpu_hours_month=same_dpu,
        # what another worker type saves beyond that: what worker_type_mismatch states
        whatif_type_change=best.worker_type != current.worker_type,
        whatif_type_gain_usd_month=(result.saving_usd_month or 0) - (same_usd or 0),
        whatif_type_gain_dpu_hours_month=(result.saving_dpu_hours_month or 0) - (same_dpu or 0),
    )
    faster = [
        c
        for c in result.candidates
        if c.feasible
        and not c.autoscaling
        and c.runtime_s <= current.runtime_s * (1 - FASTER_BY)
        and c.dpu_hours <= current.dpu_hours * (1 + FOR_AT_MOST)
    ]
    if faster:
        pick = min(faster, key=lambda c: (c.runtime_s, c.dpu_hours))
        out.update(
            whatif_faster_config=pick.label,
            whatif_faster_worker_type=pick.worker_type,
            whatif_faster_workers=pick.workers,
            whatif_faster_runtime_min=pick.runtime_s / 60,
            whatif_speedup=current.runtime_s / pick.runtime_s,
            whatif_faster_cost_change=pick.dpu_hours / current.dpu_hours - 1,
        )
    return out


def smaller_type_features(f: dict[str, Any]) -> dict[str, Any]:
    """Without a simulation: the next smaller worker type of the same family, where every task
    keeps the same heap per core (Glue 3.0+ G types), with the same executor cores. Only the
    driver's worker shrinks, so the saving is that worker's extra DPUs: large for a few big
    workers, small for many."""
    big, small, workers = (
        f.get("worker_type"),
        f.get("previous_worker_type"),
        f.get("number_of_workers"),
    )
    version = f.get("glue_version")
    if not (big and small and workers and workers >= 2) or f.get("is_memory_optimized"):
        return {}
    per_core_big = facts.heap_per_core_gb(big, version)
    per_core_small = facts.heap_per_core_gb(small, version)
    if not per_core_big or not per_core_small or per_core_small < per_core_big * 0.99:
        return {}
    dpu_big, dpu_small = facts.dpu_per_worker(big) or 0, facts.dpu_per_worker(small) or 0
    if not dpu_big or not dpu_small:
        return {}
    ratio = dpu_big / dpu_small
    smaller_workers = round((workers - 1) * ratio + 1)
    share = 1 - smaller_workers * dpu_small / (workers * dpu_big)
    if share <= 0:
        return {}
    driver = f.get("heap_driver_max")
    return {
        "type_change_share": share,
        "mismatch_worker_type": small,
        "mismatch_workers": smaller_workers,
        "mismatch_evidence": (
            f"each task has the same heap per core on {small}, its executors' heap peaked at "
            f"{f['heap_peak']:.0%}"
            + (f" and its driver's at {driver:.0%}" if driver is not None else "")
            + f": only the driver's worker would shrink, {share:.0%} of the DPUs"
        ),
        "mismatch_usd_month": (f.get("cost_usd_month") or 0) * share,
        "type_change_usd_month": (f.get("cost_usd_month") or 0) * share,
        "type_change_dpu_hours_month": (f.get("dpu_hours_month") or 0) * share,
    }


def sizing_summary(f: dict[str, Any]) -> dict[str, Any]:
    """The suggestion and its evidence, in words the rules print; simulation first."""
    out: dict[str, Any] = {}
    if f.get("whatif_trusted"):
        out["sizing_confidence"] = "high"
        out["sizing_basis"] = (
            f"simulated from the event log of run {f['whatif_run']} on "
            f"{f['whatif_candidates']} configurations; its replay of today's configuration is "
            f"{f['whatif_model_error']:.0%} off the real runtime"
        )
        out["sizing_evidence"] = (
            f"a replay of its newest event log puts {f['whatif_same_type_config']} at "
            f"{f['whatif_same_type_runtime_min']:.1f} min a run against "
            f"{f['whatif_current_runtime_min']:.1f} min today, within the "
            f"{f['whatif_sla']:.0%} slowdown allowed, for {f['whatif_same_type_dpu_ratio']:.0%} "
            "of the DPU-hours"
        )
        out["suggested_worker_type"] = f["worker_type"]
        out["suggested_workers"] = f["whatif_same_type_workers"]
        out["rightsize_saving_usd_month"] = f.get("whatif_same_type_saving_usd_month")
        out["rightsize_saving_dpu_hours_month"] = f.get("whatif_same_type_saving_dpu_hours_month")
        out["speedup_available"] = f.get("whatif_speedup")
        if f.get("whatif_type_change"):
            out["type_change_usd_month"] = f.get("whatif_type_gain_usd_month")
            out["type_change_dpu_hours_month"] = f.get("whatif_type_gain_dpu_hours_month")
            out["mismatch_usd_month"] = f.get("whatif_type_gain_usd_month")
            out["mismatch_evidence"] = (
                f"a replay of its newest event log puts {f['whatif_best_config']} at "
                f"{f['whatif_best_runtime_min']:.1f} min a run against "
                f"{f['whatif_current_runtime_min']:.1f} min today for "
                f"{f['whatif_best_dpu_ratio']:.0%} of the DPU-hours, "
                f"${f['whatif_type_gain_usd_month']:.2f} a month less than the best "
                f"{f['worker_type']} configuration"
            )
            out["mismatch_worker_type"] = f["whatif_best_worker_type"]
            out["mismatch_workers"] = f["whatif_best_workers"]
    elif f.get("executors_needed_max") is not None:
        out["sizing_basis"] = (
            "a heuristic, lower confidence than a simulation: AWS's capacity-planning rule, "
            "written for Glue 0.9 and 1.0 (the most executors CloudWatch saw needed, one per "
            "worker, plus the driver's worker)"
        )
        out["sizing_confidence"] = "low"
        out["sizing_evidence"] = (
            f"it needed at most {f['executors_needed_max']:.0f} executors "
            f"({f.get('executors_needed_ratio') or 0:.0%} of the "
            f"{f.get('executors_allocated') or 0:.0f} allocated), with workers busy "
            f"{f.get('worker_utilization') or 0:.0%} of the time"
        )
        out["suggested_worker_type"] = f.get("worker_type")
        out["speedup_available"] = f.get("executors_needed_ratio")
    if f.get("whatif_trusted") and f.get("whatif_faster_workers"):
        out["faster_worker_type"] = f["whatif_faster_worker_type"]
        out["faster_workers"] = f["whatif_faster_workers"]
        # what under_provisioned states: the faster configuration, not the cheaper one
        out["faster_evidence"] = (
            "a replay of its newest event log finds it "
            f"{f['whatif_speedup']:.1f} times faster on more workers for "
            f"{f['whatif_faster_cost_change']:+.0%} cost per run"
        )
    else:
        out["faster_worker_type"] = f.get("worker_type")
        out["faster_workers"] = f.get("suggested_workers")
        if "sizing_evidence" in out:
            out["faster_evidence"] = out["sizing_evidence"]
    if (
        "mismatch_evidence" not in out
        and f.get("heap_peak") is not None
        and f.get("general_purpose_type")
    ):
        # memory-optimised workers bill a higher rate for memory this job does not use: the
        # G type of the same size costs less for the same cores
        out["mismatch_evidence"] = (
            "these are memory-optimised workers, but its JVM heap never passed "
            f"{f['heap_peak']:.0%}"
        )
        out["mismatch_worker_type"] = f["general_purpose_type"]
        out["mismatch_workers"] = f.get("number_of_workers")
        etl, memory = f.get("etl_rate_usd"), f.get("memory_optimized_rate_usd")
        if etl and memory and memory > etl:
            share = 1 - etl / memory
            out["mismatch_usd_month"] = (f.get("cost_usd_month") or 0) * share
            out["type_change_usd_month"] = out["mismatch_usd_month"]
    if f.get("whatif_trusted") and f.get("cost_usd_month"):
        out["type_change_share"] = (f.get("whatif_type_gain_usd_month") or 0) / f["cost_usd_month"]
    if "mismatch_evidence" not in out and f.get("heap_peak") is not None:
        out.update(smaller_type_features(f))
    if out.get("suggested_workers") is not None or f.get("suggested_workers") is not None:
        workers = out.get("suggested_workers", f.get("suggested_workers"))
        worker_type = out.get("suggested_worker_type") or f.get("worker_type")
        out["suggested_config"] = (
            f"NumberOfWorkers {workers}"
            if worker_type == f.get("worker_type")
            else f"WorkerType {worker_type} with NumberOfWorkers {workers}"
        )
    return out
