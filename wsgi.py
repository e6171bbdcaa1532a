"""WSGI entry point: `gunicorn wsgi:app`.

A server started against a database whose migrations are not this code's stops here with one
line naming `flask db upgrade`. The `flask` command also loads this file (FLASK_APP=wsgi.py);
there the check is per command, so that `flask db upgrade` itself can run.
"""

import os

from app import create_app
from app.schema import require_current_schema

app = create_app()
if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
    require_current_schema(app)
