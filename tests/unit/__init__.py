"""Tests of memfix's modules on strings and small trees."""
