"""The AWS Glue job script for advisor/spark_reduce.py (docs/spark-reduce.md).

Glue runs a script file and passes job parameters as `--name value` pairs, with its own among
them (--JOB_NAME, --JOB_RUN_ID, --TempDir, ...), never positional arguments: this maps
--input_path, --output_path and --split_bytes onto the same main() `python -m
advisor.spark_reduce` runs, and ignores the rest. Upload this file as the job's script; the
package itself comes from --additional-python-modules.

Damaged logs do not fail the job run: their lines' `problems` say what was skipped, and a
failed run would be retried and reduce everything again.
"""

from __future__ import annotations

import argparse
import sys

from advisor import spark_reduce


def spark_reduce_argv(glue_argv: list[str]) -> list[str]:
    """spark_reduce's arguments from the ones Glue gives the script."""
    parser = argparse.ArgumentParser(prog="spark_reduce_glue.py", allow_abbrev=False)
    parser.add_argument("--input_path", required=True, help="s3:// prefix of event logs")
    parser.add_argument("--output_path", required=True, help="s3:// prefix for the facts")
    parser.add_argument("--split_bytes", type=int, help="see --split-bytes")
    args, _glue_own = parser.parse_known_args(glue_argv)
    argv = [args.input_path, args.output_path]
    if args.split_bytes is not None:
        argv += ["--split-bytes", str(args.split_bytes)]
    return argv


def main(glue_argv: list[str] | None = None) -> int:
    code = spark_reduce.main(spark_reduce_argv(sys.argv[1:] if glue_argv is None else glue_argv))
    return 0 if code == 4 else code  # 4: some logs were damaged, which the facts record


if __name__ == "__main__":
    sys.exit(main())
