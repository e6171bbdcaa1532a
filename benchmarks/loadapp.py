"""The WSGI app of the load test: the real app, with a simulated Stripe instead of the network.

    gunicorn -k gthread -w 2 --threads 32 benchmarks.loadapp:app

It is built like ``wsgi.py``, from the environment (``DATABASE_URL``, ``SECRET_KEY``, ...), and
then ``app.extensions["payments_gateway"]`` becomes ``devtools.simgateway.SimulatedGateway``
with the latency ``LOAD_GATEWAY_LATENCY`` (seconds per Stripe call, default 0.2) and no rate
limit on either side, so no request leaves the machine. ``LOAD_DB_POOL_SIZE`` and
``LOAD_DB_MAX_OVERFLOW`` size each worker's connection pool; ``LOAD_DB_PRE_PING=0`` turns off
the ping before each checkout (on by default, as in the app). ``benchmarks/load_pledges.py``
starts gunicorn on it; it is never used to serve the site.
"""

from __future__ import annotations

import os
import tempfile

from app import create_app
from devtools.simgateway import SimulatedGateway


def build():
    pool_size = int(os.environ.get("LOAD_DB_POOL_SIZE", "10"))
    overflow = int(os.environ.get("LOAD_DB_MAX_OVERFLOW", "0"))
    application = create_app(
        {
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": os.environ.get("LOAD_DB_PRE_PING", "1") == "1",
                "pool_size": pool_size,
                "max_overflow": overflow,
            }
        },
        instance_path=os.environ.get("LOAD_INSTANCE_PATH") or tempfile.mkdtemp(),
    )
    latency = float(os.environ.get("LOAD_GATEWAY_LATENCY", "0.2"))
    application.extensions["payments_gateway"] = SimulatedGateway(latency=latency, rate_limit=0)
    return application


app = build()
