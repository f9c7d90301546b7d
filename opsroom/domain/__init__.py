"""Pure domain rules of opsroom: intervals, open hours, booking shape, recurrence, availability, money."""
