"""The local Flashback-compatible platform: FastAPI + SQLite or PostgreSQL."""
