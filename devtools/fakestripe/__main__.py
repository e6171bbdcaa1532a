"""Command line: python -m devtools.fakestripe [--host 127.0.0.1] [--port 8420]."""

import argparse
import logging

from aiohttp import web

from .app import build_app


def main():
    """Parse the options and serve until interrupted."""
    parser = argparse.ArgumentParser(description="Fake Stripe API for development and tests.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    web.run_app(build_app(), host=args.host, port=args.port, print=print)


if __name__ == "__main__":
    main()
