"""The Dash web app (overview, jobs, job and findings pages): a later milestone."""
