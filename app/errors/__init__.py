"""Error pages that answer HTML or JSON and never show internals."""
