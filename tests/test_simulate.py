"""The what-if scheduler on small hand-made stage DAGs whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.sparklog.simulate import (
    SUPER_TASKS_PER_SLOT,
    AppModel,
    Phase,
    StageNode,
    build_model,
    held_executor_ms,
    model_error,
    simulate,
    task_durations,
    trust,
)


def stage(stage_id: int, durations_s: list[float], parents=(), offset_s: float = 0) -> StageNode:
    return StageNode(
        key=(stage_id, 0),
        parents=[(p, 0) for p in parents],
        durations_ms=np.asarray(durations_s, dtype=float) * 1000,
        offset_ms=offset_s * 1000,
    )


def app(*phases: list[StageNode], fixed_s: float = 0, executors: int = 1, cores: int = 1):
    return AppModel(
        app_id="hand-made",
        duration_ms=0,
        fixed_ms=fixed_s * 1000,
        phases=[Phase(0, 0, list(stages)) for stages in phases],
        executors=executors,
        cores=cores,
    )


def runtime(model: AppModel, slots: int) -> float:
    return simulate(model, slots, 1).runtime_s


def test_one_stage_fills_slots_in_waves():
    model = app([stage(0, [10] * 8)])
    assert [runtime(model, n) for n in (1, 2, 4, 8, 16)] == [80, 40, 20, 10, 10]


def test_a_partial_last_wave_costs_a_whole_task():
    assert runtime(app([stage(0, [10] * 5)]), 4) == 20


def test_tasks_go_to_the_slot_that_frees_first():
    # 2 slots: 6 and 1 start; 1 ends at 1 -> 2 runs 1..3; 3 runs 3..6; 6 ends at 6
    assert runtime(app([stage(0, [6, 1, 2, 3])]), 2) == 6
    # in this order the long task comes last: 1,1 | 1 (1..2) | 6 (1..7)
    assert runtime(app([stage(0, [1, 1, 1, 6])]), 2) == 7


def test_a_chain_of_stages_runs_one_after_the_other():
    model = app([stage(0, [10] * 4), stage(1, [10] * 4, parents=[0])])
    assert runtime(model, 2) == 40 and runtime(model, 4) == 20


def test_independent_stages_share_slots_and_a_join_waits_for_both():
    a, b = stage(0, [10, 10]), stage(1, [10, 10])
    join = stage(2, [10, 10], parents=[0, 1])
    model = app([a, b, join])
    assert runtime(model, 4) == 20  # a and b together, then the join
    assert runtime(model, 2) == 30  # a, then b (FIFO), then the join
    assert runtime(model, 1) == 60


def test_a_stage_waits_for_its_submission_offset():
    # the second stage was submitted 15 s into the phase by the driver, not by a parent
    model = app([stage(0, [10]), stage(1, [10], offset_s=15)])
    assert runtime(model, 4) == 25


def test_driver_time_is_kept_and_phases_add_up():
    model = app([stage(0, [10] * 4)], [stage(1, [5] * 2)], fixed_s=7)
    assert runtime(model, 2) == 7 + 20 + 5
    assert runtime(model, 8) == 7 + 10 + 5


def test_cores_and_task_cpus_make_slots():
    model = app([stage(0, [10] * 8)])
    assert simulate(model, 2, 4).runtime_s == 10  # 2 executors x 4 cores
    model.task_cpus = 2
    assert simulate(model, 2, 4).runtime_s == 20  # 4 slots


def test_utilization_and_autoscaled_executor_time():
    model = app([stage(0, [10] * 4), stage(1, [10], parents=[0])])
    result = simulate(model, 4, 1)
    assert result.runtime_s == 20
    assert result.slot_utilization == pytest.approx(50 / (4 * 20))
    # within Spark's 60 s idle timeout no executor is released: all 4 held for 20 s
    assert result.busy_executor_s == pytest.approx(80)
    starts, ends = np.array([0, 0, 0, 0, 10_000.0]), np.array([10_000.0] * 4 + [20_000.0])
    # without an idle timeout: 4 executors for 10 s, then 1 for 10 s
    assert held_executor_ms(starts, ends, 1, 20_000, idle_ms=0) == pytest.approx(50_000)
    assert held_executor_ms(starts, ends, 2, 20_000, idle_ms=0) == pytest.approx(30_000)
    # a 5 s timeout keeps the 3 idle ones 5 s longer
    assert held_executor_ms(starts, ends, 1, 20_000, idle_ms=5_000) == pytest.approx(
        65_000, rel=0.01
    )


def test_autoscaling_releases_executors_over_a_long_driver_gap():
    # two 10 s phases on 4 executors, 300 s of driver work between them
    model = app([stage(0, [10] * 4)], [stage(1, [10] * 4)], fixed_s=300, executors=4)
    model.phases[1].start_ms = 310_000
    model.phases[0].real_ms = model.phases[1].real_ms = 10_000
    model.start_ms = 0
    result = simulate(model, 4, 1)
    assert result.runtime_s == 320
    # 4 busy 10 s + 4 idle 60 s, twice (the run ends when the second phase does)
    assert result.busy_executor_s == pytest.approx(4 * 10 + 4 * 60 + 4 * 10, rel=0.01)


def test_long_stages_are_packed_with_bounded_error():
    rng = np.random.default_rng(1)
    durations = list(rng.uniform(0.05, 0.3, 20_000))
    model = app([stage(0, durations)])
    exact = sum(durations) / 8
    assert len(model.phases[0].stages[0].packed(8)) == SUPER_TASKS_PER_SLOT * 8
    assert runtime(model, 8) == pytest.approx(exact, rel=1 / SUPER_TASKS_PER_SLOT)


def test_task_durations_follow_the_profile():
    durations = task_durations([1.0, 2.0, 3.0, 10.0], 8, seed=3)
    assert sorted(durations.tolist()) == [1, 1, 2, 2, 3, 3, 10, 10]
    assert task_durations([1.0, 2.0, 3.0, 10.0], 8, seed=3).tolist() == durations.tolist()
    assert task_durations([], 5, seed=1).size == 0


def summary_rows(stage_rows, executors, **app):
    base = {
        "app_id": "a",
        "duration_ms": 30_000,
        "end_ms": 31_000,
        "complete": True,
        "problems": {},
        "properties": {},
    }
    return {**base, **app}, stage_rows, executors


def stage_row(stage_id, submitted, completed, tasks, profile, parents=(), attempt=0, **extra):
    return {
        "stage_id": stage_id,
        "attempt": attempt,
        "submitted_ms": submitted,
        "completed_ms": completed,
        "tasks": tasks,
        "task_ms_profile": profile,
        "parent_ids": list(parents),
        "peak_execution_memory_max": extra.get("peak", 0),
        "disk_bytes_spilled": extra.get("spill", 0),
    }


def test_model_from_rows_keeps_driver_time_and_replays_its_own_run():
    # app 1,000..31,000 ms; stage 0 runs 5,000-15,000 (4 tasks x 5 s on 2 slots),
    # stage 1 runs 20,000-25,000 (2 tasks x 5 s): 15 s of stages, 15 s of driver time
    rows = [
        stage_row(0, 5_000, 15_000, 4, [5_000.0] * 4),
        stage_row(1, 20_000, 25_000, 2, [5_000.0] * 2, parents=[0]),
    ]
    executors = [{"executor_id": "1", "cores": 1}, {"executor_id": "2", "cores": 1}]
    model = build_model(*summary_rows(rows, executors))
    assert (model.executors, model.cores, model.fixed_ms) == (2, 1, 15_000)
    assert [len(p.stages) for p in model.phases] == [1, 1]
    assert model_error(model) == 0
    assert simulate(model, 4, 1).runtime_s == 15 + 5 + 5
    assert trust(model, model_error(model)) == (True, [])


def test_doubts_make_the_model_untrusted():
    rows = [stage_row(0, 5_000, 15_000, 4, [5_000.0] * 4)]
    mixed = [
        {"executor_id": "1", "cores": 1},
        {"executor_id": "2", "cores": 4, "removed_ms": 10_000},
    ]
    model = build_model(*summary_rows(rows, mixed, problems={"truncated_last_line": 1}))
    trusted, reasons = trust(model, model_error(model))
    assert not trusted
    assert any("different core counts" in r for r in reasons)
    assert any("removed while it ran" in r for r in reasons)
    assert any("lost events" in r for r in reasons)
    stale = build_model(*summary_rows([stage_row(0, 5_000, 15_000, 4, [])], [mixed[0]]))
    assert any("reduce it again" in d for d in stale.doubts)


@pytest.mark.parametrize(
    "rows, app",
    [
        ([stage_row(0, 15_000, 5_000, 4, [5_000.0] * 4)], {}),  # ends before it starts
        ([stage_row(0, 5_000, 15_000, 4, [-5_000.0, 5_000.0, 5_000.0, 5_000.0])], {}),
        ([stage_row(0, 5_000, 15_000, 4, [5_000.0] * 4)], {"duration_ms": -30_000}),
    ],
)
def test_a_log_whose_clock_runs_backwards_is_not_trusted(rows, app):
    executors = [{"executor_id": "1", "cores": 1}, {"executor_id": "2", "cores": 1}]
    model = build_model(*summary_rows(rows, executors, **app))
    trusted, reasons = trust(model, model_error(model))
    assert not trusted
    assert any("backwards" in r or "ends before it starts" in r for r in reasons)


def test_a_big_model_error_is_reported():
    # the replay says 10 s of stage time where the log says 20: 33 % error on a 30 s app
    rows = [stage_row(0, 5_000, 25_000, 2, [10_000.0, 10_000.0])]
    model = build_model(*summary_rows(rows, [{"executor_id": "1", "cores": 2}]))
    error = model_error(model)
    assert error == pytest.approx(10 / 30)
    trusted, reasons = trust(model, error)
    assert not trusted and "33%" in reasons[0]
