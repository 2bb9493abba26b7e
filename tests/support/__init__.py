"""Helpers shared by tests: local servers and processes that stand in for real services."""
