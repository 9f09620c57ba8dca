"""restraint.sources."""
