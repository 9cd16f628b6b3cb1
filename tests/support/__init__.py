"""Test support code shared across test packages: the loopback AI provider stand-in."""
