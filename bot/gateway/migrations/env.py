"""Alembic environment for the gateway store. bot/gateway/migrate.py runs it at start with a live
connection (config.attributes["connection"]); `alembic -c bot/gateway/alembic.ini ...` also works
and reads GATEWAY_DB_URL."""
from alembic import context
import sqlalchemy as sa

from bot import settings as settings_mod

config = context.config
connection = config.attributes.get("connection")


def run(conn) -> None:
    context.configure(connection=conn, target_metadata=None, render_as_batch=conn.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    engine = sa.create_engine(settings_mod.load().gateway_db_url, future=True)
    with engine.connect() as conn:
        run(conn)
