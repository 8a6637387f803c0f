"""The shared tables: people and roles, sites and rooms, on-call overrides, the audit log, the
outbox, inbound deliveries, WeCom response codes and deadlines; and the declarative base with
its naming convention and types. Every timestamp is UTC (see UTCDateTime)."""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Person(Base):
    """Someone the bot knows: seeded from the organisation file, kept in the database."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    locale: Mapped[str | None] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(32))
    company: Mapped[str | None] = mapped_column(String(128))
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    wecom_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the chat platform they last wrote from: their notices go there while it is served
    last_platform: Mapped[str | None] = mapped_column(String(16))

    roles: Mapped[list["RoleGrant"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )


class RoleGrant(Base):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    granted_at: Mapped[datetime]
    granted_by: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person] = relationship(back_populates="roles")


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(256))

    rooms: Mapped[list["Room"]] = relationship(back_populates="site", lazy="selectin")


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))

    site: Mapped[Site] = relationship(back_populates="rooms", lazy="joined")


class OncallOverride(Base):
    """Someone standing in on an on-call schedule for a period (a swap, a holiday)."""

    __tablename__ = "oncall_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")
    created_by: Mapped[Person] = relationship(foreign_keys=[created_by_id], lazy="joined")


class AuditEntry(Base):
    """One state change: who (person and platform identity), when, what, from where."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_label: Mapped[str] = mapped_column(String(128))
    platform: Mapped[str] = mapped_column(String(16))
    platform_user: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(128))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(48))
    old_state: Mapped[str | None] = mapped_column(String(24))
    new_state: Mapped[str | None] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OutboxMessage(Base):
    """A notice waiting to leave (or already sent) through one platform adapter."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # the message a platform reference names: a file shared in a card's thread finds its card
        Index("ix_outbox_external_ref", "external_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    platform: Mapped[str] = mapped_column(String(16))
    # where it goes (handlers.targets): person, channel, thread, response or replace
    target_kind: Mapped[str] = mapped_column(String(8))
    # the address: a user or channel id; "channel:ts" (thread); "channel response_url" (hooks)
    target: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str | None] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # the message's kind: text, card or file
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # "update" rows rewrite the message that the row ``replaces_id`` posted (a card changed)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    claim: Mapped[str | None] = mapped_column(String(32))  # the token of the current claim
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    external_ref: Mapped[str | None] = mapped_column(String(256))


class InboundEvent(Base):
    """A platform delivery already handled: retried deliveries with the same key are ignored."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(index=True)


class CardResponse(Base):
    """A WeCom card click's response code: it lets that user's card be updated once, for 72 h."""

    __tablename__ = "card_responses"
    __table_args__ = (Index("ix_card_response_card", "platform", "card_ref", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    card_ref: Mapped[str] = mapped_column(String(128))  # WeCom's task_id
    user_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class Deadline(Base):
    """A durable timer: a due time, a kind the domain knows how to fire, and its subject."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadline_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
