"""Moderation: the review queue, decisions with reasons, suspending live projects."""
