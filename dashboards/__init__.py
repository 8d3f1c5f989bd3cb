"""The Dash web app: fleet overview, jobs, one job, findings (see dashboards/app.py)."""
