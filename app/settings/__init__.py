"""The signed-in user's settings: a small area with its own navigation (sessions so far)."""
