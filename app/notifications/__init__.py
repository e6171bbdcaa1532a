"""Notifications: e-mails to creators and backers when a project ends, through an outbox.

``services`` adds outbox rows inside the transaction that changes the state, so a message
exists exactly when the change committed; ``sender`` delivers them afterwards, in batches,
and survives restarts: an unsent row is simply still there.
"""
