"""Revision 0006: deleted means gone (SQLite folds its WAL)."""

from __future__ import annotations

from flashback_tui.server.migrations.run import legacy_revision

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply SQLite's script 6 (on PostgreSQL, only revision 1 creates anything)."""
    legacy_revision(6)
