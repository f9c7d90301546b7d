"""The park: rooms and their blackouts, tenants, users with their passwords, tokens and logins."""
