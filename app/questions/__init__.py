"""A project's FAQ, kept by its creator, and the questions visitors ask the creator privately."""
