"""The settlement tests share the root conftest's fixtures (creator, project, backer, clock)."""
