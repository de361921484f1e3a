"""Use cases over the store's unit of work: ingest, train, score, select, evaluate.

Workflows never commit: the edge (CLI command, API request) owns the transaction.
"""
