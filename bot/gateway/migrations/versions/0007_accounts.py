"""Accounts (issue 17): an account can be disabled (kept, but unable to sign in), and each has a most
chats at once set by staff (max_chats) and the number its adviser chose up to that (chats).

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("max_chats", sa.Integer, nullable=False, server_default="2"))
        batch.add_column(sa.Column("chats", sa.Integer, nullable=False, server_default="2"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("chats")
        batch.drop_column("max_chats")
        batch.drop_column("disabled")
