"""The one shape of every step that talks to Stripe (or to the mail server).

The ritual, everywhere: (1) a short transaction writes what is about to happen (a pending
payment or refund row, with its idempotency key) and reads what the call needs; it commits.
(2) The outside service is called with no transaction open (the gateway refuses otherwise).
(3) A short transaction records the answer with a conditional UPDATE, so that a browser
return, a webhook and a sweep can all report the same payment and it still counts once; it
commits. A crash between the steps leaves a pending row that a sweep finishes later with the
same key.

``step`` is that ritual; ``transaction`` is one of its short transactions on its own, for the
workflows whose parts are not one call (a loop of calls, a call only on some paths). Commits
in ``app/`` happen here and at the edges (a view, a CLI command, a scheduler job), nowhere
else: ``tests/platform/test_layers.py`` fails otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from app.extensions import db

Prepared = TypeVar("Prepared")
Answer = TypeVar("Answer")
Result = TypeVar("Result")


@contextmanager
def transaction() -> Iterator[None]:
    """One short transaction: committed if the block ends normally, rolled back if it raises
    (the exception goes on)."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def step(
    prepare: Callable[[], Prepared],
    call: Callable[[Prepared], Answer],
    record: Callable[[Prepared, Answer], Result],
) -> Result:
    """Write the intent and read what the call needs (``prepare``), commit; make the call with
    no transaction open (``call``, which turns the service's errors it expects into answers);
    record the answer (``record``), commit. Returns what ``record`` returns."""
    with transaction():
        prepared = prepare()
    answer = call(prepared)
    with transaction():
        return record(prepared, answer)
