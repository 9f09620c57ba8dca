"""Tests of restraint.study."""
