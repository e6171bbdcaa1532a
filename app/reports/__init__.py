"""Reports: signed-in people tell the moderators about a project that breaks the rules."""
