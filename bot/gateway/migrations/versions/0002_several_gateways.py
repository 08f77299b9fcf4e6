"""Several gateways on one database: delivery leases, adviser presence, shared login throttling.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        # The gateway sending this conversation's pending messages to Rasa, and until when.
        batch.add_column(sa.Column("delivery_owner", sa.String(96)))
        batch.add_column(sa.Column("delivery_until", sa.DateTime(timezone=True)))
    op.create_table(
        "adviser_sockets",
        sa.Column("sid", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("instance", sa.String(96), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("adviser_sockets_by_user", "adviser_sockets", ["username"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("at", sa.Float, nullable=False),  # the gateway's wall clock, seconds
    )
    op.create_index("login_failures_by_key", "login_failures", ["key", "at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("adviser_sockets")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("delivery_until")
        batch.drop_column("delivery_owner")
