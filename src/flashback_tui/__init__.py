"""flashback-tui: a terminal UI, CLI and local platform for Flashback AI LLM configurations."""

__version__ = "0.1.0"
