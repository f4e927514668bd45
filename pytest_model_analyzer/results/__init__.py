"""The results of a run: the ledger that owns every measurement and decides where each point's comes from."""
