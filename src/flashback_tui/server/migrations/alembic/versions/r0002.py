"""Revision 0002: repository AI API keys (only a digest of each secret) and workspace policies."""

from __future__ import annotations

from flashback_tui.server.migrations.run import legacy_revision

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply SQLite's script 2 (on PostgreSQL, only revision 1 creates anything)."""
    legacy_revision(2)
