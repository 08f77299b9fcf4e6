"""Console sessions recorded on the server, so logging out ends a session even for a copy of its cookie.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adviser_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),  # the gateway's wall clock, seconds
        sa.Column("ended", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("adviser_sessions_by_user", "adviser_sessions", ["username"])


def downgrade() -> None:
    op.drop_table("adviser_sessions")
