"""People and goods (人、货): anchors, their assignments to sessions, products and lineups."""
