"""Updates: the creator's numbered news to backers (and, if public, to everyone), mailed once."""
