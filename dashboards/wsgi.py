"""WSGI entry point for serving the dashboard with a production server, e.g.

    export ADVISOR_DB=/srv/advisor/advisor.db
    gunicorn --workers 2 --bind 127.0.0.1:8050 dashboards.wsgi:server

The store is opened per request (read only by the app), so several workers may share it.
"""

from __future__ import annotations

import os

from advisor.store import resolve_db_path
from dashboards.app import create_app

server = create_app(resolve_db_path(os.environ.get("ADVISOR_DB"))).server
