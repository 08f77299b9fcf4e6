"""Rasa's SQL tracker store, made safe for a database that restarts (deploy/endpoints.yml uses it).

Rasa 3.6 wraps every tracker store in a FailSafeTrackerStore, which turns any error while reading a
conversation into "no such conversation". Rasa then starts a fresh tracker, answers the message as if
it were the first one, and saves it with SQLTrackerStore's count-based "new events" logic, which skips
as many events as the database already holds for that conversation. After a PostgreSQL restart (the
first query on a pooled connection fails) this answered a family out of context and wrote bot answers
into their conversation without the message they answered (seen in tests/test_prod_shape_faults.py).

This store:
- checks pooled connections before use (`pool_pre_ping`), so a restart costs nothing once the
  database is back;
- while the database is unreachable, raises TrackerStoreUnavailable, which is a BaseException so the
  FailSafe wrapper and the REST channel do not swallow it: the request fails, nothing is answered or
  saved, and the gateway keeps the family's message and sends it again (bot/gateway/conversations.py).
"""
from __future__ import annotations

from typing import Any, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker


class TrackerStoreUnavailable(BaseException):
    """The tracker store could not be read or written: fail the request rather than guess."""


class StrictSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        options = dict(create_engine_kwargs(url), pool_pre_ping=True)
        self.engine.dispose()
        self.engine = sa.create_engine(url, **options)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        try:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        except sa.exc.SQLAlchemyError as error:
            raise TrackerStoreUnavailable(f"cannot read conversation {sender_id}: {error}") from error

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await super().save(tracker)
        except sa.exc.SQLAlchemyError as error:
            raise TrackerStoreUnavailable(f"cannot save conversation {tracker.sender_id}: {error}") from error
