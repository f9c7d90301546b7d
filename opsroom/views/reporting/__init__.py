"""The managers' reports page."""
