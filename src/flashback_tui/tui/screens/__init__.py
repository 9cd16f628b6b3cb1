"""Screens of the TUI, one module per screen."""
