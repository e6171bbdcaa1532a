"""Stretch goals: amounts above a project's goal, shown as a ladder and reached once each."""
