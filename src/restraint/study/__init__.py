"""restraint.study."""
