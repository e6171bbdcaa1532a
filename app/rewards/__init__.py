"""Reward tiers of a project."""
