"""The typed async client for the Flashback AI LLM API and its wire models."""
