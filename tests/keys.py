"""Keys of the sample fleet's jobs and runs (advisor/identity.py): tests that call library
functions name jobs and runs as the store keys them."""

from advisor.identity import job_key, run_key

SAMPLE_ACCOUNT = "123456789012"  # the account in the sample fleet's role ARNs
SAMPLE_REGION = "us-east-1"  # `advisor import`'s default region


def sample_job(name: str, account: str = SAMPLE_ACCOUNT, region: str = SAMPLE_REGION) -> str:
    return job_key(account, region, name)


def sample_run(run_id: str, account: str = SAMPLE_ACCOUNT, region: str = SAMPLE_REGION) -> str:
    return run_key(account, region, run_id)
