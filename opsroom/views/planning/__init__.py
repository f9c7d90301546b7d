"""The month planner's pages."""
