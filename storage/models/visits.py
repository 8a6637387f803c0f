"""A machine-room visit request and its visitor-log record."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, Person, Room


class Visit(Base):
    """A machine-room visit request (访问申请) and its visitor-log record."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    responsible_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    visitor_name: Mapped[str] = mapped_column(String(128))
    company: Mapped[str] = mapped_column(String(128))
    contact: Mapped[str] = mapped_column(String(64))
    id_type: Mapped[str] = mapped_column(String(32))
    id_last4: Mapped[str] = mapped_column(String(4))
    certificates: Mapped[str | None] = mapped_column(String(256))
    task: Mapped[str] = mapped_column(Text)
    tools: Mapped[list[Any]] = mapped_column(default=list)
    start_at: Mapped[datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    fault_ref: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # check-in (进入机房)
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    access_card: Mapped[str | None] = mapped_column(String(32))
    tools_in: Mapped[list[Any] | None] = mapped_column(JSON)
    # check-out (离开机房)
    checked_out_at: Mapped[datetime | None]
    checked_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    tools_out: Mapped[list[Any] | None] = mapped_column(JSON)
    tools_missing: Mapped[list[Any] | None] = mapped_column(JSON)
    card_returned_at: Mapped[datetime | None]

    requester: Mapped[Person] = relationship(foreign_keys=[requester_id], lazy="joined")
    responsible: Mapped[Person] = relationship(foreign_keys=[responsible_id], lazy="joined")
    room: Mapped[Room] = relationship(lazy="joined")
