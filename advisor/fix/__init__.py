"""`advisor fix`: a complete, validated `aws glue update-job` payload built from a job's LIVE
definition with its open findings' changes applied.

UpdateJob replaces the whole job definition, so a fix must start from what GetJob returns now,
never from the stored (redacted, possibly stale) copy: a field left out would be reset.
"""
