"""Comments on a project (and on its updates): backers, the creator and staff talk in public."""
