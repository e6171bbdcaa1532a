"""Event envelopes as the API version the installed stripe SDK pins sends them.

``api_version`` is that version, ``pending_webhooks`` counts the endpoints still to answer,
``request`` names the API request that caused the event (``{id: null, idempotency_key: null}``
for automatic ones), and ``*.updated`` events carry ``data.previous_attributes``.
"""

from localstripe import resources as r

from .core import current_request, diff, endpoints_for, settings

_update = r.StripeObject._api_update.__func__


def event_init(self, type, data):
    """localstripe's Event with the envelope fields of today's Stripe."""
    r.StripeObject.__init__(self)
    self.type = type
    expand = None
    if getattr(data, "object", None) == "charge" and settings.charge_refunds_in_events:
        expand = ["refunds"]  # kept for the platform's charge.refunded handler (for now)
    exported = data._export(expand=expand) if expand else data._export()
    self.data = {"object": exported}
    before = getattr(data, "_before_update", None)
    if before is not None:
        del data._before_update
        if type.endswith(".updated"):
            self.data["previous_attributes"] = diff(before, exported)
    self.api_version = settings.api_version
    self.pending_webhooks = len(endpoints_for(type))
    request = current_request.get()
    self.request = dict(request) if request else {"id": None, "idempotency_key": None}


def update(cls, id, **data):
    """Updates keep the object as it was, for the *.updated event's previous_attributes."""
    obj = cls._api_retrieve(id)
    before = obj._export()
    obj = _update(cls, id, **data)
    obj._before_update = before
    return obj


r.Event.__init__ = event_init
r.StripeObject._api_update = classmethod(update)
