"""WeCom's response codes: each lets one card be updated once, within 72 hours.

A code comes with the card's send (it updates the card for its recipients) and with every click
(it updates the clicker's card). They are kept in the database, because the click may reach one
server process and the update leave from another.
"""

from datetime import timedelta

from sqlalchemy import select, update

from handlers.clock import Clock
from storage.db import Database
from storage.models import CardResponse

LIFETIME = timedelta(hours=72)


class ResponseCodes:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def remember(self, task_id: str, user_id: str, code: str) -> None:
        with self.db.unit_of_work() as session:
            session.add(
                CardResponse(
                    platform="wecom",
                    card_ref=task_id,
                    user_id=user_id.lower(),
                    code=code,
                    received_at=self.clock.now(),
                )
            )

    def take(self, task_id: str, user_id: str) -> str | None:
        """The newest unused, unexpired code for this user's card, now marked used."""
        now = self.clock.now()
        with self.db.unit_of_work() as session:
            candidates = session.scalars(
                select(CardResponse)
                .where(
                    CardResponse.platform == "wecom",
                    CardResponse.card_ref == task_id,
                    CardResponse.user_id == user_id.lower(),
                    CardResponse.used_at.is_(None),
                    CardResponse.received_at > now - LIFETIME,
                )
                .order_by(CardResponse.received_at.desc(), CardResponse.id.desc())
            ).all()
            for row in candidates:
                taken = session.execute(
                    update(CardResponse)
                    .where(CardResponse.id == row.id, CardResponse.used_at.is_(None))
                    .values(used_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if taken:
                    return row.code
        return None

    def forget_expired(self) -> int:
        cutoff = self.clock.now() - LIFETIME
        with self.db.unit_of_work() as session:
            return session.execute(
                CardResponse.__table__.delete().where(CardResponse.received_at < cutoff)
            ).rowcount
