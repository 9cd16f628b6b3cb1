"""Revision 0003: a counter that every change of listed data bumps (cached answers)."""

from __future__ import annotations

from flashback_tui.server.migrations.run import legacy_revision

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply SQLite's script 3 (on PostgreSQL, only revision 1 creates anything)."""
    legacy_revision(3)
