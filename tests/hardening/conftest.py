"""Fixtures shared by the hardening tests (fuzzing, property, fault injection, abuse)."""
