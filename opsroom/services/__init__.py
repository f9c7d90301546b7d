"""Use cases. Each function takes the SQLAlchemy session and the acting user,
applies the rules and decides the transaction boundary."""
