"""Subcommands of the flashback-tui command line, one module per area."""
