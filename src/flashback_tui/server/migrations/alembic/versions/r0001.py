"""Revision 0001: the whole initial SQLite schema (on PostgreSQL: all of revision 0007's)."""

from __future__ import annotations

from flashback_tui.server.migrations.run import legacy_revision

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply SQLite's script 1 (on PostgreSQL, only revision 1 creates anything)."""
    legacy_revision(1)
