"""Reporting: the rollups, keeping them in step, reading a report, exports, turned-away demand."""
