"""The results of a run: the ledger that keeps every measurement, the resolver that decides where each point's
comes from, and saving them."""
