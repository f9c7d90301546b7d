"""The month planner's services: the month read from the database into the
solver's input (`load`), runs solved outside the web request with their state in
the `plans` row (`runs`), and a draft accepted into ordinary bookings (`accept`).
The solver itself is pure: `opsroom/domain/planning/`."""
