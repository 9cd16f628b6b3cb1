"""Revision 0007: daily usage kept for ever beside the pruned minutes."""

from __future__ import annotations

from flashback_tui.server.migrations.run import legacy_revision

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply SQLite's script 7 (on PostgreSQL, only revision 1 creates anything)."""
    legacy_revision(7)
