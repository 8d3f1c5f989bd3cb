"""Which job a user means: `name`, `account/region/name`, or a name with --account/--region.

A name that jobs in several accounts or regions share is ambiguous: the user is told each
place, and how to name the one they mean.
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.identity import split_key
from advisor.store import Store


@dataclass
class JobNotFound(LookupError):
    ref: str
    hint: str = ""

    def __str__(self) -> str:
        return f"no job {self.ref!r} in the store{self.hint}"


@dataclass
class AmbiguousJob(LookupError):
    ref: str
    keys: list[str]

    def __str__(self) -> str:
        places = "\n".join(f"  {key}" for key in self.keys)
        return (
            f"{self.ref!r} names {len(self.keys)} jobs, in more than one account or region:\n"
            f"{places}\nname one as account/region/name, or add --account and --region"
        )


def resolve_job(
    store: Store, ref: str, account: str | None = None, region: str | None = None
) -> str:
    """The key of the job `ref` names; JobNotFound or AmbiguousJob otherwise."""
    if store.job(ref) is not None:  # a key, as every output prints it when names clash
        ref_account, ref_region, _name = split_key(ref)
        if account in (None, ref_account) and region in (None, ref_region):
            return ref
    matches = [
        job["name"]
        for job in store.jobs_named(ref)
        if account in (None, job["account"]) and region in (None, job["region"])
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise AmbiguousJob(ref, matches)
    elsewhere = [job["name"] for job in store.jobs_named(ref)]
    hint = f" in {account or 'any account'}/{region or 'any region'}" if elsewhere else ""
    if elsewhere:
        hint += "; it exists as " + ", ".join(elsewhere)
    raise JobNotFound(ref, hint)
