"""Sales: orders in (ingestion, attribution, batches), the coordinator's order list, each
session's stats against capacity, the big screen, and the post-live review."""
