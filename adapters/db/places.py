"""Where each order lives on a chat platform (its channel or thread and its board message), and what was sent."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.db.connect import Database
from adapters.db.tables import ChatPlaceRow, ChatSendRow


@dataclass(frozen=True, slots=True)
class Place:
    platform: str
    order_id: str
    community_id: str
    channel_id: str
    board_ref: str
    archived: bool


class Places:
    """A small adapter-side store: written by the platform adapters, never by the core."""

    def __init__(self, database: Database, platform: str) -> None:
        self.database, self.platform = database, platform

    def get(self, order_id: str) -> Place | None:
        with Session(self.database.reader) as session:
            row = session.get(ChatPlaceRow, (self.platform, order_id))
            return None if row is None else _place(row)

    def of_orders(self, order_ids: list[str]) -> dict[str, Place]:
        with Session(self.database.reader) as session:
            rows = session.scalars(select(ChatPlaceRow).where(ChatPlaceRow.platform == self.platform,
                                                              ChatPlaceRow.order_id.in_(order_ids)))
            return {row.order_id: _place(row) for row in rows}

    def by_channel(self, channel_id: str) -> Place | None:
        with Session(self.database.reader) as session:
            row = session.scalars(select(ChatPlaceRow).where(ChatPlaceRow.platform == self.platform,
                                                             ChatPlaceRow.channel_id == channel_id)).first()
            return None if row is None else _place(row)

    def add(self, order_id: str, community_id: str, channel_id: str, at: datetime) -> Place:
        """Record an order's new channel; if one was recorded meanwhile, that one stands."""
        try:
            with Session(self.database.writer) as session, session.begin():
                session.add(ChatPlaceRow(platform=self.platform, order_id=order_id, community_id=community_id,
                                         channel_id=channel_id, board_ref="", archived=False, created_at=at))
        except IntegrityError:
            pass
        found = self.get(order_id)
        assert found is not None
        return found

    def set_board(self, order_id: str, board_ref: str) -> None:
        self._update(order_id, board_ref=board_ref)

    def set_archived(self, order_id: str) -> None:
        self._update(order_id, archived=True)

    def _update(self, order_id: str, **values: object) -> None:
        with Session(self.database.writer) as session, session.begin():
            session.execute(update(ChatPlaceRow).where(ChatPlaceRow.platform == self.platform,
                                                       ChatPlaceRow.order_id == order_id).values(**values))


def _place(row: ChatPlaceRow) -> Place:
    return Place(row.platform, row.order_id, row.community_id, row.channel_id, row.board_ref, row.archived)


SENDS_KEPT = timedelta(days=7)  # longer than the relay ever retries an event


class Sends:
    """The steps of showing an event that are done, each kept as it is done (adapter-side): a retry skips them."""

    def __init__(self, database: Database, platform: str) -> None:
        self.database, self.platform = database, platform

    def done(self, event_key: str) -> set[str]:
        with Session(self.database.reader) as session:
            return set(session.scalars(select(ChatSendRow.step).where(ChatSendRow.platform == self.platform,
                                                                     ChatSendRow.event_key == event_key)))

    def keep(self, event_key: str, steps: set[str], at: datetime) -> None:
        with Session(self.database.writer) as session, session.begin():
            session.execute(delete(ChatSendRow).where(ChatSendRow.at < at - SENDS_KEPT))
            known = set(session.scalars(select(ChatSendRow.step).where(ChatSendRow.platform == self.platform,
                                                                      ChatSendRow.event_key == event_key)))
            session.add_all(ChatSendRow(platform=self.platform, event_key=event_key, step=step, at=at)
                            for step in steps - known)
