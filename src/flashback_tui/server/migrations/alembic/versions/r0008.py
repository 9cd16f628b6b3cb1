"""Revision 0008: what replicas on one database must share, kept in the database.

``login_failures`` holds the failed sign-ins of each (email, client address) pair, so a
lockout holds on every replica (see :mod:`flashback_tui.server.throttle`).
``usage_conversations`` remembers each conversation already counted in a minute or a day for
its configuration, repository and key, so a conversation whose calls reach several replicas
is counted once (see :mod:`flashback_tui.server.store.usage`). Both are portable tables
(SQLAlchemy types: BIGINT on PostgreSQL, INTEGER affinity on SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``login_failures`` and ``usage_conversations``."""
    op.create_table(
        "login_failures",
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("failures", sa.BigInteger, nullable=False),
        sa.Column("first_at_ms", sa.BigInteger, nullable=False),
        sa.Column("locked_until_ms", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("email", "address"),
        sqlite_with_rowid=False,
    )
    op.create_index("login_failures_by_first_at", "login_failures", ["first_at_ms"])
    op.create_table(
        "usage_conversations",
        sa.Column("span_ms", sa.BigInteger, nullable=False),
        sa.Column("period", sa.BigInteger, nullable=False),
        sa.Column("ai_llm_id", sa.Text, nullable=False),
        sa.Column("repo_id", sa.Text, nullable=False),
        sa.Column("repo_ai_api_key_id", sa.Text, nullable=False),
        sa.Column("conversation_uuid", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("span_ms", "period", "ai_llm_id", "repo_id",
                                "repo_ai_api_key_id", "conversation_uuid"),
        sqlite_with_rowid=False,
    )
