"""Rules about Flashback objects shared by the TUI, the CLI and the local platform."""
