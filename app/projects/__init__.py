"""Projects: drafts, review, launch and public pages."""
