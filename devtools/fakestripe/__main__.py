"""Command line: python -m devtools.fakestripe [--host 127.0.0.1] [--port 8420] [--state FILE]."""

import argparse
import logging
import sys

from aiohttp import web

from . import persist
from .app import build_app


def main():
    """Parse the options and serve until interrupted."""
    parser = argparse.ArgumentParser(description="Fake Stripe API for development and tests.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="load everything from FILE at start if it exists, save it there at shutdown"
        " (SIGTERM, SIGINT) and every few seconds when something changed",
    )
    parser.add_argument(
        "--save-every",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="with --state: the longest time a change waits to be saved (default 5)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = build_app()
    if args.state:
        try:
            persist.install(app, args.state, every=args.save_every)
        except persist.StateError as error:
            sys.exit(f"fakestripe: {error}")
    web.run_app(app, host=args.host, port=args.port, print=print)


if __name__ == "__main__":
    main()
