"""`advisor fix JOB`: print (or write) the complete `aws glue update-job` for a job's findings.

JOB is a Glue name, or `account/region/name` when jobs in several accounts or regions share it
(or a name with --account / --region). GetJob reads the Glue job in its own region, as its own
account: credentials for another account are refused, never used to read a namesake.

Exit codes: 0 done (or nothing to fix); 1 AWS or file failure; 2 unknown or ambiguous job,
unknown rule, a region or account that is not the job's, job not found by GetJob, or a payload
that fails validation (never printed as runnable).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import click

from advisor.cli_options import account_option, db_option, format_option
from advisor.config import load_config
from advisor.fix.plan import FixAbort, FixPlan, glue_name, plan_fix
from advisor.fix.secrets import mask_argument, mask_field, scrub, secret_values
from advisor.identity import UNKNOWN_ACCOUNT, UNKNOWN_REGION, argument_label, label, split_key
from advisor.safe_text import shell_word, terminal_safe
from advisor.store import Store

ARGUMENT_MAPS = ("DefaultArguments", "NonOverridableArguments")


def payload_json(update: dict[str, Any], *, indent: int | None = None) -> str:
    if indent is None:
        return json.dumps(update, separators=(",", ":"))
    return json.dumps(update, indent=indent)


# one argument of a command line is capped at 128 KiB on Linux: past this, only a file works
MAX_INLINE_BYTES = 100_000
# the AWS CLI reads a parameter value that starts with these from a file or URL
CLI_PARAMFILE_PREFIXES = ("file://", "fileb://", "http://", "https://")


def update_job_command(plan: FixPlan, job_update: str, extra: dict[str, str | None]) -> str:
    """The full command, shell-quoted, pinned to the region (profile, endpoint) it was read from.
    `--job-name=NAME` in one word, so a name that starts with a dash stays a value."""
    parts = ["aws", "glue", "update-job", f"--job-name={plan.job}", "--region", plan.region]
    for flag, value in extra.items():
        if value:
            parts += [flag, value]
    parts += ["--job-update", job_update]
    return " ".join(shell_word(p) for p in parts)


HEREDOC_MARK = "ADVISOR_JOB_UPDATE"


def shell_command(plan: FixPlan, extra: dict[str, str | None]) -> str:
    """The update-job command for a shell. A payload with live secrets goes on stdin (a
    here-document the AWS CLI reads as file:///dev/stdin), never on the command line, where
    `ps` and the shell's history would show it."""
    payload = payload_json(plan.after)
    if not secret_values(plan.after):
        return update_job_command(plan, payload, extra)
    command = update_job_command(plan, "file:///dev/stdin", extra)
    return f"{command} <<'{HEREDOC_MARK}'\n{payload}\n{HEREDOC_MARK}"


def _shown(value: Any) -> str:
    if value is None:
        return "(unset)"
    return value if isinstance(value, str) else json.dumps(value)


def change_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """`field: old -> new` for what the payload changes, secrets masked."""
    lines = []
    keys = list(after) + [k for k in before if k not in after]
    for key in keys:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key in ARGUMENT_MAPS:
            old_map, new_map = old or {}, new or {}
            for name in list(new_map) + [n for n in old_map if n not in new_map]:
                if old_map.get(name) != new_map.get(name):
                    was = _shown(mask_argument(name, old_map.get(name)))
                    now = _shown(mask_argument(name, new_map.get(name)))
                    lines.append(f"{key} {name}: {was} -> {now}")
        else:
            lines.append(f"{key}: {_shown(mask_field(key, old))} -> {_shown(mask_field(key, new))}")
    return lines


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only (an existing file is chmodded first).
    Only a regular file with one name is written: never a device, a FIFO (which would block),
    a symlink or a hard link to some other file."""
    if path.is_symlink():
        raise OSError(f"{path} is a symbolic link")
    if path.exists() and not path.is_file():
        raise OSError(f"{path} is not a regular file")
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags, 0o600)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path} is not a regular file")
        if info.st_nlink > 1:
            raise OSError(f"{path} has other names (hard links): refusing to overwrite it")
        os.ftruncate(fd, 0)
        os.fchmod(fd, 0o600)
        handle = os.fdopen(fd, "w")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        handle.write(text)


def _summary(plan: FixPlan) -> list[str]:
    rules = ", ".join(p.rule_id for p in plan.composition.proposals)
    account = "" if plan.account == UNKNOWN_ACCOUNT else f"account {plan.account}, "
    lines = [f"Fix for {plan.label} ({rules}), from its live definition in {account}{plan.region}:"]
    lines += [f"  {line}" for line in change_lines(plan.before, plan.after)]
    kept = [k for k in plan.before if k in plan.after and plan.before[k] == plan.after[k]]
    if kept:
        lines.append(f"Kept as they are: {', '.join(kept)}")
    if plan.notes:
        lines.append("Notes:")
        lines += [f"  - {scrub(note, plan.after)}" for note in plan.notes]
    return lines


def _fail(message: str, code: int) -> None:
    click.echo(terminal_safe(f"advisor fix: {message}"), err=True)
    sys.exit(code)


def _warn(message: str) -> None:
    click.echo(terminal_safe(f"advisor fix: {message}"), err=True)


def _role_arn(_ctx: click.Context, _param: Any, value: str | None) -> str | None:
    from advisor.collect.accounts import is_role_arn

    if value is not None and not is_role_arn(value):
        raise click.BadParameter(f"{value!r} is not an IAM role ARN (arn:aws:iam::ID:role/NAME)")
    return value


def job_key(store: Store, ref: str, account: str | None, region: str | None) -> str:
    """The key of the job JOB names; exit 2 for an unknown or ambiguous name, or a key whose
    account or region is not --account's or --region's."""
    from advisor.cli import job_key_or_exit

    if store.job(ref) is not None:  # a key: its place is stated, options may only repeat it
        key_account, key_region, _name = split_key(ref)
        if region and key_region not in (region, UNKNOWN_REGION):
            _fail(
                f"--region {region} conflicts with {ref}, a job in {key_region}: "
                "leave --region out, or name the job in that region",
                2,
            )
        if account and key_account not in (account, UNKNOWN_ACCOUNT):
            _fail(
                f"--account {account} conflicts with {ref}, a job in account {key_account}: "
                "leave --account out, or name the job in that account",
                2,
            )
        return ref
    return job_key_or_exit(store, ref, account, region)


@click.command("fix")
@click.argument("job")
@click.option(
    "--rule",
    "rule_ids",
    multiple=True,
    metavar="RULE_ID",
    help="Only this rule's finding; repeatable (default: every open finding with a change).",
)
@format_option(
    "text",
    "json",
    "shell",
    help="text: what changes and the command; json: the JobUpdate alone; shell: the command.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the payload (json/text) or command (shell) here, mode 0600; stdout summarises.",
)
@db_option
@account_option(
    "The job's AWS account, when its name exists in several (the credentials must be for it)."
)
@click.option(
    "--region",
    metavar="R",
    help="The job's region, when its name exists in several; GetJob reads it there (default: "
    "the job's own region; a region that is not the job's is refused).",
)
@click.option("--profile", help="AWS profile (default: the standard credential chain).")
@click.option(
    "--role-arn",
    metavar="ARN",
    callback=_role_arn,
    help="Read the job through this role of its account (AssumeRole, read-only session "
    "glue-advisor-fix), when the credentials are for another account.",
)
@click.option("--endpoint-url", metavar="URL", help="Send GetJob here (moto, LocalStack).")
def fix_cmd(
    job: str,
    rule_ids: tuple[str, ...],
    fmt: str,
    out: Path | None,
    db: str | None,
    account: str | None,
    region: str | None,
    profile: str | None,
    role_arn: str | None,
    endpoint_url: str | None,
) -> None:
    """Print the complete, validated `aws glue update-job` that applies JOB's open findings.

    UpdateJob replaces the whole job definition, so the payload is built from the job's LIVE
    definition (GetJob) with the findings' changes applied: nothing else is lost or reset.
    The advisor itself never calls UpdateJob. JOB is a job name, or account/region/name when
    several accounts or regions have a job of that name (or use --account and --region).
    GetJob reads the job in its own region, and only with credentials of its own account
    (checked with sts:GetCallerIdentity; --role-arn assumes a role there).
    """
    db_path = load_config(db).db_path
    if not Path(db_path).exists():
        _fail(f"no store at {db_path}: run `advisor collect` or `advisor import` first", 2)
    if job.startswith(CLI_PARAMFILE_PREFIXES):
        _fail(f"the AWS CLI would read the job name {job!r} as a file or URL: use the SDK", 2)
    store = Store(db_path)
    try:
        key = job_key(store, job, account, region)
        name = glue_name(store, key)
        if name.startswith(CLI_PARAMFILE_PREFIXES):
            _fail(f"the AWS CLI would read the job name {name!r} as a file or URL: use the SDK", 2)
        plan = plan_fix(
            store,
            key,
            rule_ids=rule_ids,
            region=region,
            profile=profile,
            role_arn=role_arn,
            endpoint_url=endpoint_url,
            warn=_warn,
        )
    except FixAbort as exc:
        _fail(str(exc), exc.exit_code)
        return
    finally:
        store.close()

    job = label(key)
    if plan is None:
        scope = f" of rule {', '.join(rule_ids)}" if rule_ids else ""
        click.echo(terminal_safe(f"{job} has no open finding{scope} with a change to apply."))
        return
    if plan.problems:
        click.echo(
            terminal_safe(
                f"advisor fix: refusing to print a fix for {job}: the JobUpdate fails validation"
            ),
            err=True,
        )
        for problem in plan.problems:
            click.echo(terminal_safe(f"  - {problem}"), err=True)
        for note in plan.notes:
            click.echo(terminal_safe(f"  note: {scrub(note, plan.after)}"), err=True)
        sys.exit(2)
    if not plan.changed:
        click.echo(
            terminal_safe(f"{job}'s live definition already has every change its findings propose.")
        )
        return

    # the update runs as the job's account: with --role-arn (read-only) that is not --profile
    extra = {"--profile": None if role_arn else profile, "--endpoint-url": endpoint_url}
    command = shell_command(plan, extra)
    if out is None and fmt in ("json", "shell") and secret_values(plan.after) and _terminal():
        _fail(
            f"the JobUpdate of {plan.label} carries the job's live secret values "
            f"({len(secret_values(plan.after))}): not printed to a terminal; use --out FILE "
            "(mode 0600), or redirect the output to a file or a program",
            2,
        )
    if out is None and fmt == "shell" and len(command.splitlines()[0].encode()) > MAX_INLINE_BYTES:
        _fail(
            f"the update-job command would be {len(command.encode()):,} bytes, too long for one "
            "command line: use --out FILE (then --job-update file://FILE)",
            2,
        )
    if out is not None:
        _write_out(plan, out, fmt, command, extra)
    elif fmt == "json":
        click.echo(payload_json(plan.after, indent=2))
        _notes_to_stderr(plan)
    elif fmt == "shell":
        click.echo(terminal_safe(command))
        _notes_to_stderr(plan)
    else:
        reading = {"--profile": profile, "--role-arn": role_arn, "--endpoint-url": endpoint_url}
        _print_text(plan, extra, reading)
    if role_arn and (fmt != "text" or out is not None):
        click.echo(terminal_safe(f"note: {_run_as(plan)}"), err=True)


def _terminal() -> bool:
    try:
        return os.isatty(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # a captured stream has no descriptor
        return False


def _run_as(plan: FixPlan) -> str:
    return (
        f"run update-job with credentials of account {plan.account} allowed glue:UpdateJob "
        "(the role the advisor read the job through is used read-only)"
    )


def _notes_to_stderr(plan: FixPlan) -> None:
    for note in plan.notes:
        click.echo(terminal_safe(f"note: {scrub(note, plan.after)}"), err=True)


def _write_out(
    plan: FixPlan, out: Path, fmt: str, command: str, extra: dict[str, str | None]
) -> None:
    text = command + "\n" if fmt == "shell" else payload_json(plan.after, indent=2) + "\n"
    try:
        write_private(out, text)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}", 1)
    if fmt == "text":
        for line in _summary(plan):
            click.echo(terminal_safe(line))
    what = "update-job command" if fmt == "shell" else "JobUpdate"
    click.echo(
        terminal_safe(
            f"Wrote the {what} for {plan.label} to {out} (mode 0600; it holds live secrets)."
        )
    )
    if fmt != "shell":
        by_file = update_job_command(plan, f"file://{out.resolve()}", extra)
        click.echo("Run:")
        click.echo(terminal_safe(by_file))


def _print_text(
    plan: FixPlan, extra: dict[str, str | None], reading: dict[str, str | None]
) -> None:
    """What changes, and how to apply it. The payload itself is never printed here: it carries
    every live argument, and a secret the masking does not recognise must not reach a terminal
    or a log. --out writes it (mode 0600); --format json|shell print it for scripts."""
    for line in _summary(plan):
        click.echo(terminal_safe(line))
    file_name = "fix-update.json"
    options = ["--region", plan.region]
    for flag, value in reading.items():  # how this fix read the job, to read it again
        if value:
            options += [flag, value]
    for rule in sorted({p.rule_id for p in plan.composition.proposals}):
        options += ["--rule", rule]
    options += ["--out", file_name]
    # a name that starts with a dash must come after `--`, or it reads as an option; the
    # label is the key when another account or region has a job of this name
    again = ["advisor", "fix", *options, "--", argument_label(plan.key)]
    click.echo("Apply it (the JobUpdate holds the job's live arguments, so it goes to a file):")
    click.echo(terminal_safe(" ".join(shell_word(p) for p in again)))
    if reading.get("--role-arn"):
        click.echo(terminal_safe(f"then {_run_as(plan)}:"))
    click.echo(terminal_safe(update_job_command(plan, f"file://{file_name}", extra)))
