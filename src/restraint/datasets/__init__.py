"""restraint.datasets."""
