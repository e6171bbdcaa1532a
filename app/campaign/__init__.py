"""A live or ended campaign seen over time: the funding series kept as pledges are held,
changed and cancelled, the creator's dashboard and the public funding chart drawn from it."""
