"""Revision 0004: usage has its own counter, so gateway traffic does not invalidate cached lists."""

from __future__ import annotations

from flashback_tui.server.migrations.run import legacy_revision

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply SQLite's script 4 (on PostgreSQL, only revision 1 creates anything)."""
    legacy_revision(4)
