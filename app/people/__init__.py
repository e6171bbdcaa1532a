"""Public creator profiles: /people/<id>-<slug>, and the link to one from every creator name."""
