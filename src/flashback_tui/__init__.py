"""flashback-tui: a terminal UI, CLI and local platform for Flashback AI LLM configurations."""

__version__ = "0.1.0"

#: How the client and the local platform's probes name themselves to servers.
USER_AGENT = f"flashback-tui/{__version__}"
