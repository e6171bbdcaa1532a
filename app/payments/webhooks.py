"""The table of Stripe webhook handlers: each feature registers the events it answers.

``app.pledges.checkout.handle_event`` verifies nothing here: it deduplicates the event and
calls the handler registered for its type. A handler takes the event's ``data.object`` and
returns a short result (``None`` meaning "ok").
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[[dict], "str | None"]
HANDLERS: dict[str, Handler] = {}


def register(handlers: dict[str, Handler]) -> None:
    """Add a feature's handlers; an event type has one handler, whoever registers it."""
    for event_type, handler in handlers.items():
        known = HANDLERS.setdefault(event_type, handler)
        if known is not handler:
            raise ValueError(f"{event_type} already has a handler: {known.__qualname__}")
