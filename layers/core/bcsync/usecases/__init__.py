"""Use cases: each one job, written against ports so the same code serves every path."""
