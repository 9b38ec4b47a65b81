"""Fuzz and property tests."""
