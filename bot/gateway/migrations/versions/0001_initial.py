"""The gateway store as first released: conversations, messages, users, canned responses, feedback, audit.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("adviser", sa.String(64)),
        sa.Column("queued_at", sa.DateTime(timezone=True)),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("topic", sa.String(64)),
        sa.Column("council", sa.String(128)),
        sa.Column("stage", sa.String(64)),
        sa.Column("next_seq", sa.Integer, nullable=False),
    )
    op.create_index("conversations_by_state", "conversations", ["state"])
    op.create_table(
        "messages",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("sender", sa.String(10), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("payload", sa.Text),
        sa.Column("buttons", sa.Text),
        sa.Column("adviser", sa.String(64)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("ask_feedback", sa.Boolean, nullable=False),
        sa.Column("client_id", sa.String(64)),
        sa.Column("pending", sa.Boolean, nullable=False),
        sa.UniqueConstraint("conversation_id", "seq"),
        sa.UniqueConstraint("conversation_id", "client_id"),
    )
    op.create_index("messages_by_conversation", "messages", ["conversation_id", "seq"])
    op.create_index("messages_pending", "messages", ["pending", "conversation_id"])
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("available", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(64)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "feedback",
        sa.Column("message_id", sa.String(40), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(64)),
        sa.Column("detail", sa.Text),
    )


def downgrade() -> None:
    for table in ("audit", "feedback", "canned_responses", "users", "messages", "conversations"):
        op.drop_table(table)
