"""Pure rules shared by the local platform, the client, the CLI and the TUI (stdlib only)."""
