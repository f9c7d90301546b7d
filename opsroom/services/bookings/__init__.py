"""Bookings (场次): the rules of one booking, what is free, create, move, the life of a
booking (confirm, cancel, check in, the sweepers), and the booking board."""
