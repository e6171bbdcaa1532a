"""Command line: python -m devtools.fakestripe [--host 127.0.0.1] [--port 8420] [--state FILE].

Money options: --fees (a schedule such as usd=2.9+30,eur=1.5+25, or none), --available-after
SECONDS (how long charged funds stay pending), --refund-failure-after SECONDS.
Connect: --verification-after SECONDS (how long Stripe checks submitted account details).
Webhook options: --webhook-retry SECONDS, --webhook-attempts N, --chaos [--chaos-seed N
--chaos-duplicates P --chaos-delays P --chaos-max-delay SECONDS].
"""

import argparse
import logging
import sys

from aiohttp import web

from . import persist
from .app import build_app
from .core import NO_FEES, settings


def parse_fees(text):
    """--fees usd=2.9+30,eur=1.5+25 (percent + fixed minor units), or none."""
    if text.strip().lower() == "none":
        return NO_FEES, True
    fees = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        currency, _, rule = part.partition("=")
        percent, _, fixed = rule.partition("+")
        fees[currency.strip().lower()] = {"percent": percent or "0", "fixed": fixed or 0}
    return fees, False


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
    parser.add_argument(
        "--fees",
        metavar="SCHEDULE",
        help="Stripe fees per currency as percent+fixed, e.g. usd=2.9+30,eur=1.5+25 (others keep"
        " Stripe's published card pricing), or none",
    )
    parser.add_argument(
        "--available-after",
        type=float,
        metavar="SECONDS",
        default=settings.available_after,
        help="how long a charge's funds stay pending (default 172800, Stripe's 2 days)",
    )
    parser.add_argument(
        "--refund-failure-after",
        type=float,
        metavar="SECONDS",
        default=settings.refund_failure_after,
        help="when a refund of the 4000000000005126 card fails (default 1)",
    )
    parser.add_argument(
        "--verification-after",
        type=float,
        metavar="SECONDS",
        default=settings.verification_after,
        help="how long Stripe checks a connected account's submitted details before enabling"
        " charges and payouts (default 5)",
    )
    parser.add_argument(
        "--webhook-retry",
        type=float,
        metavar="SECONDS",
        default=settings.webhook_retry,
        help="a webhook endpoint that fails is tried again after SECONDS, then twice as long"
        " each time (default 1)",
    )
    parser.add_argument(
        "--webhook-attempts",
        type=int,
        metavar="N",
        default=settings.webhook_attempts,
        help="attempts per event and endpoint before giving up (default 8)",
    )
    parser.add_argument(
        "--chaos",
        action="store_true",
        help="deliver some webhook events twice and hold some back so they arrive out of order",
    )
    parser.add_argument(
        "--chaos-seed",
        type=int,
        metavar="N",
        default=settings.chaos_seed,
        help="the seed of --chaos's draws (default 0): the same seed, the same chaos",
    )
    parser.add_argument(
        "--chaos-duplicates",
        type=float,
        metavar="P",
        default=settings.chaos_duplicates,
        help="with --chaos: the share of events delivered twice (default 0.1)",
    )
    parser.add_argument(
        "--chaos-delays",
        type=float,
        metavar="P",
        default=settings.chaos_delays,
        help="with --chaos: the share of events held back (default 0.1)",
    )
    parser.add_argument(
        "--chaos-max-delay",
        type=float,
        metavar="SECONDS",
        default=settings.chaos_max_delay,
        help="with --chaos: events held back wait 1/2 to 1 times SECONDS more (default 3)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        settings.update(
            {
                "available_after": args.available_after,
                "refund_failure_after": args.refund_failure_after,
                "verification_after": args.verification_after,
                "webhook_retry": args.webhook_retry,
                "webhook_attempts": args.webhook_attempts,
                "chaos": args.chaos,
                "chaos_seed": args.chaos_seed,
                "chaos_duplicates": args.chaos_duplicates,
                "chaos_delays": args.chaos_delays,
                "chaos_max_delay": args.chaos_max_delay,
            }
        )
        if args.fees:
            fees, replace = parse_fees(args.fees)
            settings.set_fees(fees, replace=replace)
    except Exception as error:
        message = error.body["error"]["message"] if hasattr(error, "body") else error
        sys.exit(f"fakestripe: {message}")
    settings.remember_startup()
    app = build_app()
    if args.state:
        try:
            persist.install(app, args.state, every=args.save_every)
        except persist.StateError as error:
            sys.exit(f"fakestripe: {error}")
    web.run_app(app, host=args.host, port=args.port, print=print)


if __name__ == "__main__":
    main()
