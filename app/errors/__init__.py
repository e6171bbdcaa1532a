"""Error pages that answer HTML or JSON and never show internals."""


class UserError(Exception):
    """An action refused by a business rule; its message is written for the user.

    Raised from services; the error handler rolls back, shows the message, and sends the
    user back to the page they came from.
    """
