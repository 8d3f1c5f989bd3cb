"""Link a reduced application to its Glue job run, and store its facts.

In order: the Glue run id Glue puts in the Spark properties (`spark.glue.JOB_RUN_ID`); the
import folder the log sits in (`eventlogs/<JobRunId>/`, or `eventlogs/<SessionId>/` for an
interactive session's); the run of the job named in the properties (or the app name) that was
going when the application started; and, for an application that names no job run, the one
interactive session of its place that was open when it started (a session's Spark application
is the session's: its event log is what tells how much of the session's DPUs were used).
"""

from __future__ import annotations

import json
from typing import Any

from advisor.collect.redact import redact_value
from advisor.identity import SESSION_MARK, split_key
from advisor.store import Store, to_json
from advisor.timeutil import iso

STATE_SOURCE = "eventlog"
UNLINKED = ""  # run_id of applications whose Glue run is not (yet) in the store
UNLINKED_REASON = "no Glue run matches this log yet (no JOB_RUN_ID, folder or time window)"


def link_run(
    store: Store,
    summary: dict[str, Any],
    folder_run_id: str | None = None,
    place: tuple[str, str] | None = None,
) -> tuple[str | None, str | None]:
    """(run key, how it was linked), or (None, None). `place`, the (account, region) the log
    was found for, picks among runs and jobs of the same id or name in other places; without
    it only an unambiguous match links."""
    glue_run = summary["glue"].get("JOB_RUN_ID")
    if glue_run and isinstance(glue_run, str):
        runs = store.runs_with_glue_id(glue_run, place)
        if len(runs) == 1:
            return runs[0], "glue_run_id"
    if folder_run_id and (store.has_run(folder_run_id) or _is_session(store, folder_run_id)):
        return folder_run_id, "import_folder"
    job = summary["glue"].get("JOB_NAME") or summary["app_name"]
    if job and isinstance(job, str) and summary["start_ms"]:
        try:
            started = iso(summary["start_ms"] / 1000)
        except ValueError:  # a clock no run could have: nothing to match by time
            return None, None
        run_id = store.run_around(job, started, place)
        if run_id:
            return run_id, "time_window"
    if not glue_run and summary["start_ms"]:
        try:
            started = iso(summary["start_ms"] / 1000)
        except ValueError:
            return None, None
        sessions = store.sessions_around(started, place)
        if len(sessions) == 1:
            return sessions[0], "session_window"
    return None, None


def _is_session(store: Store, key: str) -> bool:
    account, region, rest = split_key(key)
    if not rest.startswith(SESSION_MARK):
        return False
    return key in store.session_keys(rest[len(SESSION_MARK) :], (account, region))


def fact_rows(
    summary: dict[str, Any], run_id: str, job_name: str | None, how: str
) -> dict[str, list[dict[str, Any]]]:
    key = {
        "run_id": run_id,
        "app_id": summary["app_id"] or summary["source"],
        "attempt_id": attempt_of(summary),
    }
    app = {
        **summary,
        **key,
        "job_name": job_name,
        "linked_by": how,
        "complete": int(summary["complete"]),
        "data_loss": int(summary["data_loss"]),
        "job_spans": to_json(summary.get("job_spans") or []),
    }
    for field in (
        "failure_reasons",
        "failure_examples",
        "data_loss_reasons",
        "properties",
        "glue",
        "problems",
    ):
        # the door into the store: Spark properties carry passwords (spark.glue.--db_password,
        # fs.s3a.secret.key) and failure messages quote connection strings
        app[field] = to_json(redact_value(summary[field]))
    for field in ("app_name",):
        app[field] = redact_value(app.get(field))
    stages = [
        {
            **redact_value(row),
            **key,
            "parent_ids": to_json(row["parent_ids"]),
            "task_ms_profile": to_json(row.get("task_ms_profile") or []),
        }
        for row in summary["stage_list"]
    ]
    return {
        "spark_apps": [app],
        "spark_stages": stages,
        "spark_executors": [{**redact_value(row), **key} for row in summary["executor_list"]],
        "spark_sql": [{**redact_value(row), **key} for row in summary["sql_executions"]],
    }


def attempt_of(summary: dict[str, Any]) -> str:
    """The application attempt's key part: Spark's App Attempt ID, '' for logs without one."""
    return str(summary.get("attempt_id") or "")


def state_key(location: str, place: tuple[str, str] | None) -> str:
    """A log's collect_state key: its location, for the account and region it was read for
    (the same folder imported for two regions is two jobs' logs)."""
    return f"{place[0]}/{place[1]} {location}" if place else location


def already_reduced(
    store: Store, location: str, size: int, place: tuple[str, str] | None = None
) -> bool:
    """True when this log, at this size, was reduced before (a grown in-progress log is not)."""
    state = store.get_state(STATE_SOURCE, state_key(location, place))
    return state is not None and state.split(" ", 1)[0] == str(size)


def store_summary(
    store: Store,
    summary: dict[str, Any],
    *,
    size: int,
    at: str,
    folder_run_id: str | None = None,
    place: tuple[str, str] | None = None,
) -> str | None:
    """Store one application's facts, linked if its run is known (else kept for relink)."""
    run_id, how = link_run(store, summary, folder_run_id, place)
    app_id = summary["app_id"] or summary["source"]
    with store.transaction():
        job_name = store.job_of_run(run_id) if run_id else None
        store.replace_spark_app(
            run_id or UNLINKED,
            app_id,
            attempt_of(summary),
            fact_rows(summary, run_id or UNLINKED, job_name, how or "unlinked"),
        )
        store.set_state(
            STATE_SOURCE,
            state_key(summary["source"], place),
            f"{size} {run_id or 'unlinked'}",
            at,
        )
        if run_id is None:
            store.record_error(STATE_SOURCE, summary["source"], UNLINKED_REASON, at=at)
    return run_id


def relink(store: Store) -> int:
    """Attach applications reduced before their run was collected; no log is read again."""
    linked = 0
    for app in store.unlinked_spark_apps():
        pseudo = {
            "glue": json.loads(app["glue"] or "{}"),
            "app_name": app["app_name"],
            "start_ms": app["start_ms"],
        }
        run_id, how = link_run(store, pseudo)
        if run_id:
            with store.transaction():
                store.link_spark_app(
                    app["app_id"], app["attempt_id"], run_id, how, store.job_of_run(run_id)
                )
                store.resolve_error(STATE_SOURCE, app["source"], UNLINKED_REASON)
            linked += 1
    return linked
