"""Pages of bookings: the board, a booking (book, move, confirm, cancel), its anchors and
lineup, and an anchor's calendar feed."""
