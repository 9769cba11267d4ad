"""Live RSS/Atom feeds: fetch admin-given URLs safely, parse feeds, extract articles."""
