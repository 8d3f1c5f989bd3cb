"""glue-advisor: cost, observability and tuning advice for AWS Glue jobs."""

__version__ = "0.1.0"
