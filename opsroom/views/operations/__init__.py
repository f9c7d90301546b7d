"""Pages of operations: the inbox, and the admins' operations page."""
