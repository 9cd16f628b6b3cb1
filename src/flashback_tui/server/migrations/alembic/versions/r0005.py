"""Revision 0005: the v2 contract (roles, repositories, keys, policies, events)."""

from __future__ import annotations

from flashback_tui.server.migrations.run import legacy_revision

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply SQLite's script 5 (on PostgreSQL, only revision 1 creates anything)."""
    legacy_revision(5)
