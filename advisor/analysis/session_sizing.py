"""How many workers an interactive session's Spark work needed, from the session's own event
logs (`%%configure {"--enable-spark-ui": "true", "--spark-event-logs-path": "s3://..."}`).

A session bills its DPUs for every second it is open, but most of that time is a person reading
and typing; what the workers are for is the statements' Spark work. The work is replayed (the
what-if simulator of advisor/sparklog/simulate.py) on fewer workers of the same type: the fewest
whose Spark time stays within the allowed slowdown of the replay of the session's own
configuration are what the session needed. Only a log whose task slots are the session's own,
and whose replay matches the Spark time it recorded, is trusted to say so.
"""

from __future__ import annotations

import math
from typing import Any

from advisor import facts
from advisor.analysis.whatif import DEFAULT_SLA, TRUST_LIMIT, executor_cores
from advisor.identity import session_app_key
from advisor.sparklog.simulate import AppModel, build_model, simulate
from advisor.store import Store


def session_sizing(
    store: Store, sessions: list[dict[str, Any]], sla: float = DEFAULT_SLA
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(account, region, session id) -> sizing features, for sessions with stored Spark apps."""
    out = {}
    for session in sessions:
        key = session_app_key(session["account"], session["region"], session["name"])
        apps = store.spark_apps_of_run(key)
        if not apps:
            continue
        models = [
            build_model(app, store.spark_stages_of(app), store.spark_executors_of(app))
            for app in apps
        ]
        out[(session["account"], session["region"], session["name"])] = sizing_features(
            models, session["definition"], sla
        )
    return out


def minimum_workers(worker_type: str) -> int:
    """A driver and one executor, and at least the session minimum of DPUs."""
    per_worker = facts.dpu_per_worker(worker_type) or 1.0
    least_dpu = float(facts.registry()["interactive_sessions"]["minimum_dpu"])
    return max(2, math.ceil(least_dpu / per_worker))


def _spark_ms(model: AppModel, executors: int, cores: int) -> float:
    """Time in stages when replayed on this many executors (driver-only time left out)."""
    return simulate(model, executors, cores).runtime_s * 1000 - model.fixed_ms


def sizing_features(
    models: list[AppModel], definition: dict[str, Any], sla: float = DEFAULT_SLA
) -> dict[str, Any]:
    """Pure: the session's Spark applications and its definition in, features out."""
    worker_type = definition.get("WorkerType")
    workers = definition.get("NumberOfWorkers")
    version = definition.get("GlueVersion")
    cores = executor_cores(worker_type, version)
    real_ms = sum(p.real_ms for m in models for p in m.phases)
    out: dict[str, Any] = {
        "spark_apps": len(models),
        "spark_minutes": real_ms / 60000,
        "sizing_trusted": False,
    }
    doubts = [d for m in models for d in m.doubts]
    if not (worker_type and isinstance(workers, int) and cores):
        doubts.append("the session's worker type and count are not known")
    elif any(m.executors * m.cores != (workers - 1) * cores for m in models):
        logged = sorted({m.executors * m.cores for m in models})
        doubts.append(
            f"its log has {', '.join(map(str, logged))} task slots, not the "
            f"{(workers - 1) * cores} of {workers} x {worker_type}"
        )
    if not real_ms:
        doubts.append("no statement ran Spark tasks")
    if doubts:
        out["sizing_doubt"] = "; ".join(dict.fromkeys(doubts))
        return out
    assert cores is not None and isinstance(workers, int) and worker_type
    own_ms = sum(_spark_ms(m, workers - 1, cores) for m in models)
    error = abs(own_ms - real_ms) / real_ms
    out["sizing_model_error"] = error
    if error > TRUST_LIMIT:
        out["sizing_doubt"] = (
            f"replaying its own configuration misses its Spark time by {error:.0%} "
            f"(over {TRUST_LIMIT:.0%})"
        )
        return out
    needed = workers
    for count in range(minimum_workers(worker_type), workers):
        if sum(_spark_ms(m, count - 1, cores) for m in models) <= own_ms * (1 + sla):
            needed = count
            break
    per_worker = facts.dpu_per_worker(worker_type) or 1.0
    slower_ms = sum(_spark_ms(m, needed - 1, cores) for m in models)
    out.update(
        sizing_trusted=True,
        sizing_sla=sla,
        needed_workers=needed,
        needed_dpus=needed * per_worker,
        fewer_workers_suffice=needed < workers,
        spark_minutes_needed=slower_ms / 60000,
        spark_minutes_own=own_ms / 60000,
    )
    return out
