"""Operations: notices and their email, the reminders and the morning summary, the
scheduler's jobs and records, health, backups."""
