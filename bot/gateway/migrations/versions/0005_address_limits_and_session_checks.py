"""Security review (issue 16): limits per client address and console sockets that end with their session.

- conversations.address_key: a keyed hash of the family's address (one queue place per address);
- conversations.closed: the family ended the chat ("End chat and clear"), never resumed;
- rate_events: new chats per address, shared by every gateway;
- adviser_sessions.seen_at: the idle timeout, checked for console sockets as well as requests;
- adviser_sockets.session_id: which session opened each console socket;
- an index on audit.conversation_id (who took part in a chat).

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("address_key", sa.String(64)))
        batch.add_column(sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("conversations_by_address", "conversations", ["address_key"])
    with op.batch_alter_table("adviser_sessions") as batch:
        batch.add_column(sa.Column("seen_at", sa.Float))
    with op.batch_alter_table("adviser_sockets") as batch:
        batch.add_column(sa.Column("session_id", sa.String(64)))
    op.create_table(
        "rate_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("at", sa.Float, nullable=False),  # the gateway's wall clock, seconds
    )
    op.create_index("rate_events_by_key", "rate_events", ["key", "at"])
    op.create_index("rate_events_by_time", "rate_events", ["at"])
    op.create_index("audit_by_conversation", "audit", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("audit_by_conversation", "audit")
    op.drop_table("rate_events")
    with op.batch_alter_table("adviser_sockets") as batch:
        batch.drop_column("session_id")
    with op.batch_alter_table("adviser_sessions") as batch:
        batch.drop_column("seen_at")
    op.drop_index("conversations_by_address", "conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("closed")
        batch.drop_column("address_key")
