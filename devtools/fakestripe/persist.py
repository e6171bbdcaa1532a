"""--state FILE: keep the whole fake Stripe across restarts.

Loaded once at start if FILE exists; saved atomically (a temporary file, then ``os.replace``)
at shutdown (SIGTERM, SIGINT) and, while running, at most every few seconds and only when
something changed. Nothing is written on each request: localstripe pickling its store on every
write was what made it slow.

The file is a pickle of localstripe's store (every object: customers, intents, charges,
refunds, events, and fakestripe's accounts, account links, transfers, reversals), the
balance, the idempotency keys, the registered webhooks, pending faults and the request log.
Webhook deliveries not yet made when the server stops are not kept. Only load files this
tool wrote: unpickling runs code.
"""

import asyncio
import contextlib
import logging
import os
import pickle
import tempfile
import time
from pathlib import Path

from aiohttp import web
from localstripe import resources as r
from localstripe import webhooks

from . import core
from .middleware import state

FORMAT = "fakestripe-state-1"
UNCHANGING = frozenset({"GET", "HEAD", "OPTIONS"})
log = logging.getLogger("fakestripe.state")


class StateError(Exception):
    """The state file exists but cannot be loaded."""


def snapshot():
    """Everything the server knows, as one picklable dict (one pickle keeps shared objects)."""
    return {
        "format": FORMAT,
        "saved_at": time.time(),
        "store": dict(r.store),
        "available": dict(core.ledger.available),
        "pending": dict(core.ledger.pending),
        "maturing": list(core.ledger.maturing),
        # Requests still running have no response to replay yet: Stripe forgets those too.
        "idempotency": {k: e for k, e in state.idempotency.items() if e["status"] is not None},
        "webhooks": dict(webhooks._webhooks),
        "faults": list(state.faults),
        "requests": list(state.requests),
    }


def restore(data):
    """Replace the server's state with a snapshot."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateError("not a fakestripe state file (or from another version)")
    dict.clear(r.store)
    dict.update(r.store, data["store"])  # plain dict methods: no localstripe write hooks
    core.reset()
    core.ledger.available.update(data["available"])
    core.ledger.pending.update(data["pending"])
    core.ledger.maturing = list(data.get("maturing", []))  # a heap already
    state.reset()
    state.idempotency.update(data["idempotency"])
    state.faults.extend(data["faults"])
    state.requests.extend(data["requests"])
    webhooks._webhooks.clear()
    webhooks._webhooks.update(data["webhooks"])


def write_atomically(path, payload):
    """Write bytes to path so that a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class StateFile:
    """The state file of one server: load at start, save when changed and at shutdown."""

    def __init__(self, path, every=5.0):
        self.path = Path(path)
        self.every = every
        self.dirty = False

    def mark(self, *args):
        """Something changed: the next periodic save writes it."""
        self.dirty = True

    def load(self):
        """Load the file if it exists; True if it did."""
        try:
            payload = self.path.read_bytes()
        except FileNotFoundError:
            return False
        try:
            restore(pickle.loads(payload))  # noqa: S301 - a file this tool wrote
        except Exception as error:
            raise StateError(
                f"cannot load the fake Stripe state from {self.path}: {error}."
                " Delete the file to start empty."
            ) from error
        return True

    def save(self):
        """Write the current state now (synchronously: it is consistent, no request runs)."""
        self.dirty = False
        try:
            write_atomically(self.path, pickle.dumps(snapshot(), pickle.HIGHEST_PROTOCOL))
        except Exception:
            self.dirty = True
            raise

    @web.middleware
    async def track(self, request, handler):
        """Any request that may write marks the state as changed (reads do not)."""
        try:
            return await handler(request)
        finally:
            if request.method not in UNCHANGING:
                self.dirty = True

    async def _save_periodically(self):
        while True:
            await asyncio.sleep(self.every)
            if self.dirty:
                try:
                    self.save()
                except Exception:
                    log.exception("could not save the state to %s", self.path)

    async def lifetime(self, app):
        """aiohttp cleanup context: the periodic saver while serving, a last save at exit."""
        task = asyncio.create_task(self._save_periodically())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self.save()
        log.info("fakestripe: state saved to %s", self.path)


def install(app, path, every=5.0):
    """Load the state from path (if it exists) and keep it saved; call before serving."""
    state_file = StateFile(path, every)
    if state_file.load():
        log.info("fakestripe: state loaded from %s (%d objects)", path, len(r.store))
    # localstripe calls dump_to_disk on every store write; here it only marks a change (this
    # also catches writes made outside requests, e.g. by delayed payment callbacks).
    r.Store.dump_to_disk = state_file.mark
    app.middlewares.insert(0, state_file.track)
    app.cleanup_ctx.append(state_file.lifetime)
    return state_file
