"""Pages of the park: logging in and one's account, rooms, tenants."""
