"""The local Flashback-compatible platform: FastAPI + SQLite."""
