"""restraint.game."""
