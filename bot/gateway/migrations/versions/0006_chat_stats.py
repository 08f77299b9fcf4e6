"""Reports (issue 17): chat_stats, one non-personal row per chat that outlives the 90-day transcripts.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_stats",
        sa.Column("id", sa.String(32), primary_key=True),  # a hash of the conversation id
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("in_hours", sa.Boolean),
        sa.Column("person_wanted_at", sa.DateTime(timezone=True)),
        sa.Column("person_wanted_why", sa.String(12)),
        sa.Column("handoffs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("queued_at", sa.DateTime(timezone=True)),
        sa.Column("wait_seconds", sa.Integer),
        sa.Column("left_queue", sa.String(12)),
        sa.Column("crisis", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("topic", sa.String(64)),
        sa.Column("council", sa.String(128)),
        sa.Column("answers", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unsure", sa.Integer, nullable=False, server_default="0"),
        sa.Column("helpful", sa.Integer, nullable=False, server_default="0"),
        sa.Column("not_helpful", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("chat_stats_by_start", "chat_stats", ["started_at"])


def downgrade() -> None:
    op.drop_index("chat_stats_by_start", "chat_stats")
    op.drop_table("chat_stats")
