"""Rules about Flashback objects that the TUI and the CLI share (no UI, no I/O)."""
