"""Settlement: after the deadline, pay the creator (minus the fee) or refund every backer."""
