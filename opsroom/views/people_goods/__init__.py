"""Pages of people and goods: anchors, products, and an anchor's own phone pages."""
