"""Bring the gateway store's schema up to date with Alembic (bot/gateway/migrations/) at start.

Several gateways may start at once: on PostgreSQL they queue on an advisory lock, so one migrates
and the others find the schema already at head. A database made before migrations existed (tables,
no alembic_version) is stamped at the first revision, then upgraded.
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"
BASELINE = "0001"
LOCK_KEY = 7_020_515  # any constant shared by every gateway


def _config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    return ScriptDirectory.from_config(_config(None)).get_current_head()


def current(engine: sa.engine.Engine) -> str:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: sa.engine.Engine, target: str = "head") -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        tables = set(sa.inspect(connection).get_table_names())
        config = _config(connection)
        if "conversations" in tables and "alembic_version" not in tables:
            command.stamp(config, BASELINE)
        command.upgrade(config, target)
